// Records carried from a pre-operation to its post-operation. Windows pairs them: whatever the
// pre-operation stores in its structure's CallContext field comes back in
// REG_POST_OPERATION_INFORMATION.CallContext of the same operation, whatever else the thread does
// in between (a nested operation of the same class included). The driver stores there the record
// it drafted in the pre, where the names and values are at hand; the post sends it only if the
// operation happened. A post that never comes (the callback unregistered in between) leaves its
// record on the kept list, freed at unload.
#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

KSPIN_LOCK g_lock;
LIST_ENTRY g_kept;
bool g_ready = false;
volatile LONG64 g_count = 0;

// The record's operation (RecordFixed.operation, as encoded).
std::uint32_t operation_of(const QueuedRecord* record) {
  std::uint32_t operation;
  RtlCopyMemory(&operation, record->bytes + offsetof(RecordFixed, operation), sizeof operation);
  return operation;
}

}  // namespace

void initialize_call_contexts() {
  g_count = 0;
  KeInitializeSpinLock(&g_lock);
  InitializeListHead(&g_kept);
  g_ready = true;
}

void keep_for_post(void** call_context, QueuedRecord* record) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  InsertTailList(&g_kept, &record->link);
  KeReleaseSpinLock(&g_lock, irql);
  InterlockedIncrement64(&g_count);
  *call_context = record;
}

QueuedRecord* take_for_post(void* call_context, std::uint32_t pre_class) {
  if (call_context == nullptr || !g_ready) return nullptr;
  QueuedRecord* found = nullptr;
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  // Only a record this driver kept is taken: the list is as long as the operations in flight.
  for (PLIST_ENTRY e = g_kept.Flink; e != &g_kept; e = e->Flink) {
    // A post of another class than the record's pre is not its post: the record stays kept.
    if (CONTAINING_RECORD(e, QueuedRecord, link) == call_context &&
        operation_of(static_cast<QueuedRecord*>(call_context)) == pre_class) {
      RemoveEntryList(e);
      found = static_cast<QueuedRecord*>(call_context);
      break;
    }
  }
  KeReleaseSpinLock(&g_lock, irql);
  if (found != nullptr) InterlockedDecrement64(&g_count);
  return found;
}

void free_kept_records() {
  if (!g_ready) return;
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  while (!IsListEmpty(&g_kept)) {
    PLIST_ENTRY e = RemoveHeadList(&g_kept);
    KeReleaseSpinLock(&g_lock, irql);
    free_queued_record(CONTAINING_RECORD(e, QueuedRecord, link));
    InterlockedDecrement64(&g_count);
    KeAcquireSpinLock(&g_lock, &irql);
  }
  KeReleaseSpinLock(&g_lock, irql);
}

std::uint64_t kept_record_count() {
  return static_cast<std::uint64_t>(g_count);
}

}  // namespace hivewarden::driver
