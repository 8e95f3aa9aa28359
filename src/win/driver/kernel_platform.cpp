// The core's platform and memory in the kernel: pool memory and a polite yield, no C++ runtime.
#include <ntddk.h>

#include "../../core/platform.hpp"
#include "hivewarden/core/allocator.hpp"

extern "C" NTSTATUS NTAPI ZwYieldExecution(void);

namespace hivewarden {
namespace {
constexpr ULONG kPoolTag = 0x64577748;  // 'HwWd'
void* pool_allocate(std::size_t size, void*) {
  return ExAllocatePoolWithTag(NonPagedPool, size, kPoolTag);
}
void pool_release(void* p, void*) {
  if (p != nullptr) ExFreePoolWithTag(p, kPoolTag);
}
}  // namespace

Allocator default_allocator() {
  return Allocator{&pool_allocate, &pool_release, nullptr};
}

namespace platform {
void yield_now() {
  ZwYieldExecution();
}
}  // namespace platform

}  // namespace hivewarden

// libstdc++'s string_view range checks call these; the core never passes an out-of-range
// position, so reaching one is a bug: stop the machine rather than run on.
namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char*, ...) {
  KeBugCheckEx(0xDEADBEEF, 1, 0, 0, 0);
}
[[noreturn]] void __throw_out_of_range(const char*) {
  KeBugCheckEx(0xDEADBEEF, 2, 0, 0, 0);
}
[[noreturn]] void __throw_length_error(const char*) {
  KeBugCheckEx(0xDEADBEEF, 3, 0, 0, 0);
}
[[noreturn]] void __throw_logic_error(const char*) {
  KeBugCheckEx(0xDEADBEEF, 4, 0, 0, 0);
}
}  // namespace std
