// The configuration manager: registered callbacks (CmRegisterCallbackEx, altitudes, cookies),
// the pre- and post-notifications of registry operations with the DDK's REG_*_INFORMATION
// layouts, CallContext carried from the pre structure to REG_POST_OPERATION_INFORMATION as
// Windows does, the key names of CmCallbackGetKeyObjectIDEx, and CmUnRegisterCallback waiting
// until no thread is inside the callback.
#include <cstdlib>
#include <cstring>
#include <cwchar>

#include "internal.hpp"

namespace box::kernel {
namespace {

struct Registration {
  PEX_CALLBACK_FUNCTION function;
  PVOID context;
  LONGLONG cookie;
  wchar_t altitude[32];
  PVOID driver;
  int inside;
  bool active;
};
Registration g_callbacks[8];
LONGLONG g_next_cookie = 0x1000;
void (*g_during_registration)(void*) = nullptr;
void* g_during_registration_context = nullptr;
bool g_fail_unregister = false;

// Windows answers only the cookie of a registered callback.
bool cookie_registered(LONGLONG cookie) {
  Locked lock;
  for (const Registration& r : g_callbacks) {
    if (r.active && r.cookie == cookie) return true;
  }
  return false;
}
constexpr ULONG kNameTag = 0x6d4e6d43;  // 'CmNm': CmCallbackGetKeyObjectIDEx's names

// Every structure a pre-notification can carry, and the strings it points to.
union PreInformation {
  REG_DELETE_KEY_INFORMATION delete_key;
  REG_SET_VALUE_KEY_INFORMATION set_value;
  REG_DELETE_VALUE_KEY_INFORMATION delete_value;
  REG_RENAME_KEY_INFORMATION rename;
  REG_QUERY_VALUE_KEY_INFORMATION query_value;
  REG_CREATE_KEY_INFORMATION_V1 create;  // also RegNtPreOpenKeyEx's
  REG_RESTORE_KEY_INFORMATION restore;
  REG_REPLACE_KEY_INFORMATION replace;
  REG_ENUMERATE_KEY_INFORMATION enumerate;
  REG_QUERY_KEY_INFORMATION query_key;
  REG_KEY_HANDLE_CLOSE_INFORMATION close;
};

}  // namespace
}  // namespace box::kernel

namespace box {

struct PendingOp {
  RegOp op;
  kernel::Key* key;  // the operation's key object (create: the parent)
  wchar_t* full;     // the key's full name
  UNICODE_STRING value, new_name, file, complete_name;
  kernel::PreInformation pre;
  ULONG disposition, result_length;
  PVOID result_object;
  unsigned char query_buffer[64];
  void* user_data;  // set-value by a user-mode caller: its data as the kernel sees it
  kernel::Registration* callback;
};

}  // namespace box

namespace box::kernel {
namespace {

void set_string(UNICODE_STRING& s, const wchar_t* text) {
  const std::size_t n = text != nullptr ? std::wcslen(text) : 0;
  s.Buffer = const_cast<PWCH>(text);
  s.Length = s.MaximumLength = static_cast<USHORT>(n * 2);
}

std::uint32_t post_class_of(std::uint32_t pre) {
  switch (pre) {
    case RegNtPreCreateKeyEx:
      return RegNtPostCreateKeyEx;
    case RegNtPreOpenKeyEx:
      return RegNtPostOpenKeyEx;
    case RegNtPreDeleteKey:
      return RegNtPostDeleteKey;
    case RegNtPreSetValueKey:
      return RegNtPostSetValueKey;
    case RegNtPreDeleteValueKey:
      return RegNtPostDeleteValueKey;
    case RegNtPreRenameKey:
      return RegNtPostRenameKey;
    case RegNtPreQueryValueKey:
      return RegNtPostQueryValueKey;
    case RegNtPreRestoreKey:
      return RegNtPostRestoreKey;
    case RegNtPreReplaceKey:
      return RegNtPostReplaceKey;
    case RegNtPreEnumerateKey:
      return RegNtPostEnumerateKey;
    case RegNtPreQueryKey:
      return RegNtPostQueryKey;
    case RegNtPreKeyHandleClose:
      return RegNtPostKeyHandleClose;
  }
  return 0xFFFFFFFF;
}

// The parent of a full name (for a create) and its last component.
std::size_t parent_length(const wchar_t* full) {
  const wchar_t* last = std::wcsrchr(full, L'\\');
  return last != nullptr ? static_cast<std::size_t>(last - full) : 0;
}

void fill_create(PendingOp& p) {
  REG_CREATE_KEY_INFORMATION_V1& c = p.pre.create;
  const std::size_t parent = parent_length(p.full);
  p.key = key_create(p.full, parent);
  set_string(p.complete_name, p.op.relative_create ? p.full + parent + 1 : p.full);
  c.CompleteName = &p.complete_name;
  c.RootObject = p.op.relative_create ? p.key : key_create(L"\\REGISTRY", 9);
  c.Options = REG_OPTION_NON_VOLATILE;
  c.DesiredAccess = KEY_ALL_ACCESS;
  c.Disposition = &p.disposition;
  c.ResultObject = &p.result_object;
  c.Version = 1;
  c.RemainingName = &p.complete_name;
}

// The pre structure of `op`, as the configuration manager fills it.
void fill_pre(PendingOp& p) {
  const RegOp& op = p.op;
  set_string(p.value, op.value);
  set_string(p.new_name, op.new_name);
  set_string(p.file, op.file);
  if (op.pre_class == RegNtPreCreateKeyEx || op.pre_class == RegNtPreOpenKeyEx)
    return fill_create(p);
  p.key = key_create(p.full, std::wcslen(p.full));
  void* object = p.key;
  switch (op.pre_class) {
    case RegNtPreDeleteKey:
      p.pre.delete_key.Object = object;
      break;
    case RegNtPreSetValueKey: {
      auto& s = p.pre.set_value;
      s.Object = object, s.ValueName = &p.value, s.Type = op.type;
      s.Data = const_cast<PVOID>(op.data), s.DataSize = op.data_size;
      // A user-mode caller's data is in its own (user) memory, readable only through MmCopyMemory.
      if (current_thread().previous_mode == UserMode && op.data_size != 0 &&
          reinterpret_cast<ULONG_PTR>(op.data) >= 0x10000) {
        p.user_data = user_buffer_make(op.data, op.data_size);
        s.Data = p.user_data;
      }
      break;
    }
    case RegNtPreDeleteValueKey:
      p.pre.delete_value.Object = object, p.pre.delete_value.ValueName = &p.value;
      break;
    case RegNtPreRenameKey:
      p.pre.rename.Object = object, p.pre.rename.NewName = &p.new_name;
      break;
    case RegNtPreQueryValueKey: {
      auto& q = p.pre.query_value;
      q.Object = object, q.ValueName = &p.value,
      q.KeyValueInformationClass = KeyValuePartialInformation;
      q.KeyValueInformation = p.query_buffer, q.Length = sizeof p.query_buffer,
      q.ResultLength = &p.result_length;
      break;
    }
    case RegNtPreRestoreKey:
      p.pre.restore.Object = object, p.pre.restore.FileHandle = reinterpret_cast<HANDLE>(0x1234);
      break;
    case RegNtPreReplaceKey:
      p.pre.replace.Object = object, p.pre.replace.OldFileName = &p.file,
      p.pre.replace.NewFileName = &p.file;
      break;
    case RegNtPreEnumerateKey: {
      auto& e = p.pre.enumerate;
      e.Object = object, e.KeyInformationClass = KeyBasicInformation;
      e.KeyInformation = p.query_buffer, e.Length = sizeof p.query_buffer,
      e.ResultLength = &p.result_length;
      break;
    }
    case RegNtPreQueryKey: {
      auto& q = p.pre.query_key;
      q.Object = object, q.KeyInformationClass = KeyBasicInformation;
      q.KeyInformation = p.query_buffer, q.Length = sizeof p.query_buffer,
      q.ResultLength = &p.result_length;
      break;
    }
    case RegNtPreKeyHandleClose:
      p.pre.close.Object = object;
      break;
  }
}

// The CallContext field of the pre structure, where the driver may have put its context.
PVOID call_context(PendingOp& p) {
  switch (p.op.pre_class) {
    case RegNtPreCreateKeyEx:
    case RegNtPreOpenKeyEx:
      return p.pre.create.CallContext;
    case RegNtPreDeleteKey:
      return p.pre.delete_key.CallContext;
    case RegNtPreSetValueKey:
      return p.pre.set_value.CallContext;
    case RegNtPreDeleteValueKey:
      return p.pre.delete_value.CallContext;
    case RegNtPreRenameKey:
      return p.pre.rename.CallContext;
    case RegNtPreQueryValueKey:
      return p.pre.query_value.CallContext;
    case RegNtPreRestoreKey:
      return p.pre.restore.CallContext;
    case RegNtPreReplaceKey:
      return p.pre.replace.CallContext;
    case RegNtPreEnumerateKey:
      return p.pre.enumerate.CallContext;
    case RegNtPreQueryKey:
      return p.pre.query_key.CallContext;
    case RegNtPreKeyHandleClose:
      return p.pre.close.CallContext;
  }
  return nullptr;
}

// CallContext: set only by the pre of a SPEC §1 class (the classes the driver looks at), and only
// when a post will carry it back (a pre that refuses gets no post: its context would be lost).
void check_call_context(PendingOp& p, NTSTATUS status) {
  const PVOID context = call_context(p);
  if (context == nullptr) return;
  const std::uint32_t cls = p.op.pre_class;
  const bool section_1 = cls != RegNtPreOpenKeyEx && cls != RegNtPreEnumerateKey &&
                         cls != RegNtPreQueryKey && cls != RegNtPreKeyHandleClose;
  if (!section_1) {
    violation(kVerifierViolation, cls, "CallContext set by the pre of class %u, outside SPEC 1",
              cls);
  }
  if (status == STATUS_CALLBACK_BYPASS || !NT_SUCCESS(status)) {
    violation(kVerifierViolation, cls,
              "CallContext set by a pre that returned 0x%lx: no post will carry it back", status);
  }
}

// Takes one active callback for a call (counted inside), or null when none is registered.
Registration* enter_callback() {
  Locked lock;
  for (Registration& r : g_callbacks) {
    if (r.active) {
      ++r.inside;
      return &r;
    }
  }
  return nullptr;
}

void leave_callback(Registration* r) {
  Locked lock;
  --r->inside;
  host::monitor_broadcast();
}

int g_threads_inside = 0;  // threads inside a callback, each counted once however nested

void enter_thread(Thread& self, int step) {
  Locked lock;
  if ((step > 0 && self.callback_depth == 0) || (step < 0 && self.callback_depth == 1)) {
    g_threads_inside += step;
  }
  self.callback_depth += step;
}

// The callback runs at PASSIVE_LEVEL and must return there, holding no spin lock.
NTSTATUS call(Registration* r, std::uint32_t cls, PVOID argument) {
  Thread& self = current_thread();
  enter_thread(self, 1);
  const KIRQL entered = self.irql;
  paint_stack();
  const NTSTATUS status =
      r->function(r->context, reinterpret_cast<PVOID>(static_cast<ULONG_PTR>(cls)), argument);
  check_stack(stack_used(), "the registry callback");
  check_returned_clean(entered, "the registry callback");
  enter_thread(self, -1);
  return status;
}

// The operation itself, on the box's registry; the status the post-notification reports.
NTSTATUS perform(PendingOp& p, Outcome outcome) {
  if (outcome == Outcome::kReparse) return STATUS_REPARSE;
  if (outcome == Outcome::kFailure) return STATUS_OBJECT_NAME_NOT_FOUND;
  const RegOp& op = p.op;
  switch (op.pre_class) {
    case RegNtPreCreateKeyEx:
      p.result_object = key_create(p.full, std::wcslen(p.full));
      p.disposition = REG_CREATED_NEW_KEY;
      break;
    case RegNtPreDeleteKey:
      p.key->deleted = true;
      break;
    case RegNtPreSetValueKey:
      // The caller's buffer is unmapped: the configuration manager's own copy fails.
      if (reinterpret_cast<ULONG_PTR>(op.data) < 0x10000 && op.data_size != 0) {
        return STATUS_ACCESS_VIOLATION;
      }
      value_set(p.key, p.value.Buffer, p.value.Length / 2, op.type, op.data, op.data_size);
      break;
    case RegNtPreDeleteValueKey:
      value_delete(p.key, p.value.Buffer, p.value.Length / 2);
      break;
    default:
      break;
  }
  return STATUS_SUCCESS;
}

}  // namespace
}  // namespace box::kernel

using namespace box::kernel;

namespace box {

PendingOp* cm_pre(const RegOp& op, std::int32_t& status) {
  auto* p = static_cast<PendingOp*>(std::calloc(1, sizeof(PendingOp)));
  p->op = op;
  p->full = copy_name(op.key, std::wcslen(op.key));
  fill_pre(*p);
  status = STATUS_SUCCESS;
  p->callback = enter_callback();
  if (p->callback != nullptr) {
    status = call(p->callback, op.pre_class, &p->pre);
    check_call_context(*p, status);
    if (status == STATUS_CALLBACK_BYPASS || !NT_SUCCESS(status)) {  // no post for this driver
      leave_callback(p->callback);
      user_buffer_free(p->user_data);
      std::free(p->full);
      std::free(p);
      return nullptr;
    }
    leave_callback(p->callback);
  }
  return p;
}

void cm_post(PendingOp* p, Outcome outcome) {
  if (p == nullptr) return;
  const NTSTATUS status = perform(*p, outcome);
  REG_POST_OPERATION_INFORMATION post{};
  post.Object = p->op.pre_class == RegNtPreCreateKeyEx
                    ? (NT_SUCCESS(status) && status != STATUS_REPARSE ? p->result_object : nullptr)
                    : p->key;
  post.Status = status;
  post.PreInformation = &p->pre;
  post.ReturnStatus = status;
  post.CallContext = call_context(*p);
  Registration* r = enter_callback();
  if (r != nullptr) {
    call(r, post_class_of(p->op.pre_class), &post);
    leave_callback(r);
  }
  user_buffer_free(p->user_data);
  std::free(p->full);
  std::free(p);
}

void cm_abandon(PendingOp* p) {
  if (p == nullptr) return;
  user_buffer_free(p->user_data);
  std::free(p->full);
  std::free(p);
}

std::int32_t cm_call(const RegOp& op, Outcome outcome) {
  std::int32_t status = 0;
  PendingOp* p = cm_pre(op, status);
  cm_post(p, outcome);
  return status;
}

std::int32_t cm_raw_call(std::uint32_t cls, void* argument) {
  Registration* r = enter_callback();
  if (r == nullptr) return STATUS_SUCCESS;
  const NTSTATUS status = call(r, cls, argument);
  leave_callback(r);
  return status;
}

int cm_callbacks_registered() {
  Locked lock;
  int n = 0;
  for (const Registration& r : g_callbacks) n += r.active && r.driver != nullptr ? 1 : 0;
  return n;
}

int cm_threads_inside() {
  Locked lock;
  return g_threads_inside;
}

void cm_occupy_altitude(const wchar_t* altitude) {
  Locked lock;
  for (Registration& r : g_callbacks) {
    if (!r.active && r.inside == 0) {
      r = Registration{};
      std::wcsncpy(r.altitude, altitude, 31);
      r.cookie = -1;  // another driver's: never called by the box
      return;
    }
  }
}

void cm_reset() {
  current_thread().callback_depth = 0;
  Locked lock;
  g_threads_inside = 0;
  for (Registration& r : g_callbacks) r = Registration{};
  g_during_registration = nullptr;
  g_fail_unregister = false;
}

void cm_during_registration(void (*call)(void*), void* context) {
  g_during_registration = call;
  g_during_registration_context = context;
}

void cm_fail_unregister(bool fail) {
  g_fail_unregister = fail;
}

}  // namespace box

namespace box::kernel {
bool cm_callback_registered_by(PDRIVER_OBJECT driver) {
  Locked lock;
  for (const Registration& r : g_callbacks) {
    if (r.active && r.driver == driver) return true;
  }
  return false;
}
}  // namespace box::kernel

extern "C" {

NTSTATUS NTAPI CmRegisterCallbackEx(PEX_CALLBACK_FUNCTION function, PCUNICODE_STRING altitude,
                                    PVOID driver, PVOID context, PLARGE_INTEGER cookie, PVOID) {
  require_irql(PASSIVE_LEVEL, "CmRegisterCallbackEx");
  if (function == nullptr || altitude == nullptr || driver == nullptr || cookie == nullptr) {
    return STATUS_INVALID_PARAMETER;
  }
  LONGLONG given = 0;
  {
    Locked lock;
    for (const Registration& r : g_callbacks) {
      if (r.altitude[0] != 0 && same_name(altitude->Buffer, altitude->Length / 2, r.altitude)) {
        return static_cast<NTSTATUS>(0xC01C0011);  // STATUS_FLT_INSTANCE_ALTITUDE_COLLISION
      }
    }
    Registration* slot = nullptr;
    for (Registration& r : g_callbacks) {
      if (slot == nullptr && r.altitude[0] == 0 && r.inside == 0) slot = &r;
    }
    if (slot == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
    *slot = Registration{function, context, g_next_cookie++, {}, driver, 0, true};
    std::wcsncpy(slot->altitude, altitude->Buffer,
                 altitude->Length / 2 < 31 ? altitude->Length / 2 : 31);
    given = slot->cookie;
  }
  // On Windows the callback is live from here on, and another thread's operation may reach it
  // before the cookie below is written: a case can make one do so.
  if (g_during_registration != nullptr) {
    void (*during)(void*) = g_during_registration;
    g_during_registration = nullptr;
    during(g_during_registration_context);
  }
  cookie->QuadPart = given;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI CmUnRegisterCallback(LARGE_INTEGER cookie) {
  require_irql(PASSIVE_LEVEL, "CmUnRegisterCallback");
  Locked lock;
  if (g_fail_unregister) return STATUS_UNSUCCESSFUL;
  for (Registration& r : g_callbacks) {
    if (r.active && r.cookie == cookie.QuadPart) {
      r.active = false;  // no new calls
      while (r.inside != 0) box::host::monitor_wait(box::host::kForever);
      r = Registration{};
      return STATUS_SUCCESS;
    }
  }
  return STATUS_INVALID_PARAMETER;
}

// The key's full name in pool (tag 'CmNm'), released by CmCallbackReleaseKeyObjectIDEx.
NTSTATUS NTAPI CmCallbackGetKeyObjectIDEx(PLARGE_INTEGER cookie, PVOID object, PULONG_PTR id,
                                          PCUNICODE_STRING* name, ULONG) {
  require_irql(APC_LEVEL, "CmCallbackGetKeyObjectIDEx");
  if (cookie == nullptr || !cookie_registered(cookie->QuadPart)) return STATUS_INVALID_PARAMETER;
  Key* k = key_of_object(object);
  if (k == nullptr) return STATUS_INVALID_PARAMETER;
  if (id != nullptr) *id = reinterpret_cast<ULONG_PTR>(k);
  if (name == nullptr) return STATUS_SUCCESS;
  auto* s = static_cast<PUNICODE_STRING>(
      pool_allocate_for(Owner::kKeyName, true, sizeof(UNICODE_STRING) + k->name.Length, kNameTag));
  if (s == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  s->Buffer = reinterpret_cast<PWCH>(s + 1);
  std::memcpy(s->Buffer, k->name.Buffer, k->name.Length);
  s->Length = s->MaximumLength = k->name.Length;
  *name = s;
  return STATUS_SUCCESS;
}

VOID NTAPI CmCallbackReleaseKeyObjectIDEx(PCUNICODE_STRING name) {
  require_irql(APC_LEVEL, "CmCallbackReleaseKeyObjectIDEx");
  pool_release(const_cast<PUNICODE_STRING>(name), Owner::kKeyName, kNameTag, true,
               "CmCallbackReleaseKeyObjectIDEx");
}

}  // extern "C"
