// hivewarden.sys: the engine as a registry filter driver (WDM). DriverEntry reads the machine's
// settings, makes the engine, the per-call memory, the record queue and the control device, then
// registers the registry callback last, so that no operation arrives before everything it needs
// is there; unload undoes it in the opposite order. If the callback cannot be unregistered, a
// callback may still run: nothing it uses is freed (a leak rather than a use after free).
#include <new>

#include "driver_internal.hpp"

namespace hivewarden::driver {

Engine* g_engine = nullptr;

namespace {

void destroy_engine() {
  if (g_engine == nullptr) return;
  g_engine->~Engine();
  pool_free(g_engine);
  g_engine = nullptr;
}

void unload(PDRIVER_OBJECT driver) {
  if (!unregister_callbacks()) {
    // Callbacks may still come: keep what they use, and the image their code is in (a reference
    // on the driver object keeps it loaded).
    ObReferenceObject(driver);
    return;
  }
  drain_record_queue();
  free_kept_records();  // pre-operations whose post will not come now
  delete_control_device();
  free_scratch_slots();
  destroy_engine();
}

NTSTATUS make_engine() {
  void* memory = pool_allocate(sizeof(Engine));
  if (memory == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  EngineConfig config;
  config.keeps_call_contexts = false;  // paired through CallContext (call_context.cpp)
  g_engine = new (memory) Engine(config);
  return g_engine->ok() ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

}  // namespace

NTSTATUS start(PDRIVER_OBJECT driver, PCUNICODE_STRING registry_path) {
  initialize_pool();
  initialize_record_queue();
  initialize_call_contexts();
  read_machine_settings(registry_path);
  refresh_volume_names();
  driver->DriverUnload = unload;
  NTSTATUS status = make_engine();
  if (NT_SUCCESS(status) && !allocate_scratch_slots()) status = STATUS_INSUFFICIENT_RESOURCES;
  if (NT_SUCCESS(status)) status = create_control_device(driver);
  if (NT_SUCCESS(status)) status = register_callbacks(driver);
  if (!NT_SUCCESS(status)) unload(driver);
  return status;
}

}  // namespace hivewarden::driver

extern "C" NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path) {
  return hivewarden::driver::start(driver, registry_path);
}
