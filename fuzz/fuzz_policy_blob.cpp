// Compiled policy blobs from user mode: the validator either rejects them or everything the
// engine then does with them stays in bounds and ends.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hivewarden/core/decide.hpp"
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
  static auto scratch = std::make_unique<DecisionScratch>();
  static auto keys = std::make_unique<OperationKeys>();
  for (const char16_t* key : {u"HKLM\\SOFTWARE\\A", u"HKLM\\SOFTWARE\\A\\B\\C\\D", u"HKU\\S\\X", u"HKLM"}) {
    for (int op = 0; op < kOperationCount; ++op) {
      OperationRequest r;
      r.op = static_cast<Operation>(op);
      r.value = u"V";
      r.new_name = u"N";
      r.process.image = u"C:\\X\\Y.EXE";
      canonicalize_operation(key, {view.control_set(), {}}, *keys, r);
      decide_on(view, r, *scratch);
    }
  }
  return 0;
}
