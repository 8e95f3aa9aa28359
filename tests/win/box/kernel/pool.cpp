// The pool: every block the driver allocates is tracked (tag, size, type), so that a leak is
// named at unload; the n-th allocation can be made to fail; executable pool is counted.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.hpp"

namespace box::kernel {
namespace {

constexpr ULONG kMagic = 0x4C4F4F50;  // 'POOL'

struct Block {
  Block* previous;
  Block* next;
  ULONG magic;
  ULONG tag;
  SIZE_T size;
  ULONG64 padding[2];  // keeps the caller's memory 16-byte aligned, as the pool's is
};
static_assert(sizeof(Block) % 16 == 0);

Block g_head{&g_head, &g_head, 0, 0, 0, {0, 0}};
PoolStats g_stats;
std::uint64_t g_fail_at = 0;  // attempt number that fails; 0: none
bool g_injected = false;
ULONG g_failed_tag = 0;
SIZE_T g_failed_size = 0;

bool executable(POOL_TYPE type) {
  return type == NonPagedPool || type == NonPagedPoolMustSucceed ||
         type == NonPagedPoolCacheAligned;
}

void* allocate(SIZE_T size, ULONG tag) {
  Locked lock;
  ++g_stats.attempts;
  if (g_fail_at != 0 && g_stats.attempts == g_fail_at) {
    g_injected = true;
    g_failed_tag = tag;
    g_failed_size = size;
    return nullptr;
  }
  auto* block = static_cast<Block*>(std::malloc(sizeof(Block) + size));
  if (block == nullptr) return nullptr;
  *block = Block{&g_head, g_head.next, kMagic, tag, size, {0, 0}};
  g_head.next->previous = block;
  g_head.next = block;
  ++g_stats.allocations;
  ++g_stats.live_blocks;
  g_stats.live_bytes += size;
  std::memset(block + 1, 0xCD, size);  // pool memory is not zeroed
  return block + 1;
}

void release(PVOID p, ULONG tag, bool check_tag) {
  if (p == nullptr) {
    KeBugCheckEx(BAD_POOL_CALLER, 0x46, 0, 0, 0);  // ExFreePool(NULL) bugchecks
  }
  Locked lock;
  Block* block = static_cast<Block*>(p) - 1;
  if (block->magic != kMagic || (check_tag && block->tag != tag)) {
    ++g_stats.bad_frees;
    return;
  }
  block->magic = 0;
  block->previous->next = block->next;
  block->next->previous = block->previous;
  --g_stats.live_blocks;
  g_stats.live_bytes -= block->size;
  std::memset(block + 1, 0xDD, block->size);  // use after free reads garbage
  std::free(block);
}

}  // namespace
}  // namespace box::kernel

using namespace box::kernel;

extern "C" {

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE type, SIZE_T size, ULONG tag) {
  if (executable(type)) {
    Locked lock;
    ++g_stats.executable_requests;
  }
  return allocate(size, tag);
}

// ExAllocatePool2 (Windows 10 2004+), looked up by name: zeroed memory, flags instead of a type.
PVOID NTAPI ExAllocatePool2(ULONG64 flags, SIZE_T size, ULONG tag) {
  constexpr ULONG64 kRaiseOnFailure = 0x20;   // POOL_FLAG_RAISE_ON_FAILURE: not for the box
  constexpr ULONG64 kNonPagedExecute = 0x80;  // POOL_FLAG_NON_PAGED_EXECUTE
  if ((flags & kRaiseOnFailure) != 0) KeBugCheckEx(BAD_POOL_CALLER, 0x9B, flags, 0, 0);
  if ((flags & kNonPagedExecute) != 0) {
    Locked lock;
    ++g_stats.executable_requests;
  }
  void* p = allocate(size, tag);
  if (p != nullptr) std::memset(p, 0, size);
  return p;
}

VOID NTAPI ExFreePoolWithTag(PVOID p, ULONG tag) {
  release(p, tag, true);
}
VOID NTAPI ExFreePool(PVOID p) {
  release(p, 0, false);
}

}  // extern "C"

namespace box {

PoolStats pool_stats() {
  kernel::Locked lock;
  return kernel::g_stats;
}

void pool_reset_counts() {
  kernel::Locked lock;
  kernel::g_stats.allocations = kernel::g_stats.attempts = 0;
  kernel::g_stats.executable_requests = kernel::g_stats.bad_frees = 0;
  kernel::g_fail_at = 0;
  kernel::g_injected = false;
}

void pool_fail_nth(std::uint64_t n) {
  kernel::Locked lock;
  kernel::g_fail_at = n == 0 ? 0 : kernel::g_stats.attempts + n;
  kernel::g_injected = false;
}

bool pool_failure_injected() {
  kernel::Locked lock;
  return kernel::g_injected;
}

const char* pool_failed_allocation() {
  static char text[64];
  kernel::Locked lock;
  const ULONG t = kernel::g_failed_tag;
  std::snprintf(text, sizeof text, "tag '%c%c%c%c', %llu bytes", char(t), char(t >> 8),
                char(t >> 16), char(t >> 24),
                static_cast<unsigned long long>(kernel::g_failed_size));
  return text;
}

void pool_print_live() {
  kernel::Locked lock;
  for (auto* b = kernel::g_head.next; b != &kernel::g_head; b = b->next) {
    const ULONG t = b->tag;
    std::printf("    leaked: tag '%c%c%c%c' size %llu\n", char(t), char(t >> 8), char(t >> 16),
                char(t >> 24), static_cast<unsigned long long>(b->size));
  }
}

}  // namespace box
