// Loading and unloading the driver as the I/O manager does: a DRIVER_OBJECT with every major
// function set to the default, DriverEntry with the service key, DriverUnload (never after a
// failed DriverEntry: Windows does not call it then).
#include "internal.hpp"

extern "C" NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path);

namespace box::kernel {
PDRIVER_OBJECT new_driver_object();
int open_device_handles();
}  // namespace box::kernel

namespace box {
namespace {
bool g_loaded = false;
bool g_unload_pending = false;

// What Driver Verifier checks when a driver's image goes (after DriverUnload, or after a failed
// DriverEntry): every pool block freed, and (the box's addition) every kernel handle closed.
void check_nothing_left() {
  kernel::pool_check_unload();
  const int handles = open_kernel_handles();
  if (handles != 0) {
    kernel::violation(kernel::kVerifierViolation, 0x62,
                      "the driver unloads with %d kernel handle(s) not closed", handles);
  }
}
}  // namespace

std::int32_t load_driver() {
  PDRIVER_OBJECT driver = kernel::new_driver_object();
  UNICODE_STRING path;
  RtlInitUnicodeString(&path, L"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\hivewarden");
  become(4, true);
  kernel::paint_stack();
  const NTSTATUS status = DriverEntry(driver, &path);
  kernel::check_stack(kernel::stack_used(), "DriverEntry");
  kernel::check_returned_clean(PASSIVE_LEVEL, "DriverEntry");
  g_loaded = NT_SUCCESS(status);
  if (!g_loaded) check_nothing_left();
  return status;
}

void unload_driver(bool force) {
  if (!g_loaded) return;
  if (!force && kernel::open_device_handles() != 0) {
    g_unload_pending = true;
    return;
  }
  PDRIVER_OBJECT driver = kernel::current_driver();
  become(4, true);
  kernel::paint_stack();
  if (driver->DriverUnload != nullptr) driver->DriverUnload(driver);
  kernel::check_stack(kernel::stack_used(), "DriverUnload");
  kernel::check_returned_clean(PASSIVE_LEVEL, "DriverUnload");
  g_loaded = g_unload_pending = false;
  // A driver that referenced its own object keeps its image, and so its memory: nothing to check.
  if (kernel::g_driver_references == 0) check_nothing_left();
}

namespace kernel {
void last_handle_closed() {
  if (g_unload_pending) unload_driver();
}
}  // namespace kernel

void verify_nothing_left() {
  check_nothing_left();
}
void verify_freed_pool() {
  kernel::pool_check_freed();
}

bool driver_loaded() {
  return g_loaded;
}

void machine_reset() {
  pool_watch_faults();
  kernel::pool_reset();
  kernel::lock_order_reset();
  kernel::security_reset();
  kernel::objects_reset();
  kernel::processes_reset();
  kernel::io_reset();
  cm_reset();
  routines_reset();
  reg_reset();
  pool_reset_counts();
}

}  // namespace box
