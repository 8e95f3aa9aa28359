// The driver on the machine: its altitude does not collide with WdFilter's, its pool is not
// executable, routines looked up by name may be absent.
#include "runner.hpp"
#include "service.hpp"

namespace box::cases {

BOX_CASE(loads_beside_wdfilter, "SPEC 11: configurable altitude outside Microsoft's ranges") {
  cm_occupy_altitude(L"328010");  // WdFilter's
  const std::int32_t status = load_driver();
  if (status != kStatusSuccess)
    report.fail("DriverEntry: 0x%lx with WdFilter loaded", static_cast<unsigned long>(status));
}

BOX_CASE(altitude_from_the_service_key, "SPEC 11: configurable altitude") {
  reg_set_sz(L"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\hivewarden\\Parameters",
             L"Altitude", L"415999");
  cm_occupy_altitude(L"415310");  // the default is taken: the configured one must be used
  cm_occupy_altitude(L"328010");  // and WdFilter's
  report.check(load_driver() == kStatusSuccess, "DriverEntry registers at the configured altitude");
}

BOX_CASE(no_executable_pool, "SPEC 11: NonPagedPoolNx / ExAllocatePool2") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  tamper_write_denied();
  io_close(h);
  unload_driver();
  report.check(pool_stats().executable_requests == 0, "no allocation from executable pool");
}

BOX_CASE(without_exallocatepool2) {
  set_routine_present(L"ExAllocatePool2", false);
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(tamper_write_denied(), "decides with the older allocator");
  io_close(h);
}

BOX_CASE(without_key_name_routines_refuses_to_load) {
  set_routine_present(L"CmCallbackGetKeyObjectIDEx", false);
  report.check(load_driver() != kStatusSuccess, "DriverEntry fails without key names");
  report.check(cm_callbacks_registered() == 0 && io_devices() == 0,
               "and leaves nothing registered");
  report.check(pool_stats().live_blocks == 0, "nor allocated");
}

}  // namespace box::cases
