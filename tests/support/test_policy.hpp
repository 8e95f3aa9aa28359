// Policies for tests: YAML text compiled, validated and kept in 8-byte aligned memory, ready to
// decide against or to install in an engine. Every helper fails the current test on any problem.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"

namespace hivewarden::test {

// A compiled, validated policy kept in 8-byte aligned memory.
struct CompiledPolicy {
  std::vector<std::uint64_t> storage;
  std::uint64_t size = 0;
  PolicyView view;
  const void* data() const { return storage.data(); }
  // A copy of the blob's bytes (to damage, or to hand to code that takes bytes).
  std::vector<unsigned char> bytes() const {
    const auto* first = reinterpret_cast<const unsigned char*>(storage.data());
    return {first, first + size};
  }
};

// Copies bytes into aligned storage and validates them; null when rejected.
inline std::unique_ptr<CompiledPolicy> load_blob(const std::vector<unsigned char>& bytes,
                                                 PolicyError* error = nullptr) {
  auto out = std::make_unique<CompiledPolicy>();
  out->storage.resize((bytes.size() + 7) / 8 + 1);
  if (!bytes.empty()) std::memcpy(out->storage.data(), bytes.data(), bytes.size());
  out->size = bytes.size();
  PolicyError local;
  if (!validate_policy(out->storage.data(), out->size, out->view, error ? *error : local))
    return nullptr;
  return out;
}

// The compiler's blob for `source` (empty, and the test failed, when it refuses it).
inline policy::Blob compile_source_blob(const policy::PolicySource& source) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  const bool ok = policy::compile_policy(source, blob, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.to_string();
  if (!ok) return {};
  return blob;
}

// The compiler's blob for YAML text named `file` (empty, and the test failed, on any problem).
inline policy::Blob compile_yaml_blob(const std::string& yaml,
                                      const std::string& file = "test.yaml") {
  policy::PolicySource source;
  std::vector<policy::PolicyProblem> problems;
  const bool ok = policy::parse_policy_yaml(yaml, file, source, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.to_string();
  if (!ok) return {};
  return compile_source_blob(source);
}

// A compiled blob, validated as the engine would: the validator must accept what the compiler
// writes.
inline std::unique_ptr<CompiledPolicy> validated(const policy::Blob& blob) {
  if (blob.empty()) return nullptr;
  PolicyError error;
  auto out = load_blob(blob, &error);
  if (!out) ADD_FAILURE() << "compiled blob rejected: " << error.what << " at " << error.offset;
  return out;
}

// Compiles and validates a PolicySource, or YAML text; null (and the test failed) on any problem.
inline std::unique_ptr<CompiledPolicy> compile_source(const policy::PolicySource& source) {
  return validated(compile_source_blob(source));
}
inline std::unique_ptr<CompiledPolicy> compile_yaml(const std::string& yaml,
                                                    const std::string& file = "test.yaml") {
  return validated(compile_yaml_blob(yaml, file));
}

// The built-in default policy, compiled and validated.
inline std::unique_ptr<CompiledPolicy> default_policy() {
  return compile_yaml(std::string(policy::builtin_default_policy_yaml()), "default");
}

// Installs a policy in `engine`; false (and the test failed) when the engine refuses it.
inline bool install(Engine& engine, const void* data, std::uint64_t size) {
  PolicyError error;
  const bool ok = engine.install_policy(data, size, error);
  if (!ok) ADD_FAILURE() << "the engine refused the policy: " << error.what;
  return ok;
}
inline bool install(Engine& engine, const policy::Blob& blob) {
  return install(engine, blob.data(), blob.size());
}
inline bool install(Engine& engine, const CompiledPolicy& policy) {
  return install(engine, policy.data(), policy.size);
}

}  // namespace hivewarden::test
