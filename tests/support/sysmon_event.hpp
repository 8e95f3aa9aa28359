// Whether a policy (YAML text) reports one Sysmon registry event, decided through replay's own
// mapping of the event (as `hivewarden replay` does): the importers' tests ask this of the policy
// they write.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "files.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/replay/event.hpp"

namespace hivewarden::test {

inline replay::RegistryEvent sysmon_event(
    const char* type, const char* target, const char* details,
    const char* image = "C:\\Windows\\System32\\svchost.exe") {
  replay::RegistryEvent e;
  e.event_type = type;
  e.target_object = target;
  e.details = details;
  e.image = image;
  return e;
}

// The decision on the event (kNoMatch with a test failure when the policy or the event is bad).
inline Decision decide_event(const std::string& policy_yaml, const replay::RegistryEvent& event) {
  const TempDir dir("one-policy");
  auto session = cli::open_policy_session(dir.write("policy.yaml", policy_yaml).string());
  EXPECT_TRUE(session) << policy_yaml;
  std::string why;
  auto mapped = replay::map_event(event, why);
  EXPECT_TRUE(mapped) << why;
  if (!session || !mapped) return {};
  cli::OperationInput input;
  input.operation = std::move(*mapped);
  return cli::decide_operation(*session, input).decision;
}

inline bool policy_reports(const std::string& policy_yaml, const replay::RegistryEvent& event) {
  return decide_event(policy_yaml, event).notify != NotifyMode::kNone;
}

}  // namespace hivewarden::test
