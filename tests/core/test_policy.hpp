// Test helpers: policies from YAML text, ready to decide against.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"

namespace hivewarden::test {

// A compiled, validated policy kept in 8-byte aligned memory.
struct CompiledPolicy {
  std::vector<std::uint64_t> storage;
  std::uint64_t size = 0;
  PolicyView view;
  const void* data() const { return storage.data(); }
};

// Compiles YAML (or compiles a PolicySource); fails the current test on any problem.
std::unique_ptr<CompiledPolicy> compile_yaml(const std::string& yaml);
std::unique_ptr<CompiledPolicy> compile_source(const policy::PolicySource& source);

// Copies bytes into aligned storage and validates them; null when rejected.
std::unique_ptr<CompiledPolicy> load_blob(const std::vector<unsigned char>& bytes, PolicyError* error = nullptr);

}  // namespace hivewarden::test
