// The working memory of registry callbacks: a few slots made at load, taken without a lock, and a
// temporary allocation when all are busy (the decision path itself allocates nothing).
#include <new>

#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

constexpr int kSlots = 8;
CallScratch* g_slots[kSlots] = {};
volatile LONG g_busy[kSlots] = {};

CallScratch* allocate_one() {
  void* memory = ExAllocatePoolWithTag(PagedPool, sizeof(CallScratch), kTag);
  return memory != nullptr ? new (memory) CallScratch : nullptr;
}

}  // namespace

void allocate_scratch_slots() {
  for (CallScratch*& slot : g_slots) slot = allocate_one();  // a missing one is made per call
}

void free_scratch_slots() {
  for (CallScratch*& slot : g_slots) {
    if (slot != nullptr) ExFreePoolWithTag(slot, kTag);
    slot = nullptr;
  }
}

CallScratch* acquire_scratch(int& slot) {
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i] != nullptr && InterlockedCompareExchange(&g_busy[i], 1, 0) == 0) {
      slot = i;
      return g_slots[i];
    }
  }
  slot = -1;
  return allocate_one();
}

void release_scratch(CallScratch* scratch, int slot) {
  if (slot >= 0) {
    InterlockedExchange(&g_busy[slot], 0);
  } else if (scratch != nullptr) {
    ExFreePoolWithTag(scratch, kTag);
  }
}

}  // namespace hivewarden::driver
