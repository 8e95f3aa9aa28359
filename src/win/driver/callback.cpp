// The registry callback (CmRegisterCallbackEx), its pre- and post-operation side by side. Each
// operation of SPEC §1 is translated once into the core's OperationRequest (its key canonical with
// the machine's control set), decided by the engine, and reported through the core's one report
// step: a denial's record is sent before the call returns; an allowed, watched operation's record
// is drafted in the pre (names and values at hand) and carried in Windows' CallContext to the
// post, which sends it only if the operation returned STATUS_SUCCESS. What cannot be decided is
// denied if it is a write and let through if a read, and counted (SPEC §11).
#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

using GetKeyObjectIdEx = NTSTATUS(NTAPI*)(PLARGE_INTEGER, PVOID, PULONG_PTR, PCUNICODE_STRING*,
                                          ULONG);
using ReleaseKeyObjectIdEx = VOID(NTAPI*)(PCUNICODE_STRING);

LARGE_INTEGER g_cookie{};
// Set once CmRegisterCallbackEx has returned and written the cookie: a callback that runs
// before (registration races the first operations) cannot name keys, so decides nothing.
volatile LONG g_ready = 0;
bool g_registered = false;
GetKeyObjectIdEx g_get_name = nullptr;
ReleaseKeyObjectIdEx g_release_name = nullptr;
volatile LONG64 g_decisions = 0, g_denials = 0, g_undecided_writes = 0, g_undecided_reads = 0;

// --- key names ----------------------------------------------------------------------------------
// The names CmCallbackGetKeyObjectIDEx gave during one callback, released when it ends.
struct NameHolder {
  PCUNICODE_STRING names[4];
  int count = 0;
  ~NameHolder() {
    for (int i = 0; i < count; ++i) g_release_name(names[i]);
  }
};

bool name_of(void* context, void* object, std::u16string_view& name) {
  auto* holder = static_cast<NameHolder*>(context);
  if (holder->count == 4) return false;
  PCUNICODE_STRING s = nullptr;
  if (!NT_SUCCESS(g_get_name(&g_cookie, object, nullptr, &s, 0)) || s == nullptr) return false;
  holder->names[holder->count++] = s;
  name = std::u16string_view(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / 2);
  return true;
}

bool key_exists(void*, std::u16string_view full) {
  HANDLE key = open_key(nullptr, full, KEY_READ);
  if (key == nullptr) return false;
  ZwClose(key);
  return true;
}

// --- what cannot be decided ---------------------------------------------------------------------
bool is_write(Operation op) {
  return op != Operation::kQueryValue;
}

NTSTATUS undecided(Operation op) {
  if (is_write(op)) {
    InterlockedIncrement64(&g_undecided_writes);
    return STATUS_ACCESS_DENIED;
  }
  InterlockedIncrement64(&g_undecided_reads);
  return STATUS_SUCCESS;
}

// --- records ------------------------------------------------------------------------------------
enum class Drafted { kNothing, kRecord, kNoMemory };

// What the record says beyond the request: a value larger than was captured keeps its full size.
void note_full_sizes(const OperationRequest& request, const ValueBefore& before,
                     std::uint32_t old_size, std::uint32_t new_size, RecordDraft& draft) {
  if (before.known) draft.input.value_size_before = old_size;
  if (request.op == Operation::kSetValue && !request.has_data && new_size > request.data.size()) {
    draft.input.flags |= record_flag::kHasDataAfter;
    draft.input.value_type_after = request.type;
    draft.input.value_size_after = new_size;
    draft.input.data_after = request.data;
  }
}

// The decision's record, encoded now into `record` (the names and values live only during
// this call): a denial's to send, an allowed operation's to keep for its post.
Drafted draft_record(std::uint32_t cls, const void* argument2, const OperationRequest& request,
                     const Decision& decision, std::uint32_t new_size, CallScratch& scratch,
                     QueuedRecord*& record) {
  ValueBefore before;
  std::uint32_t old_size = 0;
  if (decision.capture_old_value) {
    before = read_old_value(win::key_object(cls, argument2), request.value, scratch, old_size);
  }
  const bool drafted =
      decision.verdict == Verdict::kDeny
          ? draft_denial(request, decision, scratch.decision.match, before, scratch.draft)
          : draft_completion(request, pending_outcome(decision, scratch.decision.match, request.op),
                             before, scratch.draft);
  if (!drafted) return Drafted::kNothing;
  note_full_sizes(request, before, old_size, new_size, scratch.draft);
  record = encode_record_for_queue(scratch.draft);
  return record != nullptr ? Drafted::kRecord : Drafted::kNoMemory;
}

// --- pre-operation ------------------------------------------------------------------------------
NTSTATUS decide(std::uint32_t cls, const void* argument2, Operation op, const NewData& new_data,
                CallScratch& scratch, QueuedRecord*& record) {
  NameHolder names;
  Caller caller;
  OperationRequest request;
  const win::KeySource keys{&name_of, &key_exists, &names};
  CanonicalOptions options;
  options.control_set = machine_control_set();
  switch (win::translate_pre(cls, argument2, keys, options, scratch.translate, request)) {
    case win::TranslateStatus::kOk:
      break;
    case win::TranslateStatus::kIgnored:
      return STATUS_SUCCESS;
    case win::TranslateStatus::kTooLong:  // no such name can exist: undecidable, and counted
    case win::TranslateStatus::kNoName:
    case win::TranslateStatus::kBadArgument:
    case win::TranslateStatus::kUnknownRoot:
      return undecided(op);
  }
  if (!caller.identify(request)) return undecided(op);
  new_data.apply(request);
  const std::uint32_t new_size = new_data.full_size();
  const Decision decision = g_engine->decide(request, scratch.decision);
  InterlockedIncrement64(&g_decisions);
  const bool denied = decision.verdict == Verdict::kDeny;
  if (denied) InterlockedIncrement64(&g_denials);
  // A watched write whose record cannot be made is not let through unreported.
  if (consumer_connected() &&
      draft_record(cls, argument2, request, decision, new_size, scratch, record) ==
          Drafted::kNoMemory &&
      !denied) {
    return undecided(op);
  }
  return denied ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
}

NTSTATUS pre_operation(std::uint32_t cls, Operation op, void* argument2) {
  if (argument2 == nullptr || InterlockedCompareExchange(&g_ready, 0, 0) == 0) return undecided(op);
  // The driver's own read of an old value re-enters this callback on the same thread: it is not
  // the caller's operation, and must neither be decided as one nor wait for a second slot.
  if (op == Operation::kQueryValue && current_thread_holds_scratch()) return STATUS_SUCCESS;
  NewData new_data;  // before the slot: reading the caller's buffer may wait on its process
  if (!new_data.capture(cls, argument2)) return undecided(op);
  CallScratch* scratch = acquire_scratch(is_write(op));
  if (scratch == nullptr) return undecided(op);
  QueuedRecord* record = nullptr;
  const NTSTATUS result = decide(cls, argument2, op, new_data, *scratch, record);
  release_scratch(scratch);  // before a sync record's wait: others may decide meanwhile
  if (record == nullptr) return result;
  if (result == STATUS_ACCESS_DENIED) {
    send_record(record);
  } else if (void** field = win::call_context_field(cls, argument2);
             result == STATUS_SUCCESS && field != nullptr) {
    keep_for_post(field, record);
  } else {
    free_queued_record(record);
  }
  return result;
}

// --- post-operation -----------------------------------------------------------------------------
void post_operation(const win::PostOperation& post) {
  QueuedRecord* record = take_for_post(post.call_context, traits(post.op).pre_class);
  if (record == nullptr) return;
  if (post.success) {
    send_record(record);  // counted as dropped if the consumer left meanwhile
  } else {
    free_queued_record(record);  // it did not happen: nothing to report
  }
}

NTSTATUS registry_callback(PVOID, PVOID argument1, PVOID argument2) {
  const auto cls = static_cast<std::uint32_t>(reinterpret_cast<ULONG_PTR>(argument1));
  win::PostOperation post;
  if (win::translate_post(cls, argument2, post) == win::TranslateStatus::kOk) {
    post_operation(post);
    return STATUS_SUCCESS;
  }
  Operation op;
  if (!operation_by_pre_class(cls, op)) return STATUS_SUCCESS;  // not SPEC §1: no memory taken
  return pre_operation(cls, op, argument2);
}

PVOID routine(const wchar_t* name) {
  UNICODE_STRING s;
  RtlInitUnicodeString(&s, name);
  return MmGetSystemRoutineAddress(&s);
}

// As WdFilter does: the Ex name routines are looked up, since older kernels lack them.
bool find_name_routines() {
  g_get_name = reinterpret_cast<GetKeyObjectIdEx>(routine(L"CmCallbackGetKeyObjectIDEx"));
  g_release_name =
      reinterpret_cast<ReleaseKeyObjectIdEx>(routine(L"CmCallbackReleaseKeyObjectIDEx"));
  return g_get_name != nullptr && g_release_name != nullptr;
}

}  // namespace

NTSTATUS register_callbacks(PDRIVER_OBJECT driver) {
  g_decisions = 0;  // counts since this load
  g_denials = 0;
  g_undecided_writes = 0;
  g_undecided_reads = 0;
  if (!find_name_routines() || !find_caller_routines()) return STATUS_NOT_SUPPORTED;
  find_copy_routine();
  const NTSTATUS status =
      CmRegisterCallbackEx(registry_callback, altitude(), driver, nullptr, &g_cookie, nullptr);
  g_registered = NT_SUCCESS(status);
  if (g_registered) InterlockedExchange(&g_ready, 1);  // the cookie is written
  return status;
}

bool unregister_callbacks() {
  if (!g_registered) return true;
  // Returns once no callback runs any more; on failure callbacks may still come.
  if (!NT_SUCCESS(CmUnRegisterCallback(g_cookie))) return false;
  InterlockedExchange(&g_ready, 0);
  g_registered = false;
  return true;
}

void callback_counters(win::DriverCounters& out) {
  out.decisions = static_cast<std::uint64_t>(g_decisions);
  out.denials = static_cast<std::uint64_t>(g_denials);
  out.undecided_writes_denied = static_cast<std::uint64_t>(g_undecided_writes);
  out.undecided_reads_allowed = static_cast<std::uint64_t>(g_undecided_reads);
  out.call_contexts_outstanding = kept_record_count();
}

}  // namespace hivewarden::driver
