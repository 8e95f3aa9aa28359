// The registry callback (CmRegisterCallbackEx), its pre- and post-operation side by side. Each
// operation of SPEC §1 is translated once into the core's OperationRequest (its key canonical),
// decided by the engine, and reported through the core's one report step (draft_denial,
// draft_completion): the driver only sends what those draft.
#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

using GetKeyObjectIdEx = NTSTATUS(NTAPI*)(PLARGE_INTEGER, PVOID, PULONG_PTR, PCUNICODE_STRING*,
                                          ULONG);
using ReleaseKeyObjectIdEx = VOID(NTAPI*)(PCUNICODE_STRING);
using LocateImageName = NTSTATUS(NTAPI*)(PEPROCESS, PUNICODE_STRING*);

LARGE_INTEGER g_cookie{};
GetKeyObjectIdEx g_get_name = nullptr;
ReleaseKeyObjectIdEx g_release_name = nullptr;
LocateImageName g_image_name = nullptr;
bool g_callback_registered = false, g_thread_notify = false;
// Operations let through undecided: no scratch memory, no key name, a malformed structure, a
// name outside the registry's roots.
volatile LONG64 g_undecided = 0;

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
  const auto bytes = static_cast<USHORT>(full.size() * 2);
  UNICODE_STRING name{bytes, bytes, const_cast<PWCH>(reinterpret_cast<const WCHAR*>(full.data()))};
  OBJECT_ATTRIBUTES attributes;
  InitializeObjectAttributes(&attributes, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, nullptr,
                             nullptr);
  HANDLE key = nullptr;
  if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &attributes))) return false;
  ZwClose(key);
  return true;
}

// CurrentControlSet as the policy in force says (a rename's new name may be it). SPEC §11 wants
// the machine's own Select\Current here; until then this is what the engine used before.
CanonicalOptions canonical_options() {
  CanonicalOptions options;
  const PolicyRef policy = g_engine->current_policy();
  if (policy) options.control_set = policy.view().control_set();
  return options;
}

// --- the calling process ------------------------------------------------------------------------
void fill_caller(OperationRequest& request) {
  const auto pid = reinterpret_cast<ULONG_PTR>(PsGetCurrentProcessId());
  request.process.pid = static_cast<std::uint32_t>(pid);
  request.process.creation_time =
      static_cast<std::uint64_t>(PsGetProcessCreateTimeQuadPart(PsGetCurrentProcess()));
  request.thread_id = reinterpret_cast<std::uint64_t>(PsGetCurrentThreadId());
}

// The image path of the calling process (SeLocateProcessImageName allocates it: freed here).
struct CallerImage {
  PUNICODE_STRING image = nullptr;
  ~CallerImage() {
    if (image != nullptr) ExFreePool(image);
  }
  std::u16string_view locate(std::uint32_t pid) {
    if (pid == 4) return u"System";
    if (g_image_name == nullptr || !NT_SUCCESS(g_image_name(PsGetCurrentProcess(), &image)) ||
        image == nullptr) {
      return {};
    }
    return std::u16string_view(reinterpret_cast<const char16_t*>(image->Buffer), image->Length / 2);
  }
};

// --- pre-operation ------------------------------------------------------------------------------
// Decides a translated request; a denial sends the record draft_denial makes of it.
NTSTATUS decide(OperationRequest& request, CallScratch& scratch) {
  // The new data stays out of the request: REG_SET_VALUE_KEY_INFORMATION.Data may be the
  // caller's user-mode buffer, which this build cannot read safely (no SEH under mingw). Capturing
  // it, bounded, is part of SPEC §11; until then data conditions (§10) do not hold here, as before.
  request.has_data = false;
  request.data = {};
  CallerImage image;
  request.process.image = image.locate(request.process.pid);
  const Decision decision = g_engine->decide(request, scratch.decision);
  if (decision.verdict != Verdict::kDeny) return STATUS_SUCCESS;
  if (draft_denial(request, decision, scratch.decision.match, ValueBefore{}, scratch.draft)) {
    send_record(scratch.draft);
  }
  return STATUS_ACCESS_DENIED;
}

NTSTATUS pre_operation(std::uint32_t cls, const void* argument2) {
  int slot = -1;
  CallScratch* scratch = acquire_scratch(slot);
  if (scratch == nullptr) {  // no memory: the operation goes on, unchecked, and is counted
    InterlockedIncrement64(&g_undecided);
    return STATUS_SUCCESS;
  }
  NTSTATUS result = STATUS_SUCCESS;
  {
    NameHolder names;
    OperationRequest request;
    const win::KeySource keys{&name_of, &key_exists, &names};
    switch (win::translate_pre(cls, argument2, keys, canonical_options(), scratch->translate,
                               request)) {
      case win::TranslateStatus::kOk:
        fill_caller(request);
        result = decide(request, *scratch);
        break;
      case win::TranslateStatus::kTooLong:
        result = STATUS_ACCESS_DENIED;  // no such name can exist: fail closed
        break;
      case win::TranslateStatus::kIgnored:
        break;
      case win::TranslateStatus::kNoName:
      case win::TranslateStatus::kBadArgument:
      case win::TranslateStatus::kUnknownRoot:
        InterlockedIncrement64(&g_undecided);
        break;
    }
  }
  release_scratch(scratch, slot);
  return result;
}

// --- post-operation -----------------------------------------------------------------------------
// The record of an operation that happened, drafted by draft_completion from the engine's call
// context (its rules and clients) and the operation's request. The request is translated again
// from the post's PreInformation rather than carried from the pre-operation: carrying it would
// keep a second pre-to-post state beside the engine's contexts (per-thread, sized for names) and
// is what SPEC §11's CallContext pairing is to do properly. Re-translating costs a name lookup
// and a canonicalisation, paid only when a record is sent; a rename's old name is gone by then
// (translate_completed leaves it out), and a name that cannot be had leaves the record without
// names, as every post record was before.
void post_operation(const win::PostOperation& post) {
  const auto thread = reinterpret_cast<std::uint64_t>(PsGetCurrentThreadId());
  const PostOutcome outcome = g_engine->complete(thread, post.op, post.success);
  if (!outcome.found || outcome.notify == NotifyMode::kNone) return;
  int slot = -1;
  CallScratch* scratch = acquire_scratch(slot);
  if (scratch == nullptr) return;  // no memory: the record is lost (the queue counts drops)
  {
    NameHolder names;
    OperationRequest request;
    const win::KeySource keys{&name_of, nullptr, &names};
    win::translate_completed(post, keys, canonical_options(), scratch->translate, request);
    request.op = post.op;
    request.has_data = false;  // see decide(): the new data is not read yet
    request.data = {};
    fill_caller(request);
    if (draft_completion(request, outcome, ValueBefore{}, scratch->draft)) {
      send_record(scratch->draft);
    }
  }
  release_scratch(scratch, slot);
}

NTSTATUS registry_callback(PVOID, PVOID argument1, PVOID argument2) {
  const auto cls = static_cast<std::uint32_t>(reinterpret_cast<ULONG_PTR>(argument1));
  win::PostOperation post;
  if (win::translate_post(cls, argument2, post) == win::TranslateStatus::kOk) {
    post_operation(post);
    return STATUS_SUCCESS;
  }
  Operation op;
  if (!operation_by_pre_class(cls, op)) return STATUS_SUCCESS;  // no memory for other classes
  return pre_operation(cls, argument2);
}

void thread_notify(HANDLE, HANDLE thread, BOOLEAN create) {
  if (!create && g_engine != nullptr) {
    g_engine->thread_exited(reinterpret_cast<std::uint64_t>(thread));
  }
}

PVOID routine(const wchar_t* name) {
  UNICODE_STRING s;
  RtlInitUnicodeString(&s, name);
  return MmGetSystemRoutineAddress(&s);
}

}  // namespace

bool find_kernel_routines() {
  // As WdFilter does: the Ex name routines are looked up, since older kernels lack them.
  g_get_name = reinterpret_cast<GetKeyObjectIdEx>(routine(L"CmCallbackGetKeyObjectIDEx"));
  g_release_name =
      reinterpret_cast<ReleaseKeyObjectIdEx>(routine(L"CmCallbackReleaseKeyObjectIDEx"));
  g_image_name = reinterpret_cast<LocateImageName>(routine(L"SeLocateProcessImageName"));
  return g_get_name != nullptr && g_release_name != nullptr;
}

NTSTATUS register_callbacks(PDRIVER_OBJECT driver) {
  g_thread_notify = NT_SUCCESS(PsSetCreateThreadNotifyRoutine(thread_notify));
  UNICODE_STRING altitude;
  RtlInitUnicodeString(&altitude, L"328010");  // the FSFilter Anti-Virus load order group's range
  const NTSTATUS status =
      CmRegisterCallbackEx(registry_callback, &altitude, driver, nullptr, &g_cookie, nullptr);
  g_callback_registered = NT_SUCCESS(status);
  return status;
}

void unregister_callbacks() {
  if (g_callback_registered) CmUnRegisterCallback(g_cookie);
  if (g_thread_notify) PsRemoveCreateThreadNotifyRoutine(thread_notify);
  g_callback_registered = g_thread_notify = false;
}

}  // namespace hivewarden::driver
