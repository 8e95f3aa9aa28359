// The records' way to the service (inverted call): the one consumer (the handle that sent
// IOCTL_CONNECT) keeps IOCTL_GET_NOTIFICATION requests pended here; a record completes the oldest
// one, or waits in a queue capped in bytes (the oldest dropped and counted). A sync record's
// sender then waits for IOCTL_ACKNOWLEDGE, at most a second. Without a consumer nothing is queued
// and nobody waits; the consumer's IRP_MJ_CLEANUP cancels its requests, releases the waiters and
// frees the queue.
//
// One spin lock (g_lock) guards the consumer, the three lists and the queue's sizes. IRPs are
// completed and records freed outside it where the order allows. A pended request leaves the
// list either through take_pending_locked (which first takes its cancel routine back) or through
// cancel_pending; whichever clears the cancel routine owns the IRP, so it is completed once.
#include "driver_internal.hpp"
#include "hivewarden/core/notification.hpp"

namespace hivewarden::driver {
namespace {

constexpr ULONG64 kMaxQueuedBytes = 8ull << 20;              // record bytes held for the consumer
constexpr LONGLONG kSyncTimeout100ns = -10LL * 1000 * 1000;  // one second, relative

// On the waiting thread's stack (a KernelMode wait keeps it resident); on g_sync_waits from
// before the record can reach the consumer until it is released (acknowledged, its record
// dropped, the consumer gone: taken off the list and `released` set, under g_lock) or the waiter
// takes it off itself after its time-out.
struct SyncWait {
  LIST_ENTRY link;
  ULONG64 sequence;
  KEVENT done;
  bool released;
};

KSPIN_LOCK g_lock;
LIST_ENTRY g_records, g_pending, g_sync_waits;
FILE_OBJECT* volatile g_consumer = nullptr;
ULONG64 g_queued_records = 0, g_queued_bytes = 0;
volatile LONG64 g_sequence = 0, g_sent = 0, g_dropped = 0, g_sync_timeouts = 0;

// Ends the waits for `sequence` (every wait when null): each waiter is taken off the list, so a
// second acknowledgement of it finds none, and woken. Returns how many there were.
ULONG release_sync_waits_locked(const ULONG64* sequence) {
  ULONG released = 0;
  for (PLIST_ENTRY e = g_sync_waits.Flink, next; e != &g_sync_waits; e = next) {
    next = e->Flink;
    SyncWait* wait = CONTAINING_RECORD(e, SyncWait, link);
    if (sequence != nullptr && wait->sequence != *sequence) continue;
    RemoveEntryList(e);
    InitializeListHead(e);  // the waiter's own RemoveEntryList then removes nothing
    wait->released = true;
    KeSetEvent(&wait->done, IO_NO_INCREMENT, FALSE);
    ++released;
  }
  return released;
}

// A record the consumer will never see (queue full, buffer too small, consumer gone): counted,
// and a sync record's sender released now, as no acknowledgement can come for it.
void drop_record_locked(QueuedRecord* record) {
  if (record->sync) {
    ULONG64 sequence;
    RtlCopyMemory(&sequence, record->bytes + offsetof(RecordFixed, sequence), sizeof sequence);
    release_sync_waits_locked(&sequence);
  }
  free_queued_record(record);
  InterlockedIncrement64(&g_dropped);
}

NTSTATUS complete_irp(PIRP irp, NTSTATUS status, ULONG_PTR information) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;  // the IRP is gone: callers return this, never irp->IoStatus
}

// Completes a GET_NOTIFICATION request with the record and frees it. A buffer too small for it
// loses the record (counted): keeping it would hand it to the same small buffer forever.
NTSTATUS complete_with_record(PIRP irp, QueuedRecord* record) {
  const ULONG capacity =
      IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
  if (capacity < record->size || irp->AssociatedIrp.SystemBuffer == nullptr) {
    KIRQL irql;
    KeAcquireSpinLock(&g_lock, &irql);
    drop_record_locked(record);
    KeReleaseSpinLock(&g_lock, irql);
    return complete_irp(irp, STATUS_BUFFER_TOO_SMALL, 0);
  }
  const ULONG size = record->size;
  RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, record->bytes, size);
  free_queued_record(record);
  InterlockedIncrement64(&g_sent);
  return complete_irp(irp, STATUS_SUCCESS, size);
}

// The oldest pended request whose cancel routine this call took back, off the list; null when
// none. A request whose cancel routine already runs is left to it (its entry made harmless).
PIRP take_pending_locked() {
  while (!IsListEmpty(&g_pending)) {
    PLIST_ENTRY entry = RemoveHeadList(&g_pending);
    InitializeListHead(entry);  // cancel_pending's RemoveEntryList then removes nothing
    PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
    if (IoSetCancelRoutine(irp, nullptr) != nullptr) return irp;
  }
  return nullptr;
}

QueuedRecord* take_record_locked() {
  auto* record = CONTAINING_RECORD(RemoveHeadList(&g_records), QueuedRecord, link);
  --g_queued_records;
  g_queued_bytes -= record->size;
  return record;
}

// Appends a record, first dropping the oldest until the queue's bytes stay within the cap (a
// record is far smaller than the cap: send_record drops any that is not).
void queue_locked(QueuedRecord* record) {
  while (g_queued_bytes + record->size > kMaxQueuedBytes && !IsListEmpty(&g_records)) {
    drop_record_locked(take_record_locked());
  }
  InsertTailList(&g_records, &record->link);
  ++g_queued_records;
  g_queued_bytes += record->size;
}

// Hands a record to the oldest pended request, else queues it. Called with g_lock held at `irql`;
// returns with it released.
void deliver_and_unlock(QueuedRecord* record, KIRQL irql) {
  PIRP irp = take_pending_locked();
  if (irp == nullptr) queue_locked(record);
  KeReleaseSpinLock(&g_lock, irql);
  if (irp != nullptr) complete_with_record(irp, record);
}

// Ends the connection of the consumer: its pended requests are cancelled, every sync waiter is
// released and the queued records are freed (counted as dropped). Called with g_lock held at
// `irql`; returns with it released.
void disconnect_and_unlock(KIRQL irql) {
  g_consumer = nullptr;
  LIST_ENTRY cancelled;
  InitializeListHead(&cancelled);
  while (PIRP irp = take_pending_locked()) InsertTailList(&cancelled, &irp->Tail.Overlay.ListEntry);
  release_sync_waits_locked(nullptr);
  while (!IsListEmpty(&g_records)) drop_record_locked(take_record_locked());
  KeReleaseSpinLock(&g_lock, irql);
  while (!IsListEmpty(&cancelled)) {
    PLIST_ENTRY entry = RemoveHeadList(&cancelled);
    complete_irp(CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry), STATUS_CANCELLED, 0);
  }
}

// Queues a sync record and waits for its acknowledgement: at most a second, less when the
// consumer goes away (released at once). The waiter is listed before the record can reach the
// consumer, and off the list before this returns.
void send_and_wait(QueuedRecord* record, ULONG64 sequence) {
  SyncWait wait;
  wait.sequence = sequence;
  wait.released = false;
  KeInitializeEvent(&wait.done, NotificationEvent, FALSE);
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (g_consumer == nullptr) {  // left since send_record looked: no record, no wait
    KeReleaseSpinLock(&g_lock, irql);
    free_queued_record(record);
    return;
  }
  InsertTailList(&g_sync_waits, &wait.link);
  deliver_and_unlock(record, irql);
  LARGE_INTEGER timeout;
  timeout.QuadPart = kSyncTimeout100ns;
  KeWaitForSingleObject(&wait.done, Executive, KernelMode, FALSE, &timeout);
  KeAcquireSpinLock(&g_lock, &irql);
  RemoveEntryList(&wait.link);  // still listed only when nothing released it: its time-out
  const bool released = wait.released;
  KeReleaseSpinLock(&g_lock, irql);
  if (!released) InterlockedIncrement64(&g_sync_timeouts);
}

void send_async(QueuedRecord* record) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (g_consumer == nullptr) {
    KeReleaseSpinLock(&g_lock, irql);
    free_queued_record(record);
    return;
  }
  deliver_and_unlock(record, irql);
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

// Pends a GET_NOTIFICATION request; called with g_lock held at `irql`, returns with it released.
NTSTATUS pend_and_unlock(PIRP irp, KIRQL irql) {
  IoSetCancelRoutine(irp, cancel_pending);
  if (irp->Cancel && IoSetCancelRoutine(irp, nullptr) != nullptr) {
    KeReleaseSpinLock(&g_lock, irql);  // cancelled before the routine was set: ours to complete
    return complete_irp(irp, STATUS_CANCELLED, 0);
  }
  // Not cancelled, or cancel_pending already runs: it waits for g_lock, then finds it listed.
  IoMarkIrpPending(irp);
  InsertTailList(&g_pending, &irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&g_lock, irql);
  return STATUS_PENDING;
}

}  // namespace

void initialize_record_queue() {
  g_consumer = nullptr;  // counts since this load
  g_queued_records = 0;
  g_queued_bytes = 0;
  g_sequence = 0;
  g_sent = 0;
  g_dropped = 0;
  g_sync_timeouts = 0;
  KeInitializeSpinLock(&g_lock);
  InitializeListHead(&g_records);
  InitializeListHead(&g_pending);
  InitializeListHead(&g_sync_waits);
}

bool consumer_connected() {
  return g_consumer != nullptr;
}

QueuedRecord* encode_record_for_queue(const RecordDraft& draft) {
  const ULONG64 size = record_size(draft.input);
  QueuedRecord* record = nullptr;
  if (size != 0 && size <= kMaxQueuedBytes) {  // the cap also keeps the sum from overflowing
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
  if (!consumer_connected()) {  // left since the record was drafted: nobody to read it
    free_queued_record(record);
    InterlockedIncrement64(&g_dropped);
    return;
  }
  const auto sequence = static_cast<std::uint64_t>(InterlockedIncrement64(&g_sequence));
  set_record_sequence(record->bytes, sequence);
  if (record->sync) {
    send_and_wait(record, sequence);
  } else {
    send_async(record);
  }
}

NTSTATUS connect_consumer(PFILE_OBJECT file) {
  if (file == nullptr) return STATUS_INVALID_PARAMETER;
  // A CONNECT that raced its own handle's close: IRP_MJ_CLEANUP has already been here, so the
  // handle would stay the consumer until IRP_MJ_CLOSE. (Checked again by dispatch at close.)
  if (file->Flags & FO_CLEANUP_COMPLETE) return STATUS_FILE_CLOSED;
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (g_consumer == nullptr) g_consumer = file;
  const NTSTATUS status = g_consumer == file ? STATUS_SUCCESS : STATUS_DEVICE_BUSY;
  KeReleaseSpinLock(&g_lock, irql);
  return status;
}

void disconnect_consumer(PFILE_OBJECT file) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (file == nullptr || file != g_consumer) {
    KeReleaseSpinLock(&g_lock, irql);
    return;
  }
  disconnect_and_unlock(irql);
}

NTSTATUS get_notification(PIRP irp) {
  PFILE_OBJECT file = IoGetCurrentIrpStackLocation(irp)->FileObject;
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  if (file == nullptr || file != g_consumer || (file->Flags & FO_CLEANUP_COMPLETE)) {
    KeReleaseSpinLock(&g_lock, irql);
    return complete_irp(irp, STATUS_DEVICE_BUSY, 0);
  }
  if (!IsListEmpty(&g_records)) {
    QueuedRecord* record = take_record_locked();
    KeReleaseSpinLock(&g_lock, irql);
    return complete_with_record(irp, record);
  }
  return pend_and_unlock(irp, irql);
}

NTSTATUS acknowledge(PFILE_OBJECT file, ULONG64 sequence) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  NTSTATUS status = STATUS_DEVICE_BUSY;
  if (file != nullptr && file == g_consumer) {
    status = release_sync_waits_locked(&sequence) != 0 ? STATUS_SUCCESS : STATUS_NOT_FOUND;
  }
  KeReleaseSpinLock(&g_lock, irql);
  return status;
}

void queue_counters(win::DriverCounters& counters) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  counters.consumer_connected = g_consumer != nullptr ? 1 : 0;
  counters.queued_records = g_queued_records;
  counters.queued_bytes = g_queued_bytes;
  KeReleaseSpinLock(&g_lock, irql);
  counters.records_sent = static_cast<std::uint64_t>(g_sent);
  counters.records_dropped = static_cast<std::uint64_t>(g_dropped);
  counters.sync_timeouts = static_cast<std::uint64_t>(g_sync_timeouts);
}

void drain_record_queue() {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  disconnect_and_unlock(irql);
}

}  // namespace hivewarden::driver
