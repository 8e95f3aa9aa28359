#include "hivewarden/cli/policy_session.hpp"

#include <iostream>

namespace hivewarden::cli {
namespace {

void add_problems(const std::vector<policy::PolicyProblem>& problems,
                  std::vector<std::string>& errors) {
  for (const auto& p : problems) errors.push_back(p.to_string());
}

// Installs the session's blob in a new engine with its own scratch and keys.
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

bool compile_policy_text(std::string_view yaml, const std::string& name, policy::Blob& blob,
                         std::vector<std::string>& errors) {
  std::vector<policy::PolicyProblem> problems;
  policy::PolicySource source;
  const bool compiled = policy::parse_policy_yaml(yaml, name, source, problems) &&
                        policy::compile_policy(source, blob, problems);
  if (!compiled) add_problems(problems, errors);
  return compiled;
}

std::unique_ptr<PolicySession> install_policy_session(policy::Blob blob, const std::string& name,
                                                      std::vector<std::string>& errors) {
  auto session = std::make_unique<PolicySession>();
  session->blob = std::move(blob);
  PolicyError error;
  if (!start_engine(*session, error)) {
    errors.push_back(name + ": " + error.what + " (at byte offset " + std::to_string(error.offset) +
                     ")");
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

std::unique_ptr<PolicySession> open_policy_session(const std::string& path,
                                                   std::vector<std::string>& errors) {
  const std::string name = path.empty() ? "(built-in default policy)" : path;
  policy::Blob blob;
  if (path.empty()) {
    if (!compile_policy_text(policy::builtin_default_policy_yaml(), name, blob, errors))
      return nullptr;
  } else {
    std::vector<policy::PolicyProblem> problems;
    const bool loaded = policy::load_policy_file(path, blob, problems);
    if (!loaded) {
      add_problems(problems, errors);
      return nullptr;
    }
  }
  return install_policy_session(std::move(blob), name, errors);
}

std::unique_ptr<PolicySession> open_policy_session(const std::string& path) {
  std::vector<std::string> errors;
  auto session = open_policy_session(path, errors);
  if (!session) {
    for (const auto& e : errors) std::cerr << "error: " << e << "\n";
  }
  return session;
}

}  // namespace hivewarden::cli
