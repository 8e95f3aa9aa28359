// State and entry points the driver's files share (not a public header). The driver is split as
// Microsoft's regfltr sample splits a registry filter: entry and unload (entry.cpp), the registry
// callback with its pre- and post-operation side by side (callback.cpp), who is calling
// (caller.cpp), the values a record carries (captured_values.cpp), the per-call memory
// (call_scratch.cpp), the records carried from pre to post (call_context.cpp), the record queue
// and its inverted call (record_queue.cpp), the control device and its IOCTLs
// (control_device.cpp), per-process flags (process_table.cpp), what is read from the machine at
// load (machine_settings.cpp, volume_names.cpp), pool memory (kernel_platform.cpp), and the checks
// that the structure mirrors are the DDK's (layout_checks.cpp). SPEC §11 states the duties.
#pragma once

#include <ntddk.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/report.hpp"
#include "hivewarden/win/ioctl.hpp"
#include "hivewarden/win/translate.hpp"

namespace hivewarden::driver {

inline constexpr ULONG kTag = 0x64577748;  // 'HwWd'

// The engine, made in DriverEntry and destroyed in unload (entry.cpp). It keeps no thread-keyed
// call contexts: pre and post are paired through Windows' CallContext (call_context.cpp).
extern Engine* g_engine;

// --- kernel_platform.cpp ------------------------------------------------------------------------
// Finds ExAllocatePool2 (Windows 10 2004 and later); before it, pool memory is NonPagedPoolNx.
void initialize_pool();
// Non-paged, never executable; null when there is none.
void* pool_allocate(std::size_t size);
// Paged (only touched at PASSIVE_LEVEL), never executable; null when there is none.
void* pool_allocate_paged(std::size_t size);
void pool_free(void* p);

// --- machine_settings.cpp -----------------------------------------------------------------------
// Reads what the driver takes from the machine at load: the control set CurrentControlSet links
// to (SYSTEM\Select\Current) and the altitude (<service key>\Parameters\Altitude).
void read_machine_settings(PCUNICODE_STRING registry_path);
std::uint32_t machine_control_set();
// The altitude the callback registers at (default kDefaultAltitude).
PCUNICODE_STRING altitude();
inline constexpr const wchar_t* kDefaultAltitude = L"415310";

// --- volume_names.cpp ---------------------------------------------------------------------------
// Reads the drive letters' targets (\??\C: -> \Device\HarddiskVolume3) at load and when a
// consumer connects.
void refresh_volume_names();
// Rewrites an image path from \Device\HarddiskVolumeN\... to C:\... in place (the DOS form is
// never longer); returns the rewritten view, or `image` unchanged when no drive maps it.
std::u16string_view dos_image_path(char16_t* image, std::size_t length);

// --- caller.cpp ---------------------------------------------------------------------------------
// The calling process and thread as the engine needs them (pid, creation time, thread, image in
// C:\ form, the service's extra flags for it). Holds the image SeLocateProcessImageName made.
class Caller {
 public:
  Caller() = default;
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;
  ~Caller();
  // False when the image cannot be had (no memory): the operation cannot be decided.
  bool identify(OperationRequest& request);

 private:
  PUNICODE_STRING image_ = nullptr;
};
bool find_caller_routines();

// --- call_scratch.cpp ---------------------------------------------------------------------------
inline constexpr std::uint32_t kMaxCapturedData = 16u << 10;  // of a value, new or old

// The working memory of one callback: the decision's, the translation's (the request's canonical
// keys), the record being drafted, and the values it carries.
struct CallScratch {
  DecisionScratch decision;
  win::TranslateScratch translate;
  RecordDraft draft;
  alignas(8) unsigned char old_value[kMaxCapturedData + 16];  // KEY_VALUE_PARTIAL_INFORMATION
};
// Makes the slots at load (false: no memory, the driver does not load).
bool allocate_scratch_slots();
void free_scratch_slots();
// A free slot. A write waits for one (at most kSlotWait); a read takes one only if one is free
// now (a read may be this driver's own nested query). Null when none came.
CallScratch* acquire_scratch(bool wait);
void release_scratch(CallScratch* scratch);
// Whether the calling thread is inside this driver's callback, holding a slot: a registry call it
// makes then is the driver's own (the old value it reads for a record), not the caller's.
bool current_thread_holds_scratch();

// --- captured_values.cpp ------------------------------------------------------------------------
// Finds MmCopyMemory (Windows 8.1 and later; without it a user-mode caller's data is unreadable).
void find_copy_routine();
// set-value's new data, copied (at most kMaxCapturedData) into memory of this call's own before
// the call takes a scratch slot: a user buffer may have to be paged in from a file its process
// controls, which may take as long as that process likes, and no slot may be held meanwhile (eight
// such callers would stall every registry write of the machine). Copied only while a consumer is
// connected: the decision never reads the data, only a record does.
class NewData {
 public:
  NewData() = default;
  NewData(const NewData&) = delete;
  NewData& operator=(const NewData&) = delete;
  ~NewData();
  // False when the caller's buffer cannot be read or there is no memory for the copy.
  bool capture(std::uint32_t notify_class, const void* argument2);
  // The request holds the data only when all of it was captured (a decision never sees part of
  // a value as the whole); else none. The record still carries the start and the full size.
  void apply(OperationRequest& request) const;
  std::uint32_t full_size() const { return full_size_; }

 private:
  unsigned char* bytes_ = nullptr;
  std::uint32_t size_ = 0, full_size_ = 0;
  bool captured_ = false;
};
// The value's data before the operation (the decision's capture_old_value), into scratch.old_value.
// Unknown (known = false) when the value does not exist or cannot be read.
ValueBefore read_old_value(void* key_object, std::u16string_view value_name, CallScratch& scratch,
                           std::uint32_t& full_size);
// A kernel handle to the key `name` (absolute, or relative to `root` when it is not null); null
// when it cannot be opened.
HANDLE open_key(HANDLE root, std::u16string_view name, ACCESS_MASK access);
// ZwQueryValueKey(KeyValuePartialInformation) of `name` under an open key into `buffer`:
// STATUS_BUFFER_OVERFLOW when only the start of the data fit.
NTSTATUS query_value(HANDLE key, std::u16string_view name, void* buffer, ULONG size);

// --- call_context.cpp ---------------------------------------------------------------------------
// A record drafted in the pre-operation, sent by the post-operation if the operation happened.
struct QueuedRecord;
void initialize_call_contexts();
// Keeps `record` for the post: stores it in the pre structure's CallContext field.
void keep_for_post(void** call_context, QueuedRecord* record);
// The post of an operation whose pre class is `pre_class`: the record its pre kept (null when
// none, or when the context holds a record of another class), no longer kept.
QueuedRecord* take_for_post(void* call_context, std::uint32_t pre_class);
// Unload: frees the records of pre-operations whose post never came.
void free_kept_records();
std::uint64_t kept_record_count();

// --- record_queue.cpp ---------------------------------------------------------------------------
struct QueuedRecord {
  LIST_ENTRY link;
  ULONG size;
  bool sync;  // the sender waits for the consumer's acknowledgement
  UCHAR bytes[1];
};
// Records go to one consumer: the handle that sent IOCTL_CONNECT, until its IRP_MJ_CLEANUP.
void initialize_record_queue();
// Whether a consumer is connected now: the callback drafts no record and waits for nothing when
// not (a hint, read without the lock; send_record checks again under it).
bool consumer_connected();
// Encodes a drafted record into pool memory (null when there is no memory, counted as dropped).
QueuedRecord* encode_record_for_queue(const RecordDraft& draft);
void free_queued_record(QueuedRecord* record);
// Numbers and queues a record (or hands it to a waiting service request); a sync record's sender
// then waits for the service's acknowledgement, at most a second. Without a consumer the record
// is freed and nothing waits.
void send_record(QueuedRecord* record);
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

// --- callback.cpp -------------------------------------------------------------------------------
NTSTATUS register_callbacks(PDRIVER_OBJECT driver);
// False when the callback could not be unregistered: what it uses must then stay allocated.
bool unregister_callbacks();
// The callback's counters (decisions, denials, undecided operations) into `out`.
void callback_counters(win::DriverCounters& out);

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
