// The registry the configuration manager keeps: key objects with their kernel names (what
// CmCallbackGetKeyObjectIDEx answers), their values, ZwOpenKey and ZwQueryValueKey.
#include <cstdlib>
#include <cstring>
#include <cwchar>

#include "internal.hpp"

namespace box::kernel {
namespace {

constexpr int kKeys = 4096;
Key* g_keys[kKeys];
int g_key_count = 0;

std::size_t length_of(const wchar_t* s) {
  return std::wcslen(s);
}

// The full name an OBJECT_ATTRIBUTES names (a RootDirectory key handle + a relative name).
wchar_t* full_name(POBJECT_ATTRIBUTES attributes, std::size_t& length) {
  const UNICODE_STRING* name = attributes->ObjectName;
  Key* root = attributes->RootDirectory != nullptr
                  ? static_cast<Key*>(handle_object(attributes->RootDirectory, Kind::kKey))
                  : nullptr;
  const std::size_t root_length = root != nullptr ? root->name.Length / 2 : 0;
  length = root_length + (root != nullptr ? 1 : 0) + name->Length / 2;
  auto* out = static_cast<wchar_t*>(std::calloc(length + 1, sizeof(wchar_t)));
  if (root != nullptr) {
    std::memcpy(out, root->name.Buffer, root_length * 2);
    out[root_length] = L'\\';
  }
  std::memcpy(out + length - name->Length / 2, name->Buffer, name->Length);
  return out;
}

// Windows calls the registry callbacks for a driver's own Zw registry calls too (previous mode
// kernel), also when the driver makes them from inside its callback: the driver's old-value read
// (ZwQueryValueKey) and its handle closes come back to it as operations of their own.
struct NestedOperation {
  PendingOp* pending = nullptr;
  wchar_t* value = nullptr;
  KPROCESSOR_MODE mode;
  NTSTATUS status = STATUS_SUCCESS;

  NestedOperation(std::uint32_t pre_class, Key* key, const UNICODE_STRING* value_name) {
    if (value_name != nullptr) value = copy_name(value_name->Buffer, value_name->Length / 2);
    RegOp op;
    op.pre_class = pre_class;
    op.key = key->name.Buffer;  // a C string (copy_name)
    op.value = value;
    Thread& self = current_thread();
    mode = self.previous_mode;
    self.previous_mode = KernelMode;
    std::int32_t refused = STATUS_SUCCESS;
    pending = cm_pre(op, refused);
    status = refused;
  }
  ~NestedOperation() {
    cm_post(pending, NT_SUCCESS(status) ? Outcome::kSuccess : Outcome::kFailure);
    current_thread().previous_mode = mode;
    std::free(value);
  }
};

}  // namespace

void notify_key_handle_close(void* key_object) {
  Key* k = key_of_object(key_object);
  if (k != nullptr) NestedOperation notified(RegNtPreKeyHandleClose, k, nullptr);
}

Key* key_find(const wchar_t* name, std::size_t length) {
  while (length > 0 && name[length - 1] == L'\\') --length;
  Locked lock;
  for (int i = 0; i < g_key_count; ++i) {
    Key* k = g_keys[i];
    if (!k->deleted && k->name.Length / 2 == length &&
        _wcsnicmp(k->name.Buffer, name, length) == 0) {
      return k;
    }
  }
  return nullptr;
}

Key* key_create(const wchar_t* name, std::size_t length) {
  while (length > 0 && name[length - 1] == L'\\') --length;
  if (Key* existing = key_find(name, length)) return existing;
  for (std::size_t i = length; i > 0; --i) {  // parents first, as the registry has them
    if (name[i - 1] == L'\\' && i - 1 > 10) {
      if (key_find(name, i - 1) == nullptr) key_create(name, i - 1);
      break;
    }
  }
  auto* k = static_cast<Key*>(std::calloc(1, sizeof(Key)));
  k->name.Buffer = copy_name(name, length);
  k->name.Length = k->name.MaximumLength = static_cast<USHORT>(length * 2);
  Locked lock;
  if (g_key_count == kKeys) std::abort();
  g_keys[g_key_count++] = k;  // never freed while the box runs: a stale object stays readable
  return k;
}

Key* key_of_object(PVOID object) {
  Locked lock;
  for (int i = 0; i < g_key_count; ++i) {
    if (g_keys[i] == object) return g_keys[i];
  }
  return nullptr;
}

Value* value_find(Key* key, const wchar_t* name, std::size_t length) {
  for (Value* v = key->values; v != nullptr; v = v->next) {
    if (same_name(name, length, v->name)) return v;
  }
  return nullptr;
}

void value_set(Key* key, const wchar_t* name, std::size_t length, ULONG type, const void* data,
               ULONG size) {
  Value* v = value_find(key, name, length);
  if (v == nullptr) {
    v = static_cast<Value*>(std::calloc(1, sizeof(Value)));
    v->name = copy_name(name, length);
    v->next = key->values;
    key->values = v;
  }
  std::free(v->data);
  v->data = static_cast<unsigned char*>(std::malloc(size + 1));
  if (size != 0) std::memcpy(v->data, data, size);
  v->type = type;
  v->size = size;
}

bool value_delete(Key* key, const wchar_t* name, std::size_t length) {
  for (Value** p = &key->values; *p != nullptr; p = &(*p)->next) {
    if (same_name(name, length, (*p)->name)) {
      Value* gone = *p;
      *p = gone->next;
      std::free(gone->name);
      std::free(gone->data);
      std::free(gone);
      return true;
    }
  }
  return false;
}

}  // namespace box::kernel

using namespace box::kernel;

extern "C" {

NTSTATUS NTAPI ZwOpenKey(PHANDLE handle, ACCESS_MASK, POBJECT_ATTRIBUTES attributes) {
  require_irql(PASSIVE_LEVEL, "ZwOpenKey");
  require_kernel_handle(attributes->Attributes, "ZwOpenKey");
  std::size_t length = 0;
  wchar_t* name = full_name(attributes, length);
  Key* k = key_find(name, length);
  std::free(name);
  if (k == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  *handle = handle_open(k, Kind::kKey);
  return *handle != nullptr ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

// KeyValuePartialInformation and KeyValueFullInformation, as the configuration manager fills them
// (a too-small buffer: STATUS_BUFFER_OVERFLOW with the fixed part, and for partial information
// as much of the data as fits; smaller than the fixed part: STATUS_BUFFER_TOO_SMALL).
static NTSTATUS query(Key* k, PUNICODE_STRING name, KEY_VALUE_INFORMATION_CLASS cls,
                      PVOID information, ULONG length, PULONG result) {
  Value* v = value_find(k, name->Buffer, name->Length / 2);
  if (v == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (cls == KeyValuePartialInformation) {
    const ULONG fixed = FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION, Data);
    *result = fixed + v->size;
    if (length < fixed) return STATUS_BUFFER_TOO_SMALL;
    auto* out = static_cast<PKEY_VALUE_PARTIAL_INFORMATION>(information);
    out->TitleIndex = 0;
    out->Type = v->type;
    out->DataLength = v->size;
    if (length < *result) {  // "only partial data has been written": the start of the data
      std::memcpy(out->Data, v->data, length - fixed);
      return STATUS_BUFFER_OVERFLOW;
    }
    std::memcpy(out->Data, v->data, v->size);
    return STATUS_SUCCESS;
  }
  if (cls == KeyValueFullInformation) {
    const ULONG fixed = FIELD_OFFSET(KEY_VALUE_FULL_INFORMATION, Name);
    const ULONG name_bytes = static_cast<ULONG>(length_of(v->name) * 2);
    *result = fixed + name_bytes + v->size;
    if (length < fixed) return STATUS_BUFFER_TOO_SMALL;
    auto* out = static_cast<PKEY_VALUE_FULL_INFORMATION>(information);
    out->TitleIndex = 0;
    out->Type = v->type;
    out->DataOffset = fixed + name_bytes;
    out->DataLength = v->size;
    out->NameLength = name_bytes;
    if (length < *result) return STATUS_BUFFER_OVERFLOW;
    std::memcpy(out->Name, v->name, name_bytes);
    std::memcpy(reinterpret_cast<UCHAR*>(out) + fixed + name_bytes, v->data, v->size);
    return STATUS_SUCCESS;
  }
  return STATUS_INVALID_PARAMETER;
}

NTSTATUS NTAPI ZwQueryValueKey(HANDLE handle, PUNICODE_STRING name, KEY_VALUE_INFORMATION_CLASS cls,
                               PVOID information, ULONG length, PULONG result) {
  require_irql(PASSIVE_LEVEL, "ZwQueryValueKey");
  Key* k = static_cast<Key*>(handle_object(handle, Kind::kKey));
  if (k == nullptr) return STATUS_INVALID_HANDLE;
  NestedOperation notified(RegNtPreQueryValueKey, k, name);
  if (NT_SUCCESS(notified.status)) {  // else a callback refused it
    notified.status = query(k, name, cls, information, length, result);
  }
  return notified.status;
}

}  // extern "C"

namespace box {

void reg_create_key(const wchar_t* name) {
  key_create(name, std::wcslen(name));
}

void reg_set_dword(const wchar_t* key, const wchar_t* value, std::uint32_t data) {
  value_set(key_create(key, std::wcslen(key)), value, std::wcslen(value), REG_DWORD, &data, 4);
}

void reg_set_sz(const wchar_t* key, const wchar_t* value, const wchar_t* data) {
  value_set(key_create(key, std::wcslen(key)), value, std::wcslen(value), REG_SZ, data,
            static_cast<ULONG>((std::wcslen(data) + 1) * 2));
}

void* reg_key_object(const wchar_t* name) {
  return key_create(name, std::wcslen(name));
}

bool reg_key_exists(const wchar_t* name) {
  return key_find(name, std::wcslen(name)) != nullptr;
}

void reg_delete_key(const wchar_t* name) {
  Key* k = key_find(name, std::wcslen(name));
  if (k != nullptr) k->deleted = true;
}

void reg_reset() {
  {
    Locked lock;
    for (int i = 0; i < g_key_count; ++i) g_keys[i]->deleted = true;  // objects stay valid
  }
  reg_create_key(L"\\REGISTRY\\MACHINE\\SOFTWARE");
  reg_create_key(L"\\REGISTRY\\USER");
  reg_set_dword(L"\\REGISTRY\\MACHINE\\SYSTEM\\Select", L"Current", 1);
  reg_set_dword(L"\\REGISTRY\\MACHINE\\SYSTEM\\Select", L"Default", 1);
  reg_create_key(L"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\hivewarden");
}

}  // namespace box
