// KeGetCurrentIrql as an import. The DDK's own is an inline that reads CR8, which user mode
// cannot: a driver file that calls it must declare it imported to run in the box (see
// docs/WINDOWS.md). Kept apart because <ntddk.h> declares the inline.
#include <cstdint>

namespace box::kernel {
std::uint8_t current_irql();
}

extern "C" std::uint8_t KeGetCurrentIrql() {
  return box::kernel::current_irql();
}
extern "C" {
const void* __imp_KeGetCurrentIrql = reinterpret_cast<const void*>(&KeGetCurrentIrql);
}
