// Loading and unloading: DriverEntry registers the callback and makes the device; unload undoes
// all of it and leaves no pool block, handle or link behind.
#include "box.hpp"
#include "runner.hpp"

namespace box::cases {

BOX_CASE(load_then_unload_leaves_nothing) {
  const std::int32_t status = load_driver();
  if (!report.check(status == 0, "DriverEntry succeeds")) return;
  report.check(cm_callbacks_registered() == 1, "one registry callback registered");
  report.check(io_devices() == 1, "one control device");
  unload_driver();
  report.check(cm_callbacks_registered() == 0, "no callback after unload");
  report.check(io_devices() == 0, "no device after unload");
  report.check(open_kernel_handles() == 0, "no kernel handle left open");
  const PoolStats pool = pool_stats();
  if (pool.live_blocks != 0) {
    report.fail("%llu pool block(s) leaked", static_cast<unsigned long long>(pool.live_blocks));
    pool_print_live();
  }
  report.check(pool.bad_frees == 0, "every free was of a live block with its tag");
}

}  // namespace box::cases
