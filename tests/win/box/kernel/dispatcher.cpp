// Dispatcher objects (events, semaphores), waits with time-outs, delays and spin locks. The state
// lives in the DDK structures themselves (DISPATCHER_HEADER.SignalState), changed under the host
// monitor; a waiter sleeps on the monitor and re-checks. A spin lock raises the thread's IRQL to
// DISPATCH_LEVEL, and a wait at DISPATCH_LEVEL with a non-zero time-out bugchecks, as on Windows.
#include <cstdio>
#include <cstdlib>

#include "internal.hpp"

using namespace box;
using namespace box::kernel;

namespace {
constexpr UCHAR kSemaphoreType = 5;  // KOBJECTS.SemaphoreObject (not in the mingw-w64 DDK)

// Milliseconds until a KeWaitForSingleObject / KeDelayExecutionThread time-out (100 ns units:
// negative relative, positive absolute; an absolute time is taken as due now).
std::uint32_t timeout_ms(const LARGE_INTEGER* timeout) {
  if (timeout == nullptr) return host::kForever;
  if (timeout->QuadPart >= 0) return 0;
  const ULONGLONG ms = static_cast<ULONGLONG>(-timeout->QuadPart + 9999) / 10000;
  return ms >= host::kForever ? host::kForever - 1 : static_cast<std::uint32_t>(ms);
}

bool signalled(DISPATCHER_HEADER& header) {
  return header.SignalState > 0;
}

void satisfy(DISPATCHER_HEADER& header) {
  if (header.Type == SynchronizationEvent) header.SignalState = 0;  // auto-reset
  if (header.Type == kSemaphoreType) --header.SignalState;
}

void check_may_wait(const char* what, bool zero_timeout) {
  if (current_thread().irql >= DISPATCH_LEVEL && !zero_timeout) {
    std::printf("BUGCHECK: %s at DISPATCH_LEVEL (IRQL_NOT_LESS_OR_EQUAL)\n", what);
    KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, 0, 0, 0, 0);
  }
}

}  // namespace

extern "C" {

VOID NTAPI KeBugCheckEx(ULONG code, ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4) {
  std::printf("BUGCHECK 0x%lx (%llx, %llx, %llx, %llx): the box stops\n", code,
              static_cast<unsigned long long>(p1), static_cast<unsigned long long>(p2),
              static_cast<unsigned long long>(p3), static_cast<unsigned long long>(p4));
  std::fflush(stdout);
  std::_Exit(3);
}

VOID NTAPI KeInitializeEvent(PRKEVENT event, EVENT_TYPE type, BOOLEAN state) {
  Locked lock;
  event->Header.Type = static_cast<UCHAR>(type);
  event->Header.SignalState = state ? 1 : 0;
  InitializeListHead(&event->Header.WaitListHead);
}

LONG NTAPI KeSetEvent(PRKEVENT event, KPRIORITY, BOOLEAN) {
  Locked lock;
  const LONG previous = event->Header.SignalState;
  event->Header.SignalState = 1;
  host::monitor_broadcast();
  return previous;
}

VOID NTAPI KeInitializeSemaphore(PRKSEMAPHORE semaphore, LONG count, LONG limit) {
  Locked lock;
  semaphore->Header.Type = kSemaphoreType;
  semaphore->Header.SignalState = count;
  semaphore->Limit = limit;
  InitializeListHead(&semaphore->Header.WaitListHead);
}

LONG NTAPI KeReleaseSemaphore(PRKSEMAPHORE semaphore, KPRIORITY, LONG adjustment, BOOLEAN) {
  Locked lock;
  const LONG previous = semaphore->Header.SignalState;
  if (adjustment <= 0 || previous + adjustment > semaphore->Limit) {
    KeBugCheckEx(0x39 /* STATUS_SEMAPHORE_LIMIT_EXCEEDED as a bugcheck */, previous, adjustment, 0,
                 0);
  }
  semaphore->Header.SignalState = previous + adjustment;
  host::monitor_broadcast();
  return previous;
}

NTSTATUS NTAPI KeWaitForSingleObject(PVOID object, KWAIT_REASON, KPROCESSOR_MODE, BOOLEAN,
                                     PLARGE_INTEGER timeout) {
  const std::uint32_t ms = timeout_ms(timeout);
  check_may_wait("KeWaitForSingleObject", ms == 0);
  auto& header = *static_cast<DISPATCHER_HEADER*>(object);
  const std::uint64_t deadline = ms == host::kForever ? 0 : host::now_ms() + ms;
  Locked lock;
  while (!signalled(header)) {
    if (ms != host::kForever) {
      const std::uint64_t now = host::now_ms();
      if (now >= deadline) return STATUS_TIMEOUT;
      host::monitor_wait(static_cast<std::uint32_t>(deadline - now));
    } else {
      host::monitor_wait(host::kForever);
    }
  }
  satisfy(header);
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER interval) {
  const std::uint32_t ms = timeout_ms(interval);
  check_may_wait("KeDelayExecutionThread", false);
  if (ms == host::kForever) KeBugCheckEx(0xDE1A, 0, 0, 0, 0);  // a delay without an interval
  if (ms == 0) {
    host::yield();
  } else {
    host::sleep_ms(ms);
  }
  return STATUS_SUCCESS;
}

KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK lock) {
  Thread& self = current_thread();
  const KIRQL old = self.irql;
  while (InterlockedCompareExchange64(reinterpret_cast<volatile LONG64*>(lock), 1, 0) != 0) {
    host::yield();
  }
  self.irql = DISPATCH_LEVEL;
  return old;
}

VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK lock, KIRQL old) {
  if (InterlockedExchange64(reinterpret_cast<volatile LONG64*>(lock), 0) != 1) {
    std::printf("BUGCHECK: KeReleaseSpinLock of a lock not held (SPIN_LOCK_NOT_OWNED)\n");
    KeBugCheckEx(0x10 /* SPIN_LOCK_NOT_OWNED */, 0, 0, 0, 0);
  }
  current_thread().irql = old;
}

}  // extern "C"

namespace {
KSPIN_LOCK g_cancel_lock = 0;
}

extern "C" {

VOID NTAPI IoAcquireCancelSpinLock(PKIRQL irql) {
  *irql = KeAcquireSpinLockRaiseToDpc(&g_cancel_lock);
}
VOID NTAPI IoReleaseCancelSpinLock(KIRQL irql) {
  KeReleaseSpinLock(&g_cancel_lock, irql);
}

}  // extern "C"
