// load_policy_file: a policy path (YAML or compiled .hwp) -> a validated blob.
#include <cstring>
#include <fstream>
#include <memory>

#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/yaml_limits.hpp"

namespace hivewarden::policy {
namespace {

// Reads at most kMaxPolicyFileBytes + 1 bytes (works for pipes too): a larger file is refused
// before it is held whole in memory.
bool read_bounded(std::istream& in, std::string& bytes) {
  bytes.clear();
  char chunk[64 * 1024];
  while (in && bytes.size() <= limits::kMaxPolicyFileBytes) {
    in.read(chunk, sizeof chunk);
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  return bytes.size() <= limits::kMaxPolicyFileBytes;
}

}  // namespace

bool load_policy_file(const std::string& path, Blob& out, std::vector<PolicyProblem>& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back({path, {}, "(file)", std::string("cannot open: ") + std::strerror(errno)});
    return false;
  }
  std::string bytes;
  if (!read_bounded(in, bytes)) {
    problems.push_back({path,
                        {},
                        "(file)",
                        "larger than " + std::to_string(limits::kMaxPolicyFileBytes) +
                            " bytes (limit kMaxPolicyFileBytes)"});
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
