// State and entry points the driver's files share (not a public header). The driver is split as
// Microsoft's regfltr sample splits a registry filter: entry and unload (entry.cpp), the registry
// callback with its pre- and post-operation side by side (callback.cpp), the per-call memory
// (call_scratch.cpp), the record queue and its inverted call (record_queue.cpp), the control
// device and its IOCTLs (control_device.cpp), and the checks that the structure mirrors are the
// DDK's (layout_checks.cpp).
#pragma once

#include <ntddk.h>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/report.hpp"
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
void initialize_record_queue();
// Numbers, encodes and queues a drafted record (or hands it to a waiting service request); a sync
// record then waits for the service's acknowledgement, at most a second.
void send_record(RecordDraft& draft);
// IOCTL_GET_NOTIFICATION: completes `irp` with the oldest record, or pends it until one comes.
NTSTATUS get_notification(PIRP irp);
// IOCTL_ACKNOWLEDGE: wakes the sender of the sync record `sequence`.
void acknowledge(ULONG64 sequence);
// Unload: cancels the pended requests and frees the queued records.
void drain_record_queue();

// --- control_device.cpp -------------------------------------------------------------------------
NTSTATUS create_control_device(PDRIVER_OBJECT driver);
void delete_control_device();

}  // namespace hivewarden::driver
