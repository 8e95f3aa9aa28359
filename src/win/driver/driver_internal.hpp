// State and entry points the driver's files share (not a public header). The driver is split as
// Microsoft's regfltr sample splits a registry filter: entry and unload (entry.cpp), the registry
// callback with its pre- and post-operation side by side (callback.cpp), the per-call memory
// (call_scratch.cpp), the record queue and its inverted call (record_queue.cpp), the control
// device and its IOCTLs (control_device.cpp), the service's per-process flags (process_table.cpp),
// and the checks that the structure mirrors are the
// DDK's (layout_checks.cpp).
#pragma once

#include <ntddk.h>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/report.hpp"
#include "hivewarden/win/ioctl.hpp"
#include "hivewarden/win/translate.hpp"

namespace hivewarden::driver {

inline constexpr ULONG kTag = 0x64577748;  // 'HwWd'

// The engine, made in DriverEntry and destroyed in unload (entry.cpp).
extern Engine* g_engine;

// --- callback.cpp -------------------------------------------------------------------------------
// Looks up the routines that older kernels lack; false when the driver cannot name keys.
bool find_kernel_routines();
NTSTATUS register_callbacks(PDRIVER_OBJECT driver);
void unregister_callbacks();

// --- call_scratch.cpp ---------------------------------------------------------------------------
// The working memory of one callback: the decision's, the translation's (the request's canonical
// keys) and the record being drafted.
struct CallScratch {
  DecisionScratch decision;
  win::TranslateScratch translate;
  RecordDraft draft;
};
void allocate_scratch_slots();
void free_scratch_slots();
// A free slot, else a temporary allocation; null when there is no memory. `slot` says which.
CallScratch* acquire_scratch(int& slot);
void release_scratch(CallScratch* scratch, int slot);

// --- record_queue.cpp ---------------------------------------------------------------------------
// Records go to one consumer: the handle that sent IOCTL_CONNECT, until its IRP_MJ_CLEANUP.
void initialize_record_queue();
// Whether a consumer is connected now: the callback drafts no record and waits for nothing when
// not (a hint, read without the lock; send_record checks again under it).
bool consumer_connected();
// Numbers, encodes and queues a drafted record (or hands it to a waiting service request); a sync
// record then waits for the service's acknowledgement, at most a second. Without a consumer the
// record is not built and nothing waits.
void send_record(RecordDraft& draft);
// IOCTL_CONNECT from `file`: STATUS_SUCCESS (also when `file` is already the consumer), else
// STATUS_DEVICE_BUSY.
NTSTATUS connect_consumer(PFILE_OBJECT file);
// IRP_MJ_CLEANUP (and IRP_MJ_CLOSE) of `file`: when it is the consumer, its pended requests
// complete STATUS_CANCELLED, sync waiters are released at once and the queued records are freed
// (counted as dropped). Any other handle: nothing.
void disconnect_consumer(PFILE_OBJECT file);
// IOCTL_GET_NOTIFICATION: completes `irp` with the oldest record, or pends it until one comes;
// STATUS_DEVICE_BUSY for a handle that is not the consumer. Returns the status it completed with.
NTSTATUS get_notification(PIRP irp);
// IOCTL_ACKNOWLEDGE: wakes the sender of the sync record `sequence` (STATUS_NOT_FOUND when none
// waits for it; STATUS_DEVICE_BUSY from a handle that is not the consumer).
NTSTATUS acknowledge(PFILE_OBJECT file, ULONG64 sequence);
// The queue's share of DriverCounters: consumer, records sent, dropped, sync timeouts, queued.
void queue_counters(win::DriverCounters& counters);
// Unload: disconnects whatever consumer is left (as disconnect_consumer does).
void drain_record_queue();

// --- process_table.cpp --------------------------------------------------------------------------
// Flags and rules the service set for running processes (IOCTL_SET_PROCESS_FLAGS), dropped when
// the process exits. start registers the process notification (PsSetCreateProcessNotifyRoutineEx);
// without it the table takes no entries (STATUS_NOT_SUPPORTED), as nothing would drop them.
void start_process_table();
void stop_process_table();
NTSTATUS set_process_flags(const win::ProcessFlagsRequest& request);
// The service's flags and rules for `pid`, for the registry callback (OperationRequest's
// extra_flags and extra_rules); false, with both left alone, when it set none.
bool process_extra(ULONG_PTR pid, std::uint32_t& flags, std::uint32_t& rules);
ULONG process_entries();

// --- control_device.cpp -------------------------------------------------------------------------
// Creates the secured device (SYSTEM and Administrators only) and its link, and starts the
// process table; fails (and the driver does not load) when the device cannot be secured.
NTSTATUS create_control_device(PDRIVER_OBJECT driver);
void delete_control_device();

// --- defined by the registry callback's side (lead) ---------------------------------------------
// The machine's current control set (HKLM\SYSTEM\Select\Current, read at load); 0 when it could
// not be read. A policy compiled for another control set is refused (STATUS_REVISION_MISMATCH).
std::uint32_t machine_control_set();
// The callback's share of DriverCounters: decisions, denials, undecided writes and reads, call
// contexts outstanding. Called last, so it may overwrite any field.
void callback_counters(win::DriverCounters& counters);

}  // namespace hivewarden::driver
