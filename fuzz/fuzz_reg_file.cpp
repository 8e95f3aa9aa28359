// .reg files from anywhere: import either applies them or names the line that is wrong; what it
// builds exports and imports again to the same registry.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "hivewarden/host/reg_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden::host;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Registry r;
  RegImportStats stats;
  std::string error;
  if (!import_reg(bytes, "fuzz.reg", r, stats, error)) {
    if (error.find("fuzz.reg:") == std::string::npos) std::abort();  // every error names where
    return 0;
  }
  Registry again;
  RegImportStats stats2;
  if (!import_reg(export_reg(r), "again.reg", again, stats2, error)) std::abort();  // our own output reads back
  if (again.key_count() != r.key_count() || again.value_count() != r.value_count()) std::abort();
  return 0;
}
