// `hivewarden run` on the bundled samples: real statuses and decisions, line by line.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/child_process.hpp"
#include "../support/files.hpp"

namespace hivewarden {
namespace {

TEST(RunCommand, SamplesGiveRealStatusesAndDecisions) {
  const std::string src = HIVEWARDEN_SOURCE_DIR;
  const test::TempDir dir("run-command");
  const test::ChildRun run = test::run_hivewarden(
      {"run", "--registry", src + "/samples/start.reg", "--ops", src + "/samples/run-ops.jsonl"},
      {.stdout_path = (dir / "out.jsonl").string()});
  std::vector<nlohmann::json> lines;
  std::istringstream out(run.out);
  for (std::string line; std::getline(out, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(run.signal, 0);
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(lines.size(), 8u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"access-denied", "tamper-protection"},
      {"success", "notify"},
      {"success", "notify"},
      {"access-denied", "hardened-key"},
      {"success", "no-match"},
      {"cannot-delete", "no-match"},
      {"success", "no-match"},
      {"object-name-not-found", ""}};  // failed before any callback: no decision to print
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["line"], i + 1);
    EXPECT_EQ(lines[i]["status"], expected[i].first) << i;
    if (expected[i].second.empty()) {
      EXPECT_FALSE(lines[i].contains("reason")) << i;
      EXPECT_FALSE(lines[i].contains("decision")) << i;
      EXPECT_EQ(lines[i]["notify"], "none") << i;
    } else {
      EXPECT_EQ(lines[i]["reason"], expected[i].second) << i;
    }
  }
}

// SPEC §10 on the host path: set-value's new data reaches the engine in the pre-operation, so a
// condition on the data decides it (1 denied and not written; 0 written).
TEST(RunCommand, SetValueDataReachesConditions) {
  const std::string src = HIVEWARDEN_SOURCE_DIR;
  const test::TempDir dir("run-conditions");
  const std::string ops = (dir / "ops.jsonl").string();
  test::write_text(
      ops,
      R"({"op":"create-key","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender"}
{"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender","value":"DisableAntiSpyware","image":"C:\\evil.exe","type":"dword","data":1}
{"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender","value":"DisableAntiSpyware","image":"C:\\evil.exe","type":"dword","data":0}
)");
  const test::ChildRun run = test::run_hivewarden(
      {"run", "--policy", src + "/tests/cli/golden/conditions-policy.yaml", "--ops", ops},
      {.stdout_path = (dir / "out.jsonl").string()});
  std::vector<nlohmann::json> lines;
  std::istringstream out(run.out);
  for (std::string line; std::getline(out, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u) << run.err;
  EXPECT_EQ(lines[1]["status"], "access-denied");
  EXPECT_EQ(lines[1]["reason"], "deny-rule");
  EXPECT_EQ(lines[2]["status"], "success");
  EXPECT_EQ(lines[2]["reason"], "no-match");
}

}  // namespace
}  // namespace hivewarden
