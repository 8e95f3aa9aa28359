// The checks Windows makes and Driver Verifier adds, as bugchecks: the IRQL a routine may be
// called at, spin locks (owner, recursion, the IRQL their release restores, none held when a
// driver routine returns), and KeBugCheckEx itself. A case that calls a routine wrongly on
// purpose runs it under bugcheck_of: the bugcheck then ends only that thread, and the case reads
// its code and reason.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.hpp"

namespace box::kernel {
namespace {

char g_reason[256];
ULONG g_caught = 0;  // the code of the bugcheck bugcheck_of's thread ended in

const char* irql_name(KIRQL irql) {
  switch (irql) {
    case PASSIVE_LEVEL:
      return "PASSIVE_LEVEL";
    case APC_LEVEL:
      return "APC_LEVEL";
    case DISPATCH_LEVEL:
      return "DISPATCH_LEVEL";
  }
  return "above DISPATCH_LEVEL";
}

// Lock order, as Driver Verifier's deadlock detection keeps it: every (held, then acquired) pair
// seen; acquiring in the reverse order of a pair seen before (on any thread) can deadlock.
struct Order {
  PKSPIN_LOCK first, then;
};
Order g_orders[128];
int g_order_count = 0;

// Records `held` -> `lock`; true when `lock` -> `held` was seen before.
bool inverts_order(PKSPIN_LOCK held, PKSPIN_LOCK lock) {
  Locked guard;
  bool inverted = false, known = false;
  for (int i = 0; i < g_order_count; ++i) {
    inverted = inverted || (g_orders[i].first == lock && g_orders[i].then == held);
    known = known || (g_orders[i].first == held && g_orders[i].then == lock);
  }
  if (!known && g_order_count < 128) g_orders[g_order_count++] = Order{held, lock};
  return inverted;
}

int held_index(Thread& self, PKSPIN_LOCK lock) {
  for (int i = self.locks_held - 1; i >= 0; --i) {
    if (self.held[i].lock == lock) return i;
  }
  return -1;
}

}  // namespace

void violation(ULONG code, ULONG_PTR p1, const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(g_reason, sizeof g_reason, format, args);
  va_end(args);
  std::printf(current_thread().bugcheck_ends_thread ? "    (caught, as the case expects: %s)\n"
                                                    : "BUGCHECK: %s\n",
              g_reason);
  KeBugCheckEx(code, p1, 0, 0, 0);
}

void require_irql(KIRQL highest, const char* routine) {
  const KIRQL irql = current_thread().irql;
  if (irql > highest) {
    violation(kIrqlNotLessOrEqual, irql, "%s called at %s (it needs %s or below)", routine,
              irql_name(irql), irql_name(highest));
  }
}

constexpr std::size_t kPainted = 64 * 1024;
constexpr unsigned char kPaint = 0xA5;
std::size_t g_most_stack = 0;

__attribute__((noinline)) void paint_stack() {
  unsigned char area[kPainted];
  std::memset(area, kPaint, sizeof area);
  asm volatile("" : : "r"(area) : "memory");  // the paint stays: it is for the frames to come
}

// The same frame as paint_stack's: area[0] is the deepest byte painted; the first byte not
// holding the paint, from there up, is as deep as the routine's frames went.
__attribute__((noinline)) std::size_t stack_used() {
  unsigned char area[kPainted];
  asm volatile("" : : "r"(area) : "memory");  // read what the paint and the frames left
  std::size_t i = 0;
  while (i < kPainted && area[i] == kPaint) ++i;
  return kPainted - i;
}

void check_stack(std::size_t used, const char* routine) {
  if (used > g_most_stack && !current_thread().bugcheck_ends_thread) g_most_stack = used;
  if (used > kStackBudget) {
    violation(0x7F /* UNEXPECTED_KERNEL_MODE_TRAP: a double fault */, used,
              "%s used %llu bytes of stack (budget %llu of a 24 KB kernel stack)", routine,
              static_cast<unsigned long long>(used), static_cast<unsigned long long>(kStackBudget));
  }
}

void lock_order_reset() {
  Locked guard;
  g_order_count = 0;
}

void check_returned_clean(KIRQL entered, const char* routine) {
  Thread& self = current_thread();
  if (self.locks_held != 0) {
    violation(kVerifierViolation, reinterpret_cast<ULONG_PTR>(self.held[0].lock),
              "%s returned holding %d spin lock(s)", routine, self.locks_held);
  }
  if (self.irql != entered) {
    violation(kIrqlNotLessOrEqual, self.irql, "%s returned at %s, called at %s", routine,
              irql_name(self.irql), irql_name(entered));
  }
}

}  // namespace box::kernel

using namespace box;
using namespace box::kernel;

extern "C" {

VOID NTAPI KeBugCheckEx(ULONG code, ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4) {
  Thread& self = current_thread();
  if (self.bugcheck_ends_thread) {
    g_caught = code;
    host::thread_exit();
  }
  std::printf("BUGCHECK 0x%lx (%llx, %llx, %llx, %llx): the box stops\n", code,
              static_cast<unsigned long long>(p1), static_cast<unsigned long long>(p2),
              static_cast<unsigned long long>(p3), static_cast<unsigned long long>(p4));
  std::fflush(stdout);
  std::_Exit(3);
}

KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK lock) {
  require_irql(DISPATCH_LEVEL, "KeAcquireSpinLock");
  Thread& self = current_thread();
  if (pool_is_paged(lock)) {
    violation(kVerifierViolation, reinterpret_cast<ULONG_PTR>(lock), "a spin lock in paged pool");
  }
  if (held_index(self, lock) >= 0) {
    violation(kVerifierViolation, reinterpret_cast<ULONG_PTR>(lock),
              "KeAcquireSpinLock of a lock this thread already holds (a deadlock on Windows)");
  }
  for (int i = 0; i < self.locks_held; ++i) {
    if (inverts_order(self.held[i].lock, lock)) {
      violation(kVerifierViolation, reinterpret_cast<ULONG_PTR>(lock),
                "spin locks taken in both orders (a deadlock when two threads meet)");
    }
  }
  if (self.locks_held == static_cast<int>(sizeof self.held / sizeof self.held[0])) {
    violation(kVerifierViolation, 0, "more than 8 spin locks held at once");
  }
  const auto owner = reinterpret_cast<LONG64>(&self);
  while (InterlockedCompareExchange64(reinterpret_cast<volatile LONG64*>(lock), owner, 0) != 0) {
    host::yield();
  }
  const KIRQL old = self.irql;
  self.held[self.locks_held++] = HeldLock{lock, old};
  self.irql = DISPATCH_LEVEL;
  if (old < DISPATCH_LEVEL) pool_trim_paged();
  return old;
}

VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK lock, KIRQL old) {
  Thread& self = current_thread();
  const int i = held_index(self, lock);
  if (i < 0) {
    violation(0x10 /* SPIN_LOCK_NOT_OWNED */, reinterpret_cast<ULONG_PTR>(lock),
              *lock == 0 ? "KeReleaseSpinLock of a lock not held"
                         : "KeReleaseSpinLock of a lock another thread holds");
  }
  if (old != self.held[i].old) {
    violation(kIrqlNotLessOrEqual, old,
              "KeReleaseSpinLock restores %s, but its acquire was made at %s", irql_name(old),
              irql_name(self.held[i].old));
  }
  for (int j = i; j + 1 < self.locks_held; ++j) self.held[j] = self.held[j + 1];
  --self.locks_held;
  if (self.locks_held != 0 && old < DISPATCH_LEVEL) {
    violation(kIrqlNotLessOrEqual, old,
              "KeReleaseSpinLock lowers the IRQL to %s while another spin lock is held",
              irql_name(old));
  }
  InterlockedExchange64(reinterpret_cast<volatile LONG64*>(lock), 0);
  self.irql = old;
}

}  // extern "C"

namespace box {
namespace {
struct Body {
  void (*run)(void*);
  void* argument;
};
void run_catching(void* p) {
  current_thread().bugcheck_ends_thread = true;
  auto* body = static_cast<Body*>(p);
  body->run(body->argument);
}
}  // namespace

std::uint32_t bugcheck_of(void (*run)(void*), void* argument) {
  g_caught = 0;
  g_reason[0] = 0;
  Body body{run, argument};
  host::thread_join(host::thread_start(run_catching, &body));
  return g_caught;
}

const char* last_bugcheck_reason() {
  return g_reason;
}

std::uint64_t most_stack_used() {
  return kernel::g_most_stack;
}

}  // namespace box
