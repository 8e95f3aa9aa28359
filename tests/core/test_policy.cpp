#include "test_policy.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace hivewarden::test {

std::unique_ptr<CompiledPolicy> load_blob(const std::vector<unsigned char>& bytes, PolicyError* error) {
  auto out = std::make_unique<CompiledPolicy>();
  out->storage.resize((bytes.size() + 7) / 8 + 1);
  if (!bytes.empty()) std::memcpy(out->storage.data(), bytes.data(), bytes.size());
  out->size = bytes.size();
  PolicyError local;
  if (!validate_policy(out->storage.data(), out->size, out->view, error ? *error : local)) return nullptr;
  return out;
}

std::unique_ptr<CompiledPolicy> compile_source(const policy::PolicySource& source) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  const bool ok = policy::compile_policy(source, blob, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.to_string();
  if (!ok) return nullptr;
  PolicyError error;
  auto out = load_blob(blob, &error);
  if (!out) ADD_FAILURE() << "compiled blob rejected: " << error.what << " at " << error.offset;
  return out;
}

std::unique_ptr<CompiledPolicy> compile_yaml(const std::string& yaml) {
  policy::PolicySource source;
  std::vector<policy::PolicyProblem> problems;
  const bool ok = policy::parse_policy_yaml(yaml, "test.yaml", source, problems);
  for (const auto& p : problems) ADD_FAILURE() << p.to_string();
  if (!ok) return nullptr;
  return compile_source(source);
}

}  // namespace hivewarden::test
