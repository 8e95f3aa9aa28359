// The records' way to the service (inverted call): the service keeps IOCTL_GET_NOTIFICATION
// requests pended here; a record completes the oldest one, or waits in a bounded queue (the
// oldest dropped and counted). A sync record's sender then waits for IOCTL_ACKNOWLEDGE.
#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

constexpr ULONG kMaxQueued = 4096;
constexpr LONGLONG kSyncTimeout100ns = -10LL * 1000 * 1000;  // one second, relative

struct SyncWait {
  LIST_ENTRY link;
  ULONG64 sequence;
  KEVENT done;
};

KSPIN_LOCK g_lock;
LIST_ENTRY g_records, g_pending, g_sync_waits;
ULONG g_queued = 0;
volatile LONG64 g_sequence = 0, g_dropped = 0, g_sync_timeouts = 0;

void complete_irp(PIRP irp, NTSTATUS status, ULONG_PTR information) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

// Completes a GET_NOTIFICATION request with the record, and frees the record.
void complete_with_record(PIRP irp, QueuedRecord* record) {
  const ULONG capacity =
      IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
  if (capacity < record->size) {
    complete_irp(irp, STATUS_BUFFER_TOO_SMALL, 0);
  } else {
    RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, record->bytes, record->size);
    complete_irp(irp, STATUS_SUCCESS, record->size);
  }
  free_queued_record(record);
}

// The oldest pended request that is not being cancelled, taken off the list; null when none.
// Called with g_lock held.
PIRP take_pending_locked() {
  while (!IsListEmpty(&g_pending)) {
    PLIST_ENTRY entry = RemoveHeadList(&g_pending);
    InitializeListHead(entry);  // a concurrent cancel routine's removal becomes harmless
    PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
    if (IoSetCancelRoutine(irp, nullptr) != nullptr) return irp;  // else: being cancelled
  }
  return nullptr;
}

// Hands a record to a waiting service request, or queues it (bounded: the oldest is dropped).
void deliver(QueuedRecord* record) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (PIRP irp = take_pending_locked()) {
    KeReleaseSpinLock(&g_lock, irql);
    complete_with_record(irp, record);
    return;
  }
  if (g_queued >= kMaxQueued) {
    PLIST_ENTRY oldest = RemoveHeadList(&g_records);
    free_queued_record(CONTAINING_RECORD(oldest, QueuedRecord, link));
    --g_queued;
    InterlockedIncrement64(&g_dropped);
  }
  InsertTailList(&g_records, &record->link);
  ++g_queued;
  KeReleaseSpinLock(&g_lock, irql);
}

void wait_for_acknowledgement(QueuedRecord* record, ULONG64 sequence) {
  SyncWait wait;
  wait.sequence = sequence;
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

void cancel_pending(PDEVICE_OBJECT, PIRP irp) {
  IoReleaseCancelSpinLock(irp->CancelIrql);
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  RemoveEntryList(&irp->Tail.Overlay.ListEntry);
  InitializeListHead(&irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&g_lock, irql);
  complete_irp(irp, STATUS_CANCELLED, 0);
}

}  // namespace

void initialize_record_queue() {
  KeInitializeSpinLock(&g_lock);
  InitializeListHead(&g_records);
  InitializeListHead(&g_pending);
  InitializeListHead(&g_sync_waits);
}

QueuedRecord* encode_record_for_queue(const RecordDraft& draft) {
  const ULONG64 size = record_size(draft.input);
  QueuedRecord* record = nullptr;
  if (size != 0 && size <= kMaxRecordBytes) {
    record = static_cast<QueuedRecord*>(pool_allocate(sizeof(QueuedRecord) + size));
  }
  if (record == nullptr) {
    InterlockedIncrement64(&g_dropped);
    return nullptr;
  }
  record->size = encode_record(draft.input, record->bytes, size);
  record->sync = draft.input.type == MessageType::kRegistryEventSync;
  return record;
}

void free_queued_record(QueuedRecord* record) {
  pool_free(record);
}

void send_record(QueuedRecord* record) {
  const auto sequence = static_cast<std::uint64_t>(InterlockedIncrement64(&g_sequence));
  set_record_sequence(record->bytes, sequence);
  if (record->sync) {
    wait_for_acknowledgement(record, sequence);
  } else {
    deliver(record);
  }
}

NTSTATUS get_notification(PIRP irp) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (!IsListEmpty(&g_records)) {
    QueuedRecord* record = CONTAINING_RECORD(RemoveHeadList(&g_records), QueuedRecord, link);
    --g_queued;
    KeReleaseSpinLock(&g_lock, irql);
    complete_with_record(irp, record);
    return STATUS_SUCCESS;
  }
  IoSetCancelRoutine(irp, cancel_pending);
  if (irp->Cancel && IoSetCancelRoutine(irp, nullptr) != nullptr) {
    KeReleaseSpinLock(&g_lock, irql);
    complete_irp(irp, STATUS_CANCELLED, 0);
    return STATUS_CANCELLED;
  }
  IoMarkIrpPending(irp);
  InsertTailList(&g_pending, &irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&g_lock, irql);
  return STATUS_PENDING;
}

void acknowledge(ULONG64 sequence) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  for (PLIST_ENTRY e = g_sync_waits.Flink; e != &g_sync_waits; e = e->Flink) {
    SyncWait* wait = CONTAINING_RECORD(e, SyncWait, link);
    if (wait->sequence == sequence) KeSetEvent(&wait->done, IO_NO_INCREMENT, FALSE);
  }
  KeReleaseSpinLock(&g_lock, irql);
}

void drain_record_queue() {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  while (PIRP irp = take_pending_locked()) {
    KeReleaseSpinLock(&g_lock, irql);
    complete_irp(irp, STATUS_CANCELLED, 0);
    KeAcquireSpinLock(&g_lock, &irql);
  }
  while (!IsListEmpty(&g_records)) {
    free_queued_record(CONTAINING_RECORD(RemoveHeadList(&g_records), QueuedRecord, link));
  }
  g_queued = 0;
  KeReleaseSpinLock(&g_lock, irql);
}

}  // namespace hivewarden::driver
