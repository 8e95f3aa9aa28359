// The control device (\Device\hivewarden, \DosDevices\hivewarden) and its IOCTLs: the service
// pushes a policy, takes records (pended: see record_queue.cpp) and acknowledges sync records.
#include "driver_internal.hpp"
#include "hivewarden/win/ioctl.hpp"

namespace hivewarden::driver {
namespace {

PDEVICE_OBJECT g_device = nullptr;
bool g_link_created = false;

NTSTATUS complete(PIRP irp, NTSTATUS status) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

NTSTATUS dispatch_create_close(PDEVICE_OBJECT, PIRP irp) {
  return complete(irp, STATUS_SUCCESS);
}

// A compiled policy blob, validated before the swap; the old policy stays on failure.
NTSTATUS set_policy(const void* buffer, ULONG length) {
  PolicyError error;
  if (buffer == nullptr || !g_engine->install_policy(buffer, length, error)) {
    return STATUS_INVALID_PARAMETER;
  }
  return STATUS_SUCCESS;
}

NTSTATUS dispatch_ioctl(PDEVICE_OBJECT, PIRP irp) {
  PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
  const ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
  const void* buffer = irp->AssociatedIrp.SystemBuffer;
  const ULONG in_length = stack->Parameters.DeviceIoControl.InputBufferLength;
  switch (code) {
    case win::kIoctlSetPolicy:
      return complete(irp, set_policy(buffer, in_length));
    case win::kIoctlAcknowledge:
      if (buffer == nullptr || in_length < sizeof(ULONG64)) {
        return complete(irp, STATUS_INVALID_PARAMETER);
      }
      acknowledge(*static_cast<const ULONG64*>(buffer));
      return complete(irp, STATUS_SUCCESS);
    case win::kIoctlGetNotification:
      return get_notification(irp);
    default:
      return complete(irp, STATUS_INVALID_DEVICE_REQUEST);
  }
}

}  // namespace

NTSTATUS create_control_device(PDRIVER_OBJECT driver) {
  UNICODE_STRING device_name, dos_name;
  RtlInitUnicodeString(&device_name, win::kDeviceName);
  RtlInitUnicodeString(&dos_name, win::kDosDeviceName);
  NTSTATUS status = IoCreateDevice(driver, 0, &device_name, FILE_DEVICE_UNKNOWN,
                                   FILE_DEVICE_SECURE_OPEN, FALSE, &g_device);
  if (!NT_SUCCESS(status)) return status;
  status = IoCreateSymbolicLink(&dos_name, &device_name);
  if (!NT_SUCCESS(status)) return status;
  g_link_created = true;
  driver->MajorFunction[IRP_MJ_CREATE] = dispatch_create_close;
  driver->MajorFunction[IRP_MJ_CLOSE] = dispatch_create_close;
  driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch_ioctl;
  return STATUS_SUCCESS;
}

void delete_control_device() {
  if (g_link_created) {
    UNICODE_STRING dos_name;
    RtlInitUnicodeString(&dos_name, win::kDosDeviceName);
    IoDeleteSymbolicLink(&dos_name);
    g_link_created = false;
  }
  if (g_device != nullptr) IoDeleteDevice(g_device);
  g_device = nullptr;
}

}  // namespace hivewarden::driver
