// load_policy_file: a policy path (YAML or compiled .hwp) -> a validated blob.
#include <cstring>
#include <memory>

#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/util/read_file.hpp"

namespace hivewarden::policy {
bool load_policy_file(const std::string& path, Blob& out, std::vector<PolicyProblem>& problems) {
  std::string bytes, why;
  const ReadFileStatus read = read_file_bounded(path, limits::kMaxPolicyFileBytes, bytes, why);
  if (read != ReadFileStatus::kOk) {
    problems.push_back({path, {}, "(file)",
                        read == ReadFileStatus::kTooLarge ? why + " (limit kMaxPolicyFileBytes)" : why});
    return false;
  }
  if (bytes.size() >= sizeof(blob::kMagic) &&
      std::memcmp(bytes.data(), blob::kMagic, sizeof(blob::kMagic)) == 0) {
    // A compiled policy: validate a copy in 8-byte aligned memory.
    std::unique_ptr<std::uint64_t[]> aligned(new std::uint64_t[(bytes.size() + 7) / 8]);
    std::memcpy(aligned.get(), bytes.data(), bytes.size());
    PolicyView view;
    PolicyError error;
    if (!validate_policy(aligned.get(), bytes.size(), view, error)) {
      problems.push_back(
          {path,
           {},
           "(blob)",
           std::string(error.what) + " (at byte offset " + std::to_string(error.offset) + ")"});
      return false;
    }
    out.assign(bytes.begin(), bytes.end());
    return true;
  }
  PolicySource source;
  if (!parse_policy_yaml(bytes, path, source, problems)) return false;
  return compile_policy(source, out, problems);
}

}  // namespace hivewarden::policy
