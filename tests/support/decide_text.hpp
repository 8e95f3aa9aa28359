// Tests name keys as text; the engine takes them canonical. These helpers do the host's part
// (canonicalize_operation, once) and then decide, so that a test reads like the operation it
// checks.
#pragma once

#include <memory>
#include <string_view>

#include "hivewarden/core/decide.hpp"
#include "hivewarden/core/engine.hpp"

namespace hivewarden::test {

// The keys of the calling thread's last decide_key_text (its rename target included).
inline OperationKeys& last_keys() {
  thread_local std::unique_ptr<OperationKeys> keys = std::make_unique<OperationKeys>();
  return *keys;
}

// The status canonicalize_operation gives `key` under `policy` (kUnknownRoot: not decided).
inline PathStatus key_status(const PolicyView& policy, OperationRequest r,
                             std::u16string_view key) {
  return canonicalize_operation(key, {policy.control_set(), r.process.user_sid}, last_keys(), r);
}

// decide_on for a request whose key is given as text.
inline Decision decide_key_text(const PolicyView& policy, OperationRequest r,
                                std::u16string_view key, DecisionScratch& scratch) {
  canonicalize_operation(key, {policy.control_set(), r.process.user_sid}, last_keys(), r);
  return decide_on(policy, r, scratch);
}

// Engine::decide for a request whose key is given as text (the engine's policy's control set is
// the caller's `control_set`).
inline Decision engine_decide_key_text(Engine& engine, OperationRequest r, std::u16string_view key,
                                       DecisionScratch& scratch, std::uint32_t control_set = 1) {
  canonicalize_operation(key, {control_set, r.process.user_sid}, last_keys(), r);
  return engine.decide(r, scratch);
}

}  // namespace hivewarden::test
