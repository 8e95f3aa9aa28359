// Every pool allocation made to fail in turn, over a whole life of the driver (DriverEntry, a
// service connecting, a policy push, a run of operations, unload): no crash, no leak at the end,
// and a write the policy denies is denied even when the allocation that failed was its own.
#include <cstdio>

#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {

struct Step {
  RegOp op;
  bool denied;  // the policy's verdict (tests/win/box/data/policy.yaml)
};

RegOp with_class(RegOp op, std::uint32_t cls) {
  op.pre_class = cls;
  return op;
}

constexpr const wchar_t* kLocked = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Locked";
constexpr const wchar_t* kGuarded = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Guarded";
constexpr const wchar_t* kWatched = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Watched\\Run";
constexpr const wchar_t* kOther = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Other";

int steps(Step* out) {
  int n = 0;
  out[n++] = {set_value(kLocked, L"Anything"), true};
  out[n++] = {set_value(kGuarded, L"Setting1"), true};
  out[n++] = {with_class(set_value(kGuarded, L"Setting1"), 0x02), false};  // delete-value: notified
  out[n++] = {with_class(set_value(kGuarded, nullptr), 0x00), true};       // delete-key
  out[n++] = {set_value(kWatched, L"Payload"), false};                     // notified
  out[n++] = {set_value(kOther, L"Payload"), false};
  out[n++] = {with_class(set_value(kWatched, L"Payload"), 0x08), false};  // query-value
  out[n++] = {with_class(set_value(kWatched, L"Payload"), 0x02), false};  // notified
  return n;
}

// One life of the driver with the armed failure; false when the failure was never reached.
bool one_life(std::uint64_t nth, Report& report) {
  machine_reset();
  define_box_processes();
  pool_fail_nth(nth);
  char where[128];
  const std::int32_t loaded = load_driver();
  if (loaded == kStatusSuccess) {
    std::int32_t status = 0;
    Handle* h = open_device_as(Caller::kSystem, kReadWrite, status);
    if (h != nullptr) {
      io_control(h, hivewarden::win::kIoctlConnect, nullptr, 0, nullptr, 0);
      // Without a policy in force (its push is what failed) nothing is denied: that is right.
      const bool policy = push_policy_file(h, "policy.hwp") == kStatusSuccess;
      define_process(kRegPid, kRegImage, Caller::kUser);
      become(kRegPid);
      Step list[16];
      const int count = steps(list);
      for (int i = 0; i < count; ++i) {
        const std::int32_t got = cm_call(list[i].op);
        if (policy && list[i].denied && got != kStatusAccessDenied) {
          std::snprintf(where, sizeof where, "allocation %llu (%s)",
                        static_cast<unsigned long long>(nth), pool_failed_allocation());
          report.fail("%s failed: step %d (a denied write) let through: 0x%lx", where, i,
                      static_cast<unsigned long>(got));
        }
      }
      become(4, true);
      io_close(h);
    }
    unload_driver();
  }
  const PoolStats pool = pool_stats();
  if (pool.live_blocks != 0) {
    report.fail("allocation %llu failed (DriverEntry 0x%lx): %llu pool block(s) leaked",
                static_cast<unsigned long long>(nth), static_cast<unsigned long>(loaded),
                static_cast<unsigned long long>(pool.live_blocks));
    pool_print_live();
  }
  if (cm_callbacks_registered() != 0 || io_devices() != 0 || open_kernel_handles() != 0) {
    report.fail("allocation %llu failed: callback, device or handle left after unload",
                static_cast<unsigned long long>(nth));
  }
  return pool_failure_injected();
}

}  // namespace

BOX_CASE(every_pool_allocation_failing_in_turn,
         "SPEC 11: fail closed for writes that cannot be decided") {
  std::uint64_t nth = 1;
  while (one_life(nth, report) && nth < 5000) ++nth;
  std::printf("    (%llu allocation points failed in turn)\n",
              static_cast<unsigned long long>(nth - 1));
  report.check(nth > 5, "the driver's life allocates from pool");
}

BOX_CASE(driver_entry_failing_allocations_leave_nothing) {
  // DriverEntry alone: each of its allocations failing leaves no callback, device, link or block.
  for (std::uint64_t nth = 1; nth < 200; ++nth) {
    machine_reset();
    pool_fail_nth(nth);
    const std::int32_t loaded = load_driver();
    const bool injected = pool_failure_injected();
    if (loaded == kStatusSuccess) unload_driver();
    const PoolStats pool = pool_stats();
    if (pool.live_blocks != 0 || cm_callbacks_registered() != 0 || io_devices() != 0) {
      report.fail(
          "allocation %llu of DriverEntry failed (0x%lx): %llu block(s), %d callback(s), %d "
          "device(s) left",
          static_cast<unsigned long long>(nth), static_cast<unsigned long>(loaded),
          static_cast<unsigned long long>(pool.live_blocks), cm_callbacks_registered(),
          io_devices());
      pool_print_live();
    }
    if (!injected) break;
  }
}

}  // namespace box::cases
