// Policy YAML: any text is either a policy with located problems, or compiles into a blob that the
// validator accepts and the matcher can walk.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "decide_every_operation.hpp"
#include "hivewarden/policy/compile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden;
  const std::string text(reinterpret_cast<const char*>(data), size);
  policy::PolicySource source;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::parse_policy_yaml(text, "fuzz.yaml", source, problems)) {
    if (problems.empty()) std::abort();  // a failure must say why
    return 0;
  }
  policy::Blob blob;
  if (!policy::compile_policy(source, blob, problems)) return 0;
  std::vector<std::uint64_t> aligned((blob.size() + 7) / 8);
  std::memcpy(aligned.data(), blob.data(), blob.size());
  PolicyView view;
  PolicyError error;
  if (!validate_policy(aligned.data(), blob.size(), view, error)) std::abort();  // compiler and validator disagree
  fuzz::decide_every_operation(
      view,
      {u"HKLM\\SOFTWARE\\A\\B", u"\\REGISTRY\\USER\\S-1-5-18\\Software\\Run",
       u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\x"},
      {.value = u"Value", .new_name = u"New", .image = u"C:\\Windows\\System32\\reg.exe"});
  return 0;
}
