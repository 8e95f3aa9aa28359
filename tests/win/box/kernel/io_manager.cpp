// The I/O manager: devices (IoCreateDevice, a security descriptor set on them), opening a device
// with an access check against its DACL (IRP_MJ_CREATE), IRP_MJ_DEVICE_CONTROL with METHOD_BUFFERED
// system buffers after the IOCTL's access bits are checked against the handle's granted access,
// pending and cancel, IRP_MJ_CLEANUP and IRP_MJ_CLOSE when the handle closes, and completion
// waking the caller.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>

#include "internal.hpp"

namespace box::kernel {
namespace {

struct Device {
  PDEVICE_OBJECT object;
  wchar_t* name;
  PSECURITY_DESCRIPTOR descriptor;  // null: the default a device gets
};
Device g_devices[8];
PDRIVER_OBJECT g_driver = nullptr;
int g_open_handles = 0;  // file objects on the driver's devices (they keep it loaded)

Device* device_of(PVOID object) {
  for (Device& d : g_devices) {
    if (d.object != nullptr && d.object == object) return &d;
  }
  return nullptr;
}

}  // namespace

PDEVICE_OBJECT device_by_name(const wchar_t* name) {
  Locked lock;
  for (Device& d : g_devices) {
    if (d.object != nullptr && d.name != nullptr && _wcsicmp(d.name, name) == 0) return d.object;
  }
  return nullptr;
}

}  // namespace box::kernel

namespace box {

struct AsyncIo {
  IRP irp;  // first: IofCompleteRequest finds the request from the IRP
  IO_STACK_LOCATION stack[2];
  Handle* handle;
  void* system_buffer;
  unsigned char* output;
  ULONG output_length;
  bool completed;
  AsyncIo* next_outstanding;
};

struct Handle {
  FILE_OBJECT file;
  PDEVICE_OBJECT device;
  ACCESS_MASK granted;
  AsyncIo* outstanding;
};

}  // namespace box

using namespace box;
using namespace box::kernel;

namespace {

AsyncIo* new_request(Handle* h, UCHAR major) {
  auto* io = static_cast<AsyncIo*>(std::calloc(1, sizeof(AsyncIo)));
  io->handle = h;
  IRP& irp = io->irp;
  irp.Type = IO_TYPE_IRP;
  irp.Size = sizeof(IRP) + sizeof io->stack;
  irp.StackCount = 1;
  irp.CurrentLocation = 1;
  irp.RequestorMode = UserMode;
  InitializeListHead(&irp.ThreadListEntry);
  InitializeListHead(&irp.Tail.Overlay.ListEntry);
  irp.Tail.Overlay.CurrentStackLocation = &io->stack[0];
  io->stack[0].MajorFunction = major;
  io->stack[0].DeviceObject = h->device;
  io->stack[0].FileObject = &h->file;
  return io;
}

// Calls the driver's dispatch routine for the request, as IoCallDriver does.
// Then checks what Driver Verifier's I/O verification checks of the routine's return: IRQL and
// spin locks as they were, STATUS_PENDING exactly when the IRP was marked pending, and otherwise
// the IRP completed, with the status returned.
NTSTATUS call_driver(AsyncIo* io) {
  const UCHAR major = io->stack[0].MajorFunction;
  PDRIVER_DISPATCH dispatch = io->handle->device->DriverObject->MajorFunction[major];
  const KIRQL entered = current_thread().irql;
  paint_stack();
  const NTSTATUS status = dispatch(io->handle->device, &io->irp);
  check_stack(stack_used(), "a dispatch routine");
  check_returned_clean(entered, "a dispatch routine");
  bool marked, completed;
  NTSTATUS completed_with;
  {
    Locked lock;
    marked = (io->stack[0].Control & SL_PENDING_RETURNED) != 0;
    completed = io->completed;
    completed_with = io->irp.IoStatus.Status;
  }
  if (status == STATUS_PENDING && !marked) {
    violation(kIoManagerViolation, major, "STATUS_PENDING returned without IoMarkIrpPending");
  }
  if (status == STATUS_PENDING) return status;
  if (marked) {
    violation(kIoManagerViolation, major,
              "IoMarkIrpPending, then 0x%lx returned, not STATUS_PENDING", status);
  }
  if (!completed) {
    violation(kIoManagerViolation, major, "dispatch returned 0x%lx without completing the IRP",
              status);
  }
  if (completed_with != status) {
    violation(kIoManagerViolation, major,
              "dispatch returned 0x%lx but completed the IRP with 0x%lx", status, completed_with);
  }
  return status;
}

bool wait_completed(AsyncIo* io, std::uint32_t ms) {
  const std::uint64_t deadline = host::now_ms() + ms;
  Locked lock;
  while (!io->completed) {
    const std::uint64_t now = host::now_ms();
    if (ms != host::kForever && now >= deadline) return false;
    host::monitor_wait(ms == host::kForever ? host::kForever
                                            : static_cast<std::uint32_t>(deadline - now));
  }
  return true;
}

NTSTATUS send_and_wait(AsyncIo* io) {
  call_driver(io);
  wait_completed(io, host::kForever);
  const NTSTATUS status = io->irp.IoStatus.Status;
  return status;
}

void forget_outstanding(AsyncIo* io) {
  Locked lock;
  for (AsyncIo** p = &io->handle->outstanding; *p != nullptr; p = &(*p)->next_outstanding) {
    if (*p == io) {
      *p = io->next_outstanding;
      return;
    }
  }
}

NTSTATUS NTAPI invalid_request(PDEVICE_OBJECT, PIRP irp) {
  irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
  irp->IoStatus.Information = 0;
  IofCompleteRequest(irp, IO_NO_INCREMENT);
  return STATUS_INVALID_DEVICE_REQUEST;
}

}  // namespace

namespace box::kernel {

PDRIVER_OBJECT current_driver() {
  return g_driver;
}
void last_handle_closed();  // driver_host.cpp: a deferred unload runs now
int open_device_handles() {
  Locked lock;
  return g_open_handles;
}

PDRIVER_OBJECT new_driver_object() {
  g_driver =
      static_cast<PDRIVER_OBJECT>(std::calloc(1, sizeof(DRIVER_OBJECT) + sizeof(DRIVER_EXTENSION)));
  g_driver->Type = IO_TYPE_DRIVER;
  g_driver->Size = sizeof(DRIVER_OBJECT);
  g_driver->DriverExtension = reinterpret_cast<PDRIVER_EXTENSION>(g_driver + 1);
  g_driver->DriverExtension->DriverObject = g_driver;
  for (auto& f : g_driver->MajorFunction) f = invalid_request;
  return g_driver;
}

void io_reset() {
  Locked lock;
  for (Device& d : g_devices) {
    std::free(d.name);
    std::free(d.descriptor);
    d = Device{};
  }
}

}  // namespace box::kernel

extern "C" {

NTSTATUS NTAPI IoCreateDevice(PDRIVER_OBJECT driver, ULONG extension_size, PUNICODE_STRING name,
                              DEVICE_TYPE type, ULONG characteristics, BOOLEAN exclusive,
                              PDEVICE_OBJECT* out) {
  require_irql(PASSIVE_LEVEL, "IoCreateDevice");
  Locked lock;
  for (const Device& d : g_devices) {
    if (d.object != nullptr && name != nullptr &&
        same_name(name->Buffer, name->Length / 2, d.name)) {
      return STATUS_OBJECT_NAME_COLLISION;
    }
  }
  for (Device& d : g_devices) {
    if (d.object != nullptr) continue;
    auto* device =
        static_cast<PDEVICE_OBJECT>(std::calloc(1, sizeof(DEVICE_OBJECT) + extension_size));
    device->Type = IO_TYPE_DEVICE;
    device->Size = sizeof(DEVICE_OBJECT);
    device->DriverObject = driver;
    device->NextDevice = driver->DeviceObject;
    driver->DeviceObject = device;
    device->DeviceExtension = extension_size != 0 ? device + 1 : nullptr;
    device->DeviceType = type;
    device->Characteristics = characteristics;
    device->Flags = DO_DEVICE_INITIALIZING | (exclusive ? DO_EXCLUSIVE : 0);
    device->StackSize = 1;
    d = Device{device, name != nullptr ? copy_name(name->Buffer, name->Length / 2) : nullptr,
               nullptr};
    *out = device;
    return STATUS_SUCCESS;
  }
  return STATUS_INSUFFICIENT_RESOURCES;
}

VOID NTAPI IoDeleteDevice(PDEVICE_OBJECT device) {
  require_irql(PASSIVE_LEVEL, "IoDeleteDevice");
  Locked lock;
  Device* d = device_of(device);
  if (d == nullptr) KeBugCheckEx(0xDEAD0001, reinterpret_cast<ULONG_PTR>(device), 0, 0, 0);
  for (PDEVICE_OBJECT* p = &device->DriverObject->DeviceObject; *p != nullptr;
       p = &(*p)->NextDevice) {
    if (*p == device) {
      *p = device->NextDevice;
      break;
    }
  }
  std::free(d->name);
  std::free(d->descriptor);
  *d = Device{};
  std::free(device);
}

NTSTATUS NTAPI ObSetSecurityObjectByPointer(PVOID object, SECURITY_INFORMATION information,
                                            PSECURITY_DESCRIPTOR descriptor) {
  require_irql(PASSIVE_LEVEL, "ObSetSecurityObjectByPointer");
  Locked lock;
  Device* d = device_of(object);
  if (d == nullptr) return STATUS_OBJECT_TYPE_MISMATCH;
  if (!(information & DACL_SECURITY_INFORMATION)) return STATUS_SUCCESS;
  std::free(d->descriptor);
  d->descriptor = copy_descriptor(descriptor);
  return STATUS_SUCCESS;
}

// Completion as the I/O manager does it (METHOD_BUFFERED: Information bytes of the system buffer
// copied to the caller's), after the checks Windows and Driver Verifier make.
VOID FASTCALL IofCompleteRequest(PIRP irp, CCHAR) {
  require_irql(DISPATCH_LEVEL, "IoCompleteRequest");
  auto* io = reinterpret_cast<AsyncIo*>(irp);
  const auto where = reinterpret_cast<ULONG_PTR>(irp);
  if (io->completed) {
    violation(MULTIPLE_IRP_COMPLETE_REQUESTS, where, "an IRP completed twice");
  }
  if (irp->CancelRoutine != nullptr) {
    violation(0x48 /* CANCEL_STATE_IN_COMPLETED_IRP */, where,
              "an IRP completed with its cancel routine still set");
  }
  const NTSTATUS status = irp->IoStatus.Status;
  if (status == STATUS_PENDING) {
    violation(kIoManagerViolation, where, "an IRP completed with STATUS_PENDING");
  }
  const ULONG_PTR information = irp->IoStatus.Information;
  const bool buffered_ioctl =
      io->stack[0].MajorFunction == IRP_MJ_DEVICE_CONTROL &&
      (io->stack[0].Parameters.DeviceIoControl.IoControlCode & 3) == METHOD_BUFFERED;
  if (buffered_ioctl && !NT_ERROR(status) && information > io->output_length) {
    violation(kIoManagerViolation, where,
              "IoStatus.Information %llu is larger than the output buffer (%lu bytes): the I/O "
              "manager would copy past it",
              static_cast<unsigned long long>(information), io->output_length);
  }
  Locked lock;
  if (buffered_ioctl && !NT_ERROR(status) && information != 0) {
    std::memcpy(io->output, io->system_buffer, information);
  }
  io->completed = true;
  host::monitor_broadcast();
}

}  // extern "C"

namespace box {

Handle* io_open(const wchar_t* path, std::uint32_t desired, std::int32_t& status) {
  // \\.\name is \??\name, a link to the device.
  wchar_t native[256];
  std::swprintf(native, 256, L"\\??\\%ls", path[0] == L'\\' && path[1] == L'\\' ? path + 4 : path);
  wchar_t* resolved = resolve_links(native, std::wcslen(native));
  PDEVICE_OBJECT device = device_by_name(resolved);
  std::free(resolved);
  if (device == nullptr) {
    status = STATUS_OBJECT_NAME_NOT_FOUND;
    return nullptr;
  }
  ACCESS_MASK granted = 0;
  PSECURITY_DESCRIPTOR descriptor;
  {
    Locked lock;
    descriptor = device_of(device)->descriptor;
  }
  if (!access_check(descriptor, current_thread().process->caller, desired, granted)) {
    status = STATUS_ACCESS_DENIED;
    return nullptr;
  }
  auto* h = static_cast<Handle*>(std::calloc(1, sizeof(Handle)));
  h->file.Type = IO_TYPE_FILE;
  h->file.Size = sizeof(FILE_OBJECT);
  h->file.DeviceObject = device;
  h->device = device;
  h->granted = granted;
  AsyncIo* io = new_request(h, IRP_MJ_CREATE);
  ACCESS_STATE access{};
  access.PreviouslyGrantedAccess = granted;
  IO_SECURITY_CONTEXT security{nullptr, &access, desired, 0};
  io->stack[0].Parameters.Create.SecurityContext = &security;
  status = send_and_wait(io);
  std::free(io);
  if (!NT_SUCCESS(status)) {
    std::free(h);
    return nullptr;
  }
  Locked lock;
  ++g_open_handles;
  return h;
}

AsyncIo* io_control_async(Handle* h, std::uint32_t code, const void* in, std::uint32_t in_length,
                          std::uint32_t out_length) {
  AsyncIo* io = new_request(h, IRP_MJ_DEVICE_CONTROL);
  const std::uint32_t size = in_length > out_length ? in_length : out_length;
  io->system_buffer = size != 0 ? std::calloc(1, size) : nullptr;
  if (in_length != 0) std::memcpy(io->system_buffer, in, in_length);
  io->irp.AssociatedIrp.SystemBuffer = io->system_buffer;
  io->output = static_cast<unsigned char*>(std::calloc(1, out_length + 1));
  io->output_length = out_length;
  auto& p = io->stack[0].Parameters.DeviceIoControl;
  p.IoControlCode = code;
  p.InputBufferLength = in_length;
  p.OutputBufferLength = out_length;
  // The I/O manager's check of the IOCTL's access bits against the handle (FILE_READ_ACCESS needs
  // FILE_READ_DATA, FILE_WRITE_ACCESS FILE_WRITE_DATA), before the driver sees the request.
  const std::uint32_t access = (code >> 14) & 3u;
  if (((access & 1u) && !(h->granted & FILE_READ_DATA)) ||
      ((access & 2u) && !(h->granted & FILE_WRITE_DATA))) {
    io->irp.IoStatus.Status = STATUS_ACCESS_DENIED;
    io->completed = true;
    return io;
  }
  {
    Locked lock;
    io->next_outstanding = h->outstanding;
    h->outstanding = io;
  }
  call_driver(io);
  return io;
}

bool io_wait(AsyncIo* io, std::uint32_t ms) {
  return wait_completed(io, ms);
}
std::int32_t io_status(AsyncIo* io) {
  return io->irp.IoStatus.Status;
}

const void* io_output(AsyncIo* io, std::uint32_t& length) {
  length = static_cast<std::uint32_t>(io->irp.IoStatus.Information);
  return io->output;
}

// IoCancelIrp.
void io_cancel(AsyncIo* io) {
  const KIRQL entered = current_thread().irql;
  KIRQL irql;
  IoAcquireCancelSpinLock(&irql);
  io->irp.Cancel = TRUE;
  auto routine = reinterpret_cast<PDRIVER_CANCEL>(InterlockedExchangePointer(
      reinterpret_cast<PVOID volatile*>(&io->irp.CancelRoutine), nullptr));
  if (routine == nullptr) {
    IoReleaseCancelSpinLock(irql);
    return;
  }
  io->irp.CancelIrql = irql;
  routine(io->handle->device, &io->irp);
  check_returned_clean(entered, "a cancel routine (it must release the cancel spin lock)");
}

void io_free(AsyncIo* io) {
  if (io == nullptr) return;
  forget_outstanding(io);
  std::free(io->system_buffer);
  std::free(io->output);
  std::free(io);
}

std::int32_t io_control(Handle* h, std::uint32_t code, const void* in, std::uint32_t in_length,
                        void* out, std::uint32_t out_length, std::uint32_t* returned) {
  AsyncIo* io = io_control_async(h, code, in, in_length, out_length);
  wait_completed(io, host::kForever);
  std::uint32_t length = 0;
  const void* output = io_output(io, length);
  if (out != nullptr && length <= out_length) std::memcpy(out, output, length);
  if (returned != nullptr) *returned = length;
  const std::int32_t status = io_status(io);
  io_free(io);
  return status;
}

bool io_close(Handle* h) {
  AsyncIo* cleanup = new_request(h, IRP_MJ_CLEANUP);
  send_and_wait(cleanup);
  std::free(cleanup);
  bool clean = true;
  for (;;) {  // requests still pended: cancelled as the exiting thread's would be
    AsyncIo* left = nullptr;
    {
      Locked lock;
      for (AsyncIo* io = h->outstanding; io != nullptr; io = io->next_outstanding) {
        if (!io->completed) left = io;
      }
    }
    if (left == nullptr) break;
    clean = false;
    io_cancel(left);
    if (!wait_completed(left, 2000)) {
      std::printf("BOX: a pended request was neither completed at cleanup nor on cancel\n");
      break;
    }
  }
  AsyncIo* close = new_request(h, IRP_MJ_CLOSE);
  send_and_wait(close);
  std::free(close);
  int left;
  {
    Locked lock;
    left = --g_open_handles;
  }
  if (left == 0) last_handle_closed();
  return clean;
}

int io_devices() {
  Locked lock;
  int n = 0;
  for (const Device& d : g_devices) n += d.object != nullptr ? 1 : 0;
  return n;
}

}  // namespace box
