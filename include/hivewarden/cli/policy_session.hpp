// A loaded policy and an engine running it, as the commands use them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/core/engine.hpp"
#include "hivewarden/policy/compile.hpp"

namespace hivewarden::cli {

struct PolicySession {
  policy::Blob blob;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<DecisionScratch> scratch;
  std::unique_ptr<OperationKeys> keys;  // where the session's operations are canonicalised
  PolicyRef policy;
};

// Loads a policy file (.yaml or .hwp), or the built-in default when `path` is empty, and installs
// it in a new engine. On failure prints every problem to stderr and returns null.
std::unique_ptr<PolicySession> open_policy_session(const std::string& path);

// The same, with every problem added to `errors` (the text the command prints after "error: ").
std::unique_ptr<PolicySession> open_policy_session(const std::string& path,
                                                   std::vector<std::string>& errors);

// Parses and compiles policy YAML text, `name` standing for its file in the problems.
bool compile_policy_text(std::string_view yaml, const std::string& name, policy::Blob& blob,
                         std::vector<std::string>& errors);

// Installs a compiled blob in a new engine, validated as every engine validates one; on failure
// `errors` says "NAME: what (at byte offset N)".
std::unique_ptr<PolicySession> install_policy_session(policy::Blob blob, const std::string& name,
                                                      std::vector<std::string>& errors);

// Another session on the same policy, with its own engine (so its own call contexts) and scratch:
// for another thread deciding beside the first. Null if the engine refuses the blob it already
// accepted (it cannot get its memory).
std::unique_ptr<PolicySession> copy_policy_session(const PolicySession& session);

}  // namespace hivewarden::cli
