#include "hivewarden/cli/policy_session.hpp"

#include <iostream>

namespace hivewarden::cli {
namespace {

bool start_engine(PolicySession& session, PolicyError& error) {
  session.engine = std::make_unique<Engine>();
  if (!session.engine->install_policy(session.blob.data(), session.blob.size(), error))
    return false;
  session.scratch = std::make_unique<DecisionScratch>();
  session.keys = std::make_unique<OperationKeys>();
  session.policy = session.engine->current_policy();
  return true;
}

}  // namespace

std::unique_ptr<PolicySession> open_policy_session(const std::string& path) {
  auto session = std::make_unique<PolicySession>();
  std::vector<policy::PolicyProblem> problems;
  bool loaded = false;
  if (path.empty()) {
    policy::PolicySource source;
    loaded = policy::parse_policy_yaml(policy::builtin_default_policy_yaml(),
                                       "(built-in default policy)", source, problems) &&
             policy::compile_policy(source, session->blob, problems);
  } else {
    loaded = policy::load_policy_file(path, session->blob, problems);
  }
  if (!loaded) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return nullptr;
  }
  PolicyError error;
  if (!start_engine(*session, error)) {
    std::cerr << "error: " << (path.empty() ? "(built-in default policy)" : path) << ": "
              << error.what << " (at byte offset " << error.offset << ")\n";
    return nullptr;
  }
  return session;
}

std::unique_ptr<PolicySession> copy_policy_session(const PolicySession& session) {
  auto copy = std::make_unique<PolicySession>();
  copy->blob = session.blob;
  PolicyError error;
  if (!start_engine(*copy, error)) return nullptr;
  return copy;
}

}  // namespace hivewarden::cli
