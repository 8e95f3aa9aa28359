// hivewarden.sys: the engine as a registry filter driver (WDM). DriverEntry makes the engine, the
// per-call memory, the record queue and the control device, then registers the registry callback
// last, so that no operation arrives before everything it needs is there; unload undoes it in the
// opposite order.
#include <new>

#include "driver_internal.hpp"

namespace hivewarden::driver {

Engine* g_engine = nullptr;

namespace {

void destroy_engine() {
  if (g_engine == nullptr) return;
  g_engine->~Engine();
  ExFreePoolWithTag(g_engine, kTag);
  g_engine = nullptr;
}

void unload(PDRIVER_OBJECT) {
  unregister_callbacks();  // no callback runs past this point
  drain_record_queue();
  delete_control_device();
  free_scratch_slots();
  destroy_engine();
}

NTSTATUS make_engine() {
  void* memory = ExAllocatePoolWithTag(NonPagedPool, sizeof(Engine), kTag);
  if (memory == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  g_engine = new (memory) Engine();
  return g_engine->ok() ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

}  // namespace

NTSTATUS start(PDRIVER_OBJECT driver) {
  initialize_record_queue();
  if (!find_kernel_routines()) return STATUS_NOT_SUPPORTED;
  driver->DriverUnload = unload;
  NTSTATUS status = make_engine();
  if (NT_SUCCESS(status)) {
    allocate_scratch_slots();
    status = create_control_device(driver);
  }
  if (NT_SUCCESS(status)) status = register_callbacks(driver);
  if (!NT_SUCCESS(status)) unload(driver);
  return status;
}

}  // namespace hivewarden::driver

extern "C" NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING) {
  return hivewarden::driver::start(driver);
}
