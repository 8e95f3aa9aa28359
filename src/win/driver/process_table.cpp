// The flags and rules the service sets for running processes (SPEC §11; the write-up's process
// contexts), looked up by the registry callback for every decision. The table is fixed (kCapacity
// processes, hashed by pid, in the driver's own non-paged data: nothing to allocate, nothing to
// fail) and guarded by one spin lock. An entry is dropped when its process exits; it is also
// dropped when a process is created with its pid, so an entry set just after its process exited
// (the exit notification already past) can never reach the next process given that pid.
#include <ntifs.h>  // PsLookupProcessByProcessId

#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

constexpr std::uint32_t kCapacity = 4096;
constexpr std::uint32_t kBuckets = 1024;
constexpr std::uint32_t kEnd = 0;  // links are entry index + 1; 0 ends a chain

struct Entry {
  ULONG_PTR pid;
  std::uint32_t flags;
  std::uint32_t rules;
  std::uint32_t next;  // the next entry of the same bucket, or of the free list
};

KSPIN_LOCK g_table_lock;
Entry g_entries[kCapacity];
std::uint32_t g_buckets[kBuckets];
std::uint32_t g_free = kEnd;
volatile LONG g_count = 0;  // read without the lock only to skip it when the table is empty
bool g_notify_registered = false;

std::uint32_t& bucket_of(ULONG_PTR pid) {
  return g_buckets[(pid >> 2) % kBuckets];  // pids are multiples of 4
}

void reset_locked() {
  for (std::uint32_t& head : g_buckets) head = kEnd;
  for (std::uint32_t i = 0; i < kCapacity; ++i)
    g_entries[i].next = i + 2 <= kCapacity ? i + 2 : kEnd;
  g_free = 1;
  g_count = 0;
}

// The link that points at `pid`'s entry (a bucket head or an entry's next); null when none.
std::uint32_t* find_link_locked(ULONG_PTR pid) {
  for (std::uint32_t* link = &bucket_of(pid); *link != kEnd; link = &g_entries[*link - 1].next) {
    if (g_entries[*link - 1].pid == pid) return link;
  }
  return nullptr;
}

void remove_locked(ULONG_PTR pid) {
  std::uint32_t* link = find_link_locked(pid);
  if (link == nullptr) return;
  const std::uint32_t index = *link;
  *link = g_entries[index - 1].next;
  g_entries[index - 1].next = g_free;
  g_free = index;
  InterlockedDecrement(&g_count);
}

// Sets or adds `pid`'s entry; false when the table is full.
bool upsert_locked(ULONG_PTR pid, std::uint32_t flags, std::uint32_t rules) {
  std::uint32_t index = kEnd;
  if (std::uint32_t* link = find_link_locked(pid)) {
    index = *link;
  } else {
    if (g_free == kEnd) return false;
    index = g_free;
    g_free = g_entries[index - 1].next;
    g_entries[index - 1].next = bucket_of(pid);
    bucket_of(pid) = index;
    InterlockedIncrement(&g_count);
  }
  Entry& entry = g_entries[index - 1];
  entry.pid = pid;
  entry.flags = flags;
  entry.rules = rules;
  return true;
}

void remove_process(ULONG_PTR pid) {
  KIRQL irql;
  KeAcquireSpinLock(&g_table_lock, &irql);
  remove_locked(pid);
  KeReleaseSpinLock(&g_table_lock, irql);
}

// PsSetCreateProcessNotifyRoutineEx: CreateInfo is null at exit, set at creation. Both drop the
// pid's entry (see the file comment).
void process_notify(PEPROCESS, HANDLE pid, PPS_CREATE_NOTIFY_INFO) {
  remove_process(reinterpret_cast<ULONG_PTR>(pid));
}

}  // namespace

void start_process_table() {
  KeInitializeSpinLock(&g_table_lock);
  reset_locked();
  // Fails (STATUS_ACCESS_DENIED) when the image lacks IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY;
  // the table then takes no entries rather than keep ones nothing would drop.
  g_notify_registered = NT_SUCCESS(PsSetCreateProcessNotifyRoutineEx(process_notify, FALSE));
}

void stop_process_table() {
  if (g_notify_registered) PsSetCreateProcessNotifyRoutineEx(process_notify, TRUE);
  g_notify_registered = false;
  KIRQL irql;
  KeAcquireSpinLock(&g_table_lock, &irql);
  reset_locked();
  KeReleaseSpinLock(&g_table_lock, irql);
}

NTSTATUS set_process_flags(const win::ProcessFlagsRequest& request) {
  if (!g_notify_registered) return STATUS_NOT_SUPPORTED;
  if (request.pid == 0 || request.pid > MAXULONG_PTR ||
      (request.flags & ~process_flag::kAll) != 0 || (request.rules & ~process_rule::kAll) != 0) {
    return STATUS_INVALID_PARAMETER;
  }
  const auto pid = static_cast<ULONG_PTR>(request.pid);
  if (request.flags == 0 && request.rules == 0) {  // nothing set: the entry goes
    remove_process(pid);
    return STATUS_SUCCESS;
  }
  // Only a process that exists: no exit would ever drop an entry for a pid nobody has, and a
  // service could fill the table with them. The reference keeps the pid from being reused by
  // another process until the entry is in (its creation then drops the entry).
  PEPROCESS process = nullptr;
  if (!NT_SUCCESS(PsLookupProcessByProcessId(reinterpret_cast<HANDLE>(pid), &process))) {
    return STATUS_NOT_FOUND;
  }
  KIRQL irql;
  KeAcquireSpinLock(&g_table_lock, &irql);
  const bool stored = upsert_locked(pid, request.flags, request.rules);
  KeReleaseSpinLock(&g_table_lock, irql);
  ObDereferenceObject(process);
  return stored ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

bool process_extra(ULONG_PTR pid, std::uint32_t& flags, std::uint32_t& rules) {
  if (g_count == 0) return false;
  KIRQL irql;
  KeAcquireSpinLock(&g_table_lock, &irql);
  const std::uint32_t* link = find_link_locked(pid);
  if (link != nullptr) {
    flags = g_entries[*link - 1].flags;
    rules = g_entries[*link - 1].rules;
  }
  KeReleaseSpinLock(&g_table_lock, irql);
  return link != nullptr;
}

ULONG process_entries() {
  return static_cast<ULONG>(g_count);
}

}  // namespace hivewarden::driver
