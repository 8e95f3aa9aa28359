// The core's platform and memory in the kernel, and the driver's pool memory: never executable
// (ExAllocatePool2 where the kernel has it, else NonPagedPoolNx), a swap that sleeps between its
// checks instead of spinning, no C++ runtime.
#include "../../core/platform.hpp"
#include "driver_internal.hpp"
#include "hivewarden/core/allocator.hpp"

namespace hivewarden {
namespace driver {
namespace {

using AllocatePool2 = PVOID(NTAPI*)(ULONG64 flags, SIZE_T size, ULONG tag);
constexpr ULONG64 kPoolFlagNonPaged = 0x40;  // POOL_FLAG_NON_PAGED (non-executable)
constexpr ULONG64 kPoolFlagPaged = 0x100;    // POOL_FLAG_PAGED
AllocatePool2 g_allocate_pool2 = nullptr;

void* allocate(std::size_t size, ULONG64 pool2_flags, POOL_TYPE fallback) {
  if (size == 0) return nullptr;
  if (g_allocate_pool2 != nullptr) return g_allocate_pool2(pool2_flags, size, kTag);
  return ExAllocatePoolWithTag(fallback, size, kTag);
}

}  // namespace

void initialize_pool() {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"ExAllocatePool2");
  g_allocate_pool2 = reinterpret_cast<AllocatePool2>(MmGetSystemRoutineAddress(&name));
}

void* pool_allocate(std::size_t size) {
  return allocate(size, kPoolFlagNonPaged, NonPagedPoolNx);
}

void* pool_allocate_paged(std::size_t size) {
  return allocate(size, kPoolFlagPaged, PagedPool);
}

void pool_free(void* p) {
  if (p != nullptr) ExFreePoolWithTag(p, kTag);
}

}  // namespace driver

namespace {
void* engine_allocate(std::size_t size, void*) {
  return driver::pool_allocate(size);
}
void engine_release(void* p, void*) {
  driver::pool_free(p);
}
}  // namespace

Allocator default_allocator() {
  return Allocator{&engine_allocate, &engine_release, nullptr};
}

namespace platform {
// Policy swaps wait here for readers of the old policy to leave: a millisecond's sleep, so that
// a swap never holds a processor while it waits (the engine calls it at PASSIVE_LEVEL only).
void yield_now() {
  LARGE_INTEGER interval;
  interval.QuadPart = -10LL * 1000;  // 1 ms, relative
  KeDelayExecutionThread(KernelMode, FALSE, &interval);
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
