// The working memory of registry callbacks: a fixed set of slots made at load. A call never
// allocates its scratch: a write waits (without spinning) for a slot, a read takes one only if
// one is free at once — a read may be this driver's own nested query (the old value it reads
// for a record) made while its thread holds a slot, and must not wait on itself.
#include <new>

#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

constexpr LONG kSlots = 8;
constexpr LONGLONG kSlotWait100ns = -10LL * 1000 * 1000 * 2;  // two seconds, relative

CallScratch* g_slots[kSlots] = {};
volatile LONG g_busy[kSlots] = {};
HANDLE volatile g_holder[kSlots] = {};  // the thread that holds each busy slot (its id)
KSEMAPHORE g_free_slots;                // counts the slots not taken

}  // namespace

bool allocate_scratch_slots() {
  for (CallScratch*& slot : g_slots) {
    void* memory = pool_allocate_paged(sizeof(CallScratch));
    if (memory == nullptr) return false;
    slot = new (memory) CallScratch;
  }
  KeInitializeSemaphore(&g_free_slots, kSlots, kSlots);
  return true;
}

void free_scratch_slots() {
  for (CallScratch*& slot : g_slots) {
    pool_free(slot);
    slot = nullptr;
  }
}

CallScratch* acquire_scratch(bool wait) {
  LARGE_INTEGER timeout;
  timeout.QuadPart = wait ? kSlotWait100ns : 0;
  if (KeWaitForSingleObject(&g_free_slots, Executive, KernelMode, FALSE, &timeout) !=
      STATUS_SUCCESS) {
    return nullptr;
  }
  // The semaphore let this thread in, so one slot is free for it.
  for (;;) {
    for (LONG i = 0; i < kSlots; ++i) {
      if (InterlockedCompareExchange(&g_busy[i], 1, 0) == 0) {
        g_holder[i] = PsGetCurrentThreadId();
        return g_slots[i];
      }
    }
  }
}

bool current_thread_holds_scratch() {
  const HANDLE self = PsGetCurrentThreadId();
  for (LONG i = 0; i < kSlots; ++i) {
    if (g_holder[i] == self) return true;  // only this thread writes its own entry
  }
  return false;
}

void release_scratch(CallScratch* scratch) {
  for (LONG i = 0; i < kSlots; ++i) {
    if (g_slots[i] == scratch) {
      g_holder[i] = nullptr;
      InterlockedExchange(&g_busy[i], 0);
      KeReleaseSemaphore(&g_free_slots, IO_NO_INCREMENT, 1, FALSE);
      return;
    }
  }
}

}  // namespace hivewarden::driver
