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

// A wait that may block needs APC_LEVEL or below; a zero time-out only tests (DISPATCH_LEVEL).
void check_may_wait(const char* what, bool zero_timeout) {
  require_irql(zero_timeout ? DISPATCH_LEVEL : APC_LEVEL, what);
}

// Dispatcher objects live in non-paged memory (the kernel touches them at DISPATCH_LEVEL).
void check_dispatcher_object(const void* object, const char* routine) {
  if (pool_is_paged(object)) {
    violation(kVerifierViolation, reinterpret_cast<ULONG_PTR>(object),
              "%s on a dispatcher object in paged pool", routine);
  }
}

}  // namespace

extern "C" {

VOID NTAPI KeInitializeEvent(PRKEVENT event, EVENT_TYPE type, BOOLEAN state) {
  check_dispatcher_object(event, "KeInitializeEvent");
  Locked lock;
  event->Header.Type = static_cast<UCHAR>(type);
  event->Header.SignalState = state ? 1 : 0;
  InitializeListHead(&event->Header.WaitListHead);
}

LONG NTAPI KeSetEvent(PRKEVENT event, KPRIORITY, BOOLEAN) {
  require_irql(DISPATCH_LEVEL, "KeSetEvent");
  Locked lock;
  const LONG previous = event->Header.SignalState;
  event->Header.SignalState = 1;
  host::monitor_broadcast();
  return previous;
}

VOID NTAPI KeInitializeSemaphore(PRKSEMAPHORE semaphore, LONG count, LONG limit) {
  check_dispatcher_object(semaphore, "KeInitializeSemaphore");
  if (limit <= 0 || count < 0 || count > limit) {
    violation(kVerifierViolation, static_cast<ULONG_PTR>(limit),
              "KeInitializeSemaphore with count %ld and limit %ld", count, limit);
  }
  Locked lock;
  semaphore->Header.Type = kSemaphoreType;
  semaphore->Header.SignalState = count;
  semaphore->Limit = limit;
  InitializeListHead(&semaphore->Header.WaitListHead);
}

// Past its limit Windows raises STATUS_SEMAPHORE_LIMIT_EXCEEDED, which in a driver is a bugcheck.
LONG NTAPI KeReleaseSemaphore(PRKSEMAPHORE semaphore, KPRIORITY, LONG adjustment, BOOLEAN) {
  require_irql(DISPATCH_LEVEL, "KeReleaseSemaphore");
  LONG previous;
  bool past_limit;
  {
    Locked lock;
    previous = semaphore->Header.SignalState;
    past_limit = adjustment <= 0 || previous + adjustment > semaphore->Limit;
    if (!past_limit) semaphore->Header.SignalState = previous + adjustment;
    host::monitor_broadcast();
  }
  if (past_limit) {
    violation(0x1E /* KMODE_EXCEPTION_NOT_HANDLED */, 0xC0000047 /* SEMAPHORE_LIMIT_EXCEEDED */,
              "KeReleaseSemaphore by %ld past the limit %ld (count %ld)", adjustment,
              semaphore->Limit, previous);
  }
  return previous;
}

NTSTATUS NTAPI KeWaitForSingleObject(PVOID object, KWAIT_REASON, KPROCESSOR_MODE, BOOLEAN,
                                     PLARGE_INTEGER timeout) {
  const std::uint32_t ms = timeout_ms(timeout);
  check_may_wait("KeWaitForSingleObject", ms == 0);
  check_dispatcher_object(object, "KeWaitForSingleObject");
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

}  // extern "C"

namespace {
KSPIN_LOCK g_cancel_lock = 0;
}

extern "C" {

VOID NTAPI IoAcquireCancelSpinLock(PKIRQL irql) {
  require_irql(DISPATCH_LEVEL, "IoAcquireCancelSpinLock");
  *irql = KeAcquireSpinLockRaiseToDpc(&g_cancel_lock);
}
VOID NTAPI IoReleaseCancelSpinLock(KIRQL irql) {
  KeReleaseSpinLock(&g_cancel_lock, irql);
}

}  // extern "C"
