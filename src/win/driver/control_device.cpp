// The control device (\Device\hivewarden, \DosDevices\hivewarden) and its IOCTLs (SPEC §11). Only
// SYSTEM and Administrators can open it: FILE_DEVICE_SECURE_OPEN, and a DACL with their two SIDs
// set before the link exists. Each IOCTL code names the access its handle needs (ioctl.hpp), which
// the I/O manager checks before the request gets here. One handle at a time is the consumer of
// records (IOCTL_CONNECT, record_queue.cpp).
#include <ntifs.h>  // SeExports, SE_EXPORTS

#include "driver_internal.hpp"
#include "hivewarden/core/policy_ref.hpp"

// Exported by ntoskrnl.exe, missing from mingw-w64's DDK headers.
extern "C" {
NTSYSAPI NTSTATUS NTAPI RtlCreateAcl(PACL acl, ULONG length, ULONG revision);
NTKERNELAPI NTSTATUS NTAPI ObSetSecurityObjectByPointer(PVOID object,
                                                        SECURITY_INFORMATION information,
                                                        PSECURITY_DESCRIPTOR descriptor);
}

namespace hivewarden::driver {
namespace {

PDEVICE_OBJECT g_device = nullptr;
bool g_link_created = false, g_process_table_started = false;
// Policies refused here before the engine saw them (too big, wrong control set); the engine
// counts the ones it refused itself (corrupt, no memory).
volatile LONG64 g_policy_rejected = 0;

NTSTATUS complete(PIRP irp, NTSTATUS status, ULONG_PTR information = 0) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

// --- the device's security ----------------------------------------------------------------------
// A DACL granting FILE_ALL_ACCESS to SYSTEM and to Administrators, and nothing to anyone else.
PACL make_admin_only_dacl() {
  PSID system = SeExports->SeLocalSystemSid, admins = SeExports->SeAliasAdminsSid;
  const ULONG ace_header = FIELD_OFFSET(ACCESS_ALLOWED_ACE, SidStart);
  const ULONG length = sizeof(ACL) + 2 * ace_header + RtlLengthSid(system) + RtlLengthSid(admins);
  auto* acl = static_cast<PACL>(pool_allocate(length));
  if (acl == nullptr) return nullptr;
  if (!NT_SUCCESS(RtlCreateAcl(acl, length, ACL_REVISION)) ||
      !NT_SUCCESS(RtlAddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, system)) ||
      !NT_SUCCESS(RtlAddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, admins))) {
    pool_free(acl);
    return nullptr;
  }
  return acl;
}

// Replaces the device's DACL (IoCreateDevice's default lets any user open it) with the one above.
NTSTATUS secure_device(PDEVICE_OBJECT device) {
  PACL acl = make_admin_only_dacl();
  if (acl == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  SECURITY_DESCRIPTOR descriptor;
  NTSTATUS status = RtlCreateSecurityDescriptor(&descriptor, SECURITY_DESCRIPTOR_REVISION);
  if (NT_SUCCESS(status)) status = RtlSetDaclSecurityDescriptor(&descriptor, TRUE, acl, FALSE);
  if (NT_SUCCESS(status)) {
    status = ObSetSecurityObjectByPointer(device, DACL_SECURITY_INFORMATION, &descriptor);
  }
  pool_free(acl);  // the object manager keeps its own copy
  return status;
}

// --- IRP_MJ_CREATE, CLEANUP, CLOSE --------------------------------------------------------------
NTSTATUS dispatch_create(PDEVICE_OBJECT, PIRP irp) {
  PFILE_OBJECT file = IoGetCurrentIrpStackLocation(irp)->FileObject;
  // The device has no namespace: \\.\hivewarden\anything is not it.
  if (file != nullptr && file->FileName.Length != 0)
    return complete(irp, STATUS_OBJECT_NAME_NOT_FOUND);
  return complete(irp, STATUS_SUCCESS);
}

// Cleanup (the last handle closed) ends the consumer's connection; close does too, for a CONNECT
// that raced the cleanup (record_queue.cpp).
NTSTATUS dispatch_cleanup_close(PDEVICE_OBJECT, PIRP irp) {
  disconnect_consumer(IoGetCurrentIrpStackLocation(irp)->FileObject);
  return complete(irp, STATUS_SUCCESS);
}

// --- IOCTLs -------------------------------------------------------------------------------------
// A compiled policy blob: its size is checked before anything is copied, then it is validated
// (the engine copies it) and its control set compared with the machine's before the swap. The
// old policy stays on every failure, and the failure is counted.
NTSTATUS set_policy(const void* buffer, ULONG length) {
  if (length > win::kMaxPolicyBytes) {
    InterlockedIncrement64(&g_policy_rejected);
    return STATUS_INVALID_BUFFER_SIZE;
  }
  PolicyError error;
  const PolicyRef policy = g_engine->prepare_policy(buffer, buffer != nullptr ? length : 0, error);
  if (!policy) return STATUS_INVALID_PARAMETER;  // corrupt, empty or no memory: the engine counted
  const std::uint32_t machine = machine_control_set();
  if (machine != 0 && policy.view().control_set() != machine) {
    InterlockedIncrement64(&g_policy_rejected);
    return STATUS_REVISION_MISMATCH;
  }
  return g_engine->install_prepared(policy) ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

// DriverCounters from the queue, the process table, the engine and the registry callback.
NTSTATUS get_counters(PIRP irp, ULONG out_length) {
  void* out = irp->AssociatedIrp.SystemBuffer;
  if (out == nullptr || out_length < sizeof(win::DriverCounters)) {
    return complete(irp, STATUS_BUFFER_TOO_SMALL);
  }
  win::DriverCounters counters;
  queue_counters(counters);
  counters.process_entries = process_entries();
  const EngineStats engine = g_engine->stats();
  counters.policy_swaps = engine.policy_swaps;
  counters.policy_rejected = engine.policy_rejected + static_cast<std::uint64_t>(g_policy_rejected);
  counters.call_contexts_outstanding = engine.contexts_outstanding;
  callback_counters(counters);
  RtlCopyMemory(out, &counters, sizeof counters);
  return complete(irp, STATUS_SUCCESS, sizeof counters);
}

NTSTATUS acknowledge_request(PFILE_OBJECT file, const void* buffer, ULONG length) {
  if (buffer == nullptr || length != sizeof(ULONG64)) return STATUS_INVALID_PARAMETER;
  ULONG64 sequence;
  RtlCopyMemory(&sequence, buffer, sizeof sequence);
  return acknowledge(file, sequence);
}

NTSTATUS process_flags_request(const void* buffer, ULONG length) {
  if (buffer == nullptr || length != sizeof(win::ProcessFlagsRequest)) {
    return STATUS_INVALID_PARAMETER;
  }
  win::ProcessFlagsRequest request;
  RtlCopyMemory(&request, buffer, sizeof request);
  return set_process_flags(request);
}

NTSTATUS dispatch_ioctl(PDEVICE_OBJECT, PIRP irp) {
  PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
  const ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
  const void* buffer = irp->AssociatedIrp.SystemBuffer;
  const ULONG in_length = stack->Parameters.DeviceIoControl.InputBufferLength;
  switch (code) {
    case win::kIoctlConnect: {
      const NTSTATUS status = connect_consumer(stack->FileObject);
      if (NT_SUCCESS(status)) refresh_volume_names();  // drive letters may have changed since load
      return complete(irp, status);
    }
    case win::kIoctlSetPolicy:
      return complete(irp, set_policy(buffer, in_length));
    case win::kIoctlGetNotification:
      return get_notification(irp);
    case win::kIoctlAcknowledge:
      return complete(irp, acknowledge_request(stack->FileObject, buffer, in_length));
    case win::kIoctlGetCounters:
      return get_counters(irp, stack->Parameters.DeviceIoControl.OutputBufferLength);
    case win::kIoctlSetProcessFlags:
      return complete(irp, process_flags_request(buffer, in_length));
    default:
      return complete(irp, STATUS_INVALID_DEVICE_REQUEST);
  }
}

}  // namespace

NTSTATUS create_control_device(PDRIVER_OBJECT driver) {
  g_policy_rejected = 0;  // counts since this load
  driver->MajorFunction[IRP_MJ_CREATE] = dispatch_create;
  driver->MajorFunction[IRP_MJ_CLEANUP] = dispatch_cleanup_close;
  driver->MajorFunction[IRP_MJ_CLOSE] = dispatch_cleanup_close;
  driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch_ioctl;
  start_process_table();
  g_process_table_started = true;
  UNICODE_STRING device_name, dos_name;
  RtlInitUnicodeString(&device_name, win::kDeviceName);
  RtlInitUnicodeString(&dos_name, win::kDosDeviceName);
  NTSTATUS status = IoCreateDevice(driver, 0, &device_name, FILE_DEVICE_UNKNOWN,
                                   FILE_DEVICE_SECURE_OPEN, FALSE, &g_device);
  if (!NT_SUCCESS(status)) return status;
  // No link (no way in from user mode) until the device is secured; no device if it cannot be.
  status = secure_device(g_device);
  if (!NT_SUCCESS(status)) return status;
  status = IoCreateSymbolicLink(&dos_name, &device_name);
  if (!NT_SUCCESS(status)) return status;
  g_link_created = true;
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
  if (g_process_table_started) stop_process_table();
  g_process_table_started = false;
}

}  // namespace hivewarden::driver
