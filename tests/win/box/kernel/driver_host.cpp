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
}  // namespace

std::int32_t load_driver() {
  PDRIVER_OBJECT driver = kernel::new_driver_object();
  UNICODE_STRING path;
  RtlInitUnicodeString(&path, L"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\hivewarden");
  become(4, true);
  const NTSTATUS status = DriverEntry(driver, &path);
  g_loaded = NT_SUCCESS(status);
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
  if (driver->DriverUnload != nullptr) driver->DriverUnload(driver);
  g_loaded = g_unload_pending = false;
}

namespace kernel {
void last_handle_closed() {
  if (g_unload_pending) unload_driver();
}
}  // namespace kernel

bool driver_loaded() {
  return g_loaded;
}

void machine_reset() {
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
