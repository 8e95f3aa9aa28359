// Tests name keys as text; the engine takes them canonical. These helpers do the host's part
// (canonicalize_operation, once) and then decide, so that a test reads like the operation it
// checks.
#pragma once

#include <cstdint>
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

// One operation as a test names it: the key as text, the rest of what the request carries. Tests
// fill only what they vary (C++20 designated initializers) and decide it with decide_text.
struct TextOperation {
  Operation op = Operation::kCreateKey;
  std::u16string_view key = {};
  std::u16string_view value = {};
  std::u16string_view new_name = {};
  std::u16string_view image = u"C:\\x.exe";
  std::uint32_t pid = 1;
  std::u16string_view user_sid = {};
  bool key_exists = false;
  bool creates_link = false;
  ProcessFlags extra_flags = 0;
  ProcessRules extra_rules = 0;
};

// The request for `op`; its key is set by key_status / decide_key_text (canonicalised then).
inline OperationRequest request_of(const TextOperation& op) {
  OperationRequest r;
  r.op = op.op;
  r.value = op.value;
  r.new_name = op.new_name;
  r.key_exists = op.key_exists;
  r.creates_link = op.creates_link;
  r.process.image = op.image;
  r.process.pid = op.pid;
  r.process.user_sid = op.user_sid;
  r.process.extra_flags = op.extra_flags;
  r.process.extra_rules = op.extra_rules;
  return r;
}

// The status canonicalize_operation gives the key of `op` under `policy`.
inline PathStatus key_status(const PolicyView& policy, const TextOperation& op) {
  return key_status(policy, request_of(op), op.key);
}

// Decides `op` against `policy`: its key canonicalised once, as a host does, then decide_on.
inline Decision decide_text(const PolicyView& policy, const TextOperation& op,
                            DecisionScratch& scratch) {
  return decide_key_text(policy, request_of(op), op.key, scratch);
}

// Engine::decide for a request whose key is given as text (the engine's policy's control set is
// the caller's `control_set`).
inline Decision engine_decide_key_text(Engine& engine, OperationRequest r, std::u16string_view key,
                                       DecisionScratch& scratch, std::uint32_t control_set = 1) {
  canonicalize_operation(key, {control_set, r.process.user_sid}, last_keys(), r);
  return engine.decide(r, scratch);
}

}  // namespace hivewarden::test
