// A loaded policy and an engine running it, as the commands use them.
#pragma once

#include <memory>
#include <string>

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

// Another session on the same policy, with its own engine (so its own call contexts) and scratch:
// for another thread deciding beside the first. Null if the engine refuses the blob it already
// accepted (it cannot get its memory).
std::unique_ptr<PolicySession> copy_policy_session(const PolicySession& session);

}  // namespace hivewarden::cli
