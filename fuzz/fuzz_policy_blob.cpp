// Compiled policy blobs from user mode: the validator either rejects them or everything the
// engine then does with them stays in bounds and ends.
#include <cstdint>
#include <cstring>
#include <vector>

#include "decide_every_operation.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden;
  std::vector<std::uint64_t> aligned(size / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  // Reseal the checksum half of the time so that the fuzzer reaches the structural checks.
  if (size >= sizeof(blob::Header) && (size & 1) == 0) {
    auto* bytes = reinterpret_cast<unsigned char*>(aligned.data());
    const std::uint32_t sum = checksum32(bytes + sizeof(blob::Header), size - sizeof(blob::Header));
    std::memcpy(bytes + offsetof(blob::Header, checksum), &sum, sizeof sum);
  }
  PolicyView view;
  PolicyError error;
  if (!validate_policy(aligned.data(), size, view, error)) return 0;
  fuzz::decide_every_operation(
      view, {u"HKLM\\SOFTWARE\\A", u"HKLM\\SOFTWARE\\A\\B\\C\\D", u"HKU\\S\\X", u"HKLM"},
      {.value = u"V", .new_name = u"N", .image = u"C:\\X\\Y.EXE"});
  return 0;
}
