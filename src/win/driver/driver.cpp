// hivewarden.sys: the engine as a registry filter driver (WDM). A registry callback registered
// with CmRegisterCallbackEx turns each operation into a core request, denies with
// STATUS_ACCESS_DENIED, keeps call contexts for post-operations, and hands notification records to
// the service through pended IOCTLs (inverted call); sync records wait for the service's answer.
#include <ntddk.h>

#include <new>

#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/notification.hpp"
#include "hivewarden/win/ioctl.hpp"
#include "hivewarden/win/translate.hpp"

namespace {

using namespace hivewarden;

constexpr ULONG kTag = 0x64577748;  // 'HwWd'
constexpr ULONG kMaxQueued = 4096;
constexpr LONGLONG kSyncTimeout100ns = -10LL * 1000 * 1000;  // one second, relative
constexpr int kScratchSlots = 8;

// --- the layout mirrors must be the DDK's own ------------------------------------------------
#define HW_SAME_OFFSET(mirror, ddk, field) \
  static_assert(offsetof(win::mirror, field) == offsetof(ddk, field), #ddk "." #field)
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, DataSize);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, Reserved);
HW_SAME_OFFSET(RegDeleteValueKeyInformation, REG_DELETE_VALUE_KEY_INFORMATION, ValueName);
HW_SAME_OFFSET(RegQueryValueKeyInformation, REG_QUERY_VALUE_KEY_INFORMATION, ResultLength);
HW_SAME_OFFSET(RegRenameKeyInformation, REG_RENAME_KEY_INFORMATION, NewName);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, RootObject);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, RemainingName);
HW_SAME_OFFSET(RegRestoreKeyInformation, REG_RESTORE_KEY_INFORMATION, Flags);
HW_SAME_OFFSET(RegReplaceKeyInformation, REG_REPLACE_KEY_INFORMATION, NewFileName);
HW_SAME_OFFSET(RegPostOperationInformation, REG_POST_OPERATION_INFORMATION, Status);
HW_SAME_OFFSET(UnicodeString, UNICODE_STRING, Buffer);
static_assert(sizeof(win::RegCreateKeyInformationV1) == sizeof(REG_CREATE_KEY_INFORMATION_V1));

// --- state --------------------------------------------------------------------------------------
using GetKeyObjectIdEx = NTSTATUS(NTAPI*)(PLARGE_INTEGER, PVOID, PULONG_PTR, PCUNICODE_STRING*, ULONG);
using ReleaseKeyObjectIdEx = VOID(NTAPI*)(PCUNICODE_STRING);
using LocateImageName = NTSTATUS(NTAPI*)(PEPROCESS, PUNICODE_STRING*);

Engine* g_engine = nullptr;
LARGE_INTEGER g_cookie{};
PDEVICE_OBJECT g_device = nullptr;
GetKeyObjectIdEx g_get_name = nullptr;
ReleaseKeyObjectIdEx g_release_name = nullptr;
LocateImageName g_image_name = nullptr;
bool g_callback_registered = false, g_thread_notify = false;

struct Scratch {
  DecisionScratch decision;
  char16_t composed[kMaxPathUnits + 1];
};
Scratch* g_scratch[kScratchSlots] = {};
volatile LONG g_scratch_busy[kScratchSlots] = {};

struct QueuedRecord {
  LIST_ENTRY link;
  ULONG size;
  UCHAR bytes[1];
};
struct SyncWait {
  LIST_ENTRY link;
  ULONG64 sequence;
  KEVENT done;
};
KSPIN_LOCK g_lock;
LIST_ENTRY g_records, g_pending, g_sync_waits;
ULONG g_queued = 0;
volatile LONG64 g_sequence = 0, g_dropped = 0, g_no_name = 0, g_sync_timeouts = 0;

// --- key names ----------------------------------------------------------------------------------
struct NameHolder {
  PCUNICODE_STRING names[4];
  int count = 0;
  void release() {
    for (int i = 0; i < count; ++i) g_release_name(names[i]);
    count = 0;
  }
};

bool name_of(void* context, void* object, std::u16string_view& name) {
  auto* holder = static_cast<NameHolder*>(context);
  if (g_get_name == nullptr || holder->count == 4) return false;
  PCUNICODE_STRING s = nullptr;
  if (!NT_SUCCESS(g_get_name(&g_cookie, object, nullptr, &s, 0)) || s == nullptr) return false;
  holder->names[holder->count++] = s;
  name = std::u16string_view(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / 2);
  return true;
}

bool key_exists(void*, std::u16string_view full) {
  UNICODE_STRING name{static_cast<USHORT>(full.size() * 2), static_cast<USHORT>(full.size() * 2),
                      const_cast<PWCH>(reinterpret_cast<const WCHAR*>(full.data()))};
  OBJECT_ATTRIBUTES attributes;
  InitializeObjectAttributes(&attributes, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, nullptr, nullptr);
  HANDLE key = nullptr;
  if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &attributes))) return false;
  ZwClose(key);
  return true;
}

Scratch* acquire_scratch(int& slot) {
  for (int i = 0; i < kScratchSlots; ++i) {
    if (g_scratch[i] != nullptr && InterlockedCompareExchange(&g_scratch_busy[i], 1, 0) == 0) {
      slot = i;
      return g_scratch[i];
    }
  }
  slot = -1;  // all busy: a temporary one
  void* p = ExAllocatePoolWithTag(PagedPool, sizeof(Scratch), kTag);
  return p ? new (p) Scratch : nullptr;
}

void release_scratch(Scratch* s, int slot) {
  if (slot >= 0) {
    InterlockedExchange(&g_scratch_busy[slot], 0);
  } else if (s != nullptr) {
    ExFreePoolWithTag(s, kTag);
  }
}

// --- notifications (inverted call) --------------------------------------------------------------
void complete_with_record(PIRP irp, const UCHAR* bytes, ULONG size) {
  const ULONG capacity = IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
  if (capacity < size) {
    irp->IoStatus.Status = STATUS_BUFFER_TOO_SMALL;
    irp->IoStatus.Information = 0;
  } else {
    RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, bytes, size);
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = size;
  }
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

// Hands a record to a waiting service request, or queues it (bounded: the oldest is dropped).
void deliver(QueuedRecord* record) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  while (!IsListEmpty(&g_pending)) {
    PLIST_ENTRY entry = RemoveHeadList(&g_pending);
    InitializeListHead(entry);  // a concurrent cancel routine's removal becomes harmless
    PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
    if (IoSetCancelRoutine(irp, nullptr) == nullptr) continue;  // being cancelled
    KeReleaseSpinLock(&g_lock, irql);
    complete_with_record(irp, record->bytes, record->size);
    ExFreePoolWithTag(record, kTag);
    return;
  }
  if (g_queued >= kMaxQueued) {
    PLIST_ENTRY oldest = RemoveHeadList(&g_records);
    ExFreePoolWithTag(CONTAINING_RECORD(oldest, QueuedRecord, link), kTag);
    --g_queued;
    InterlockedIncrement64(&g_dropped);
  }
  InsertTailList(&g_records, &record->link);
  ++g_queued;
  KeReleaseSpinLock(&g_lock, irql);
}

void notify(const RecordInput& input) {
  const ULONG64 size = record_size(input);
  if (size == 0) return;
  auto* record = static_cast<QueuedRecord*>(ExAllocatePoolWithTag(NonPagedPool, sizeof(QueuedRecord) + size, kTag));
  if (record == nullptr) {
    InterlockedIncrement64(&g_dropped);
    return;
  }
  record->size = encode_record(input, record->bytes, size);
  if (input.type != MessageType::kRegistryEventSync) {
    deliver(record);
    return;
  }
  // Sync: wait for the service's acknowledgement, at most the timeout, then go on.
  SyncWait wait;
  wait.sequence = input.sequence;
  KeInitializeEvent(&wait.done, NotificationEvent, FALSE);
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  InsertTailList(&g_sync_waits, &wait.link);
  KeReleaseSpinLock(&g_lock, irql);
  deliver(record);
  LARGE_INTEGER timeout;
  timeout.QuadPart = kSyncTimeout100ns;
  if (KeWaitForSingleObject(&wait.done, Executive, KernelMode, FALSE, &timeout) == STATUS_TIMEOUT) {
    InterlockedIncrement64(&g_sync_timeouts);
  }
  KeAcquireSpinLock(&g_lock, &irql);
  RemoveEntryList(&wait.link);
  KeReleaseSpinLock(&g_lock, irql);
}

void fill_hashes(const PolicyView& policy, const MatchHit* hits, std::uint32_t count, unsigned char (&out)[16 * 16],
                 std::uint32_t& n) {
  n = 0;
  for (std::uint32_t i = 0; i < count && n < 16; ++i) {
    RtlCopyMemory(out + 16 * n, policy.clients()[hits[i].client].hash, 16);
    ++n;
  }
}

// --- the registry callback ----------------------------------------------------------------------
NTSTATUS registry_callback(PVOID, PVOID argument1, PVOID argument2) {
  const auto cls = static_cast<std::uint32_t>(reinterpret_cast<ULONG_PTR>(argument1));
  const auto thread = reinterpret_cast<std::uint64_t>(PsGetCurrentThreadId());
  const auto pid = reinterpret_cast<std::uint64_t>(PsGetCurrentProcessId());
  win::Translation t;
  if (win::translate_post(cls, argument2, t) == win::TranslateStatus::kOk) {
    PostOutcome post = g_engine->complete(thread, t.op, t.success);
    if (post.found && post.notify != NotifyMode::kNone) {
      RecordInput in;
      in.type = post.notify == NotifyMode::kSync ? MessageType::kRegistryEventSync : MessageType::kRegistryEventAsync;
      in.sequence = static_cast<std::uint64_t>(InterlockedIncrement64(&g_sequence));
      in.operation = traits(t.op).pre_class;
      in.process_id = pid;
      in.thread_id = thread;
      in.final_key_rules = post.rules;
      unsigned char hashes[16 * 16];
      fill_hashes(post.policy.view(), post.hits, post.hit_count, hashes, in.hash_count);
      in.hashes = hashes;
      notify(in);
    }
    return STATUS_SUCCESS;
  }
  int slot = -1;
  Scratch* scratch = acquire_scratch(slot);
  if (scratch == nullptr) return STATUS_SUCCESS;  // no memory: the operation goes on, unchecked
  NameHolder names;
  const win::KeySource keys{&name_of, &key_exists, &names};
  const win::TranslateStatus status = win::translate_pre(cls, argument2, keys, scratch->composed, kMaxPathUnits, t);
  NTSTATUS result = STATUS_SUCCESS;
  if (status == win::TranslateStatus::kTooLong) {
    result = STATUS_ACCESS_DENIED;  // no such name can exist: fail closed
  } else if (status == win::TranslateStatus::kNoName) {
    InterlockedIncrement64(&g_no_name);
  } else if (status == win::TranslateStatus::kOk) {
    OperationRequest r;
    r.op = t.op;
    r.key = t.key;
    r.value = t.value;
    r.new_name = t.new_name;
    r.key_exists = t.key_exists;
    r.thread_id = thread;
    r.process.pid = static_cast<std::uint32_t>(pid);
    PUNICODE_STRING image = nullptr;
    if (pid == 4) {
      r.process.image = u"System";
    } else if (g_image_name != nullptr && NT_SUCCESS(g_image_name(PsGetCurrentProcess(), &image)) && image != nullptr) {
      r.process.image = std::u16string_view(reinterpret_cast<const char16_t*>(image->Buffer), image->Length / 2);
    }
    const Decision d = g_engine->decide(r, scratch->decision);
    if (d.verdict == Verdict::kDeny) {
      result = STATUS_ACCESS_DENIED;
      if (d.notify != NotifyMode::kNone) {
        RecordInput in;
        in.type = d.notify == NotifyMode::kSync ? MessageType::kRegistryEventSync : MessageType::kRegistryEventAsync;
        in.sequence = static_cast<std::uint64_t>(InterlockedIncrement64(&g_sequence));
        in.operation = cls;
        in.status = static_cast<std::uint32_t>(STATUS_ACCESS_DENIED);
        in.flags = record_flag::kDenied;
        in.process_id = pid;
        in.thread_id = thread;
        in.final_key_rules = d.rules;
        in.key_name = scratch->decision.path.text();
        in.value_name = t.value;
        in.new_key_name = t.op == Operation::kRenameKey ? scratch->decision.new_path.text() : std::u16string_view();
        notify(in);  // client hashes come with the post-operation records; denials name the key
      }
    }
    if (image != nullptr) ExFreePool(image);
  }
  names.release();
  release_scratch(scratch, slot);
  return result;
}

void thread_notify(HANDLE, HANDLE thread, BOOLEAN create) {
  if (!create && g_engine != nullptr) g_engine->thread_exited(reinterpret_cast<std::uint64_t>(thread));
}

// --- device -------------------------------------------------------------------------------------
void cancel_pending(PDEVICE_OBJECT, PIRP irp) {
  IoReleaseCancelSpinLock(irp->CancelIrql);
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  RemoveEntryList(&irp->Tail.Overlay.ListEntry);
  InitializeListHead(&irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&g_lock, irql);
  irp->IoStatus.Status = STATUS_CANCELLED;
  irp->IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

NTSTATUS complete(PIRP irp, NTSTATUS status, ULONG_PTR information = 0) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

NTSTATUS dispatch_create_close(PDEVICE_OBJECT, PIRP irp) { return complete(irp, STATUS_SUCCESS); }

NTSTATUS dispatch_ioctl(PDEVICE_OBJECT, PIRP irp) {
  PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(irp);
  const ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
  void* buffer = irp->AssociatedIrp.SystemBuffer;
  const ULONG in_length = stack->Parameters.DeviceIoControl.InputBufferLength;
  if (code == win::kIoctlSetPolicy) {
    PolicyError error;
    if (buffer == nullptr || !g_engine->install_policy(buffer, in_length, error)) return complete(irp, STATUS_INVALID_PARAMETER);
    return complete(irp, STATUS_SUCCESS);
  }
  if (code == win::kIoctlAcknowledge) {
    if (buffer == nullptr || in_length < sizeof(ULONG64)) return complete(irp, STATUS_INVALID_PARAMETER);
    const ULONG64 sequence = *static_cast<ULONG64*>(buffer);
    KIRQL irql;
    KeAcquireSpinLock(&g_lock, &irql);
    for (PLIST_ENTRY e = g_sync_waits.Flink; e != &g_sync_waits; e = e->Flink) {
      SyncWait* w = CONTAINING_RECORD(e, SyncWait, link);
      if (w->sequence == sequence) KeSetEvent(&w->done, IO_NO_INCREMENT, FALSE);
    }
    KeReleaseSpinLock(&g_lock, irql);
    return complete(irp, STATUS_SUCCESS);
  }
  if (code == win::kIoctlGetNotification) {
    KIRQL irql;
    KeAcquireSpinLock(&g_lock, &irql);
    if (!IsListEmpty(&g_records)) {
      QueuedRecord* record = CONTAINING_RECORD(RemoveHeadList(&g_records), QueuedRecord, link);
      --g_queued;
      KeReleaseSpinLock(&g_lock, irql);
      complete_with_record(irp, record->bytes, record->size);
      ExFreePoolWithTag(record, kTag);
      return STATUS_SUCCESS;
    }
    IoSetCancelRoutine(irp, cancel_pending);
    if (irp->Cancel && IoSetCancelRoutine(irp, nullptr) != nullptr) {
      KeReleaseSpinLock(&g_lock, irql);
      return complete(irp, STATUS_CANCELLED);
    }
    IoMarkIrpPending(irp);
    InsertTailList(&g_pending, &irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&g_lock, irql);
    return STATUS_PENDING;
  }
  return complete(irp, STATUS_INVALID_DEVICE_REQUEST);
}

void unload(PDRIVER_OBJECT) {
  if (g_callback_registered) CmUnRegisterCallback(g_cookie);
  if (g_thread_notify) PsRemoveCreateThreadNotifyRoutine(thread_notify);
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  while (!IsListEmpty(&g_pending)) {
    PLIST_ENTRY entry = RemoveHeadList(&g_pending);
    InitializeListHead(entry);
    PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
    if (IoSetCancelRoutine(irp, nullptr) == nullptr) continue;
    KeReleaseSpinLock(&g_lock, irql);
    complete(irp, STATUS_CANCELLED);
    KeAcquireSpinLock(&g_lock, &irql);
  }
  while (!IsListEmpty(&g_records)) ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(&g_records), QueuedRecord, link), kTag);
  KeReleaseSpinLock(&g_lock, irql);
  UNICODE_STRING dos;
  RtlInitUnicodeString(&dos, win::kDosDeviceName);
  IoDeleteSymbolicLink(&dos);
  if (g_device) IoDeleteDevice(g_device);
  for (Scratch*& s : g_scratch) {
    if (s) ExFreePoolWithTag(s, kTag);
    s = nullptr;
  }
  if (g_engine) {
    g_engine->~Engine();
    ExFreePoolWithTag(g_engine, kTag);
    g_engine = nullptr;
  }
}

PVOID routine(const wchar_t* name) {
  UNICODE_STRING s;
  RtlInitUnicodeString(&s, name);
  return MmGetSystemRoutineAddress(&s);
}

}  // namespace

extern "C" NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING) {
  KeInitializeSpinLock(&g_lock);
  InitializeListHead(&g_records);
  InitializeListHead(&g_pending);
  InitializeListHead(&g_sync_waits);
  // As WdFilter does: the Ex name routines are looked up, since older kernels lack them.
  g_get_name = reinterpret_cast<GetKeyObjectIdEx>(routine(L"CmCallbackGetKeyObjectIDEx"));
  g_release_name = reinterpret_cast<ReleaseKeyObjectIdEx>(routine(L"CmCallbackReleaseKeyObjectIDEx"));
  g_image_name = reinterpret_cast<LocateImageName>(routine(L"SeLocateProcessImageName"));
  if (g_get_name == nullptr || g_release_name == nullptr) return STATUS_NOT_SUPPORTED;

  void* memory = ExAllocatePoolWithTag(NonPagedPool, sizeof(Engine), kTag);
  if (memory == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  g_engine = new (memory) Engine();
  for (Scratch*& s : g_scratch) {
    void* p = ExAllocatePoolWithTag(PagedPool, sizeof(Scratch), kTag);
    s = p ? new (p) Scratch : nullptr;
  }
  driver->DriverUnload = unload;
  if (!g_engine->ok()) {
    unload(driver);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  UNICODE_STRING device_name, dos_name;
  RtlInitUnicodeString(&device_name, win::kDeviceName);
  RtlInitUnicodeString(&dos_name, win::kDosDeviceName);
  NTSTATUS status = IoCreateDevice(driver, 0, &device_name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &g_device);
  if (NT_SUCCESS(status)) status = IoCreateSymbolicLink(&dos_name, &device_name);
  if (!NT_SUCCESS(status)) {
    unload(driver);
    return status;
  }
  driver->MajorFunction[IRP_MJ_CREATE] = dispatch_create_close;
  driver->MajorFunction[IRP_MJ_CLOSE] = dispatch_create_close;
  driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch_ioctl;
  g_thread_notify = NT_SUCCESS(PsSetCreateThreadNotifyRoutine(thread_notify));
  UNICODE_STRING altitude;
  RtlInitUnicodeString(&altitude, L"328010");  // the FSFilter Anti-Virus load order group's range
  status = CmRegisterCallbackEx(registry_callback, &altitude, driver, nullptr, &g_cookie, nullptr);
  g_callback_registered = NT_SUCCESS(status);
  if (!g_callback_registered) {
    unload(driver);
    return status;
  }
  return STATUS_SUCCESS;
}
