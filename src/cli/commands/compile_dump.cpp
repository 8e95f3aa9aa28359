// `hivewarden compile` and `hivewarden dump`.
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/policy/compile.hpp"

namespace hivewarden::cli {

int run_compile(const std::string& policy_path, const std::string& output_path) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::load_policy_file(policy_path, blob, problems)) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return kExitInputError;
  }
  // Write to a temporary name and rename, so a failed write never leaves half a policy behind.
  const std::string temp = output_path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
    out.flush();
    if (!out) {
      std::cerr << "error: " << output_path << ": cannot write: " << std::strerror(errno) << "\n";
      std::remove(temp.c_str());
      return kExitInputError;
    }
  }
  if (std::rename(temp.c_str(), output_path.c_str()) != 0) {
    std::cerr << "error: " << output_path << ": cannot write: " << std::strerror(errno) << "\n";
    std::remove(temp.c_str());
    return kExitInputError;
  }
  std::cerr << "compiled " << policy_path << " -> " << output_path << " (" << blob.size() << " bytes)\n";
  return kExitOk;
}

int run_dump(const std::string& policy_path, std::ostream& out) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::load_policy_file(policy_path, blob, problems)) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return kExitInputError;
  }
  std::unique_ptr<std::uint64_t[]> aligned(new std::uint64_t[(blob.size() + 7) / 8]);
  std::memcpy(aligned.get(), blob.data(), blob.size());
  out << policy::dump_policy(aligned.get(), blob.size());
  return kExitOk;
}

}  // namespace hivewarden::cli
