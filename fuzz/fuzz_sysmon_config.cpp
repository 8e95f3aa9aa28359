// Sysmon configuration XML from anywhere: the reader and the policy builder answer with the
// policy or with errors naming file and line; they never crash, hang or read out of bounds.
#include <cstdint>
#include <string_view>

#include "hivewarden/sysmon/sysmon_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden::sysmon;
  Config config;
  std::vector<Problem> problems;
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  if (!read_config_text(xml, "fuzz.xml", config, problems)) {
    for (const Problem& p : problems) (void)p.to_string();
    return 0;
  }
  PolicyImport out;
  (void)build_policy(config, out, problems);
  return 0;
}
