// The object manager's part the driver touches: kernel handles (ZwClose), symbolic links
// (\??\C: -> \Device\HarddiskVolume3, the driver's own \DosDevices link), and a handle opened
// from an object pointer.
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <initializer_list>

#include "internal.hpp"

namespace box::kernel {
namespace {

struct Entry {
  void* object;
  Kind kind;
  bool used;
};
Entry g_handles[512];

struct Link {
  wchar_t* name;
  wchar_t* target;
};
Link g_links[32];

// \DosDevices\X and \GLOBAL??\X are \??\X.
const wchar_t* dos_part(const wchar_t* name, std::size_t length, std::size_t& rest) {
  for (const wchar_t* prefix : {L"\\??\\", L"\\DosDevices\\", L"\\GLOBAL??\\"}) {
    const std::size_t n = std::wcslen(prefix);
    if (length >= n && same_name(name, n, prefix)) {
      rest = length - n;
      return name + n;
    }
  }
  return nullptr;
}

Link* find_link(const wchar_t* name, std::size_t length) {
  std::size_t rest = 0;
  const wchar_t* dos = dos_part(name, length, rest);
  for (Link& l : g_links) {
    if (l.name == nullptr) continue;
    std::size_t lrest = 0;
    const wchar_t* ldos = dos_part(l.name, std::wcslen(l.name), lrest);
    if (dos != nullptr && ldos != nullptr && lrest == rest && same_name(dos, rest, ldos)) return &l;
    if (same_name(name, length, l.name)) return &l;
  }
  return nullptr;
}

}  // namespace

bool same_name(const wchar_t* a, std::size_t a_length, const wchar_t* b) {
  return std::wcslen(b) == a_length && _wcsnicmp(a, b, a_length) == 0;
}

wchar_t* copy_name(const wchar_t* s, std::size_t length) {
  auto* copy = static_cast<wchar_t*>(std::calloc(length + 1, sizeof(wchar_t)));
  std::memcpy(copy, s, length * sizeof(wchar_t));
  return copy;
}

void require_kernel_handle(ULONG attributes, const char* routine) {
  if ((attributes & OBJ_KERNEL_HANDLE) == 0) {
    violation(kVerifierViolation, attributes,
              "%s without OBJ_KERNEL_HANDLE: the handle lands in the calling process's table",
              routine);
  }
}

HANDLE handle_open(void* object, Kind kind) {
  Locked lock;
  for (std::size_t i = 0; i < sizeof g_handles / sizeof g_handles[0]; ++i) {
    if (!g_handles[i].used) {
      g_handles[i] = Entry{object, kind, true};
      return reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(0xFFFFFFFF80000000ULL + (i + 1) * 4));
    }
  }
  return nullptr;
}

void* handle_object(HANDLE handle, Kind kind) {
  const ULONG_PTR i = (reinterpret_cast<ULONG_PTR>(handle) - 0xFFFFFFFF80000000ULL) / 4 - 1;
  Locked lock;
  if (i >= sizeof g_handles / sizeof g_handles[0] || !g_handles[i].used) return nullptr;
  return g_handles[i].kind == kind ? g_handles[i].object : nullptr;
}

wchar_t* resolve_links(const wchar_t* name, std::size_t length) {
  Locked lock;
  for (std::size_t cut = length; cut > 0; --cut) {  // the longest prefix that is a link
    if (cut != length && name[cut] != L'\\') continue;
    Link* link = find_link(name, cut);
    if (link == nullptr) continue;
    const std::size_t target = std::wcslen(link->target);
    auto* out = static_cast<wchar_t*>(std::calloc(target + length - cut + 1, sizeof(wchar_t)));
    std::memcpy(out, link->target, target * sizeof(wchar_t));
    std::memcpy(out + target, name + cut, (length - cut) * sizeof(wchar_t));
    return out;
  }
  return copy_name(name, length);
}

void objects_reset() {
  g_driver_references = 0;
  Locked lock;
  for (Link& l : g_links) {
    std::free(l.name);
    std::free(l.target);
    l = Link{};
  }
  for (Entry& e : g_handles) e = Entry{};
  g_links[0] = Link{copy_name(L"\\??\\C:", 6), copy_name(L"\\Device\\HarddiskVolume3", 23)};
  g_links[1] = Link{copy_name(L"\\??\\D:", 6), copy_name(L"\\Device\\CdRom0", 14)};
  g_links[2] = Link{copy_name(L"\\??\\E:", 6), copy_name(L"\\Device\\HarddiskVolume5", 23)};
}

}  // namespace box::kernel

using namespace box::kernel;

namespace box::kernel {
int g_driver_references = 0;  // references the driver took on its own driver object
}  // namespace box::kernel

extern "C" {

// A kernel handle closed twice (or never opened) bugchecks, as Windows does for kernel handles.
NTSTATUS NTAPI ZwClose(HANDLE handle) {
  require_irql(PASSIVE_LEVEL, "ZwClose");
  const ULONG_PTR i = (reinterpret_cast<ULONG_PTR>(handle) - 0xFFFFFFFF80000000ULL) / 4 - 1;
  bool valid;
  Entry closed{};
  {
    Locked lock;
    valid = i < sizeof g_handles / sizeof g_handles[0] && g_handles[i].used;
    if (valid) closed = g_handles[i];
  }
  if (valid && closed.kind == Kind::kKey) notify_key_handle_close(closed.object);
  if (valid) {
    Locked lock;
    g_handles[i] = Entry{};
  }
  if (!valid) {
    violation(0x93 /* INVALID_KERNEL_HANDLE */, reinterpret_cast<ULONG_PTR>(handle),
              "ZwClose of %p, not an open kernel handle (closed twice?)", handle);
  }
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI IoCreateSymbolicLink(PUNICODE_STRING name, PUNICODE_STRING target) {
  require_irql(PASSIVE_LEVEL, "IoCreateSymbolicLink");
  Locked lock;
  if (find_link(name->Buffer, name->Length / 2) != nullptr) return STATUS_OBJECT_NAME_COLLISION;
  for (Link& l : g_links) {
    if (l.name == nullptr) {
      l = Link{copy_name(name->Buffer, name->Length / 2),
               copy_name(target->Buffer, target->Length / 2)};
      return STATUS_SUCCESS;
    }
  }
  return STATUS_INSUFFICIENT_RESOURCES;
}

NTSTATUS NTAPI IoDeleteSymbolicLink(PUNICODE_STRING name) {
  require_irql(PASSIVE_LEVEL, "IoDeleteSymbolicLink");
  Locked lock;
  Link* l = find_link(name->Buffer, name->Length / 2);
  if (l == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  std::free(l->name);
  std::free(l->target);
  *l = Link{};
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI ZwOpenSymbolicLinkObject(PHANDLE handle, ACCESS_MASK,
                                        POBJECT_ATTRIBUTES attributes) {
  require_irql(PASSIVE_LEVEL, "ZwOpenSymbolicLinkObject");
  require_kernel_handle(attributes->Attributes, "ZwOpenSymbolicLinkObject");
  const UNICODE_STRING* name = attributes->ObjectName;
  Link* l;
  {
    Locked lock;
    l = find_link(name->Buffer, name->Length / 2);
  }
  if (l == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  *handle = handle_open(l, Kind::kSymbolicLink);
  return *handle != nullptr ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

NTSTATUS NTAPI ZwQuerySymbolicLinkObject(HANDLE handle, PUNICODE_STRING target, PULONG returned) {
  require_irql(PASSIVE_LEVEL, "ZwQuerySymbolicLinkObject");
  auto* l = static_cast<Link*>(handle_object(handle, Kind::kSymbolicLink));
  if (l == nullptr) return STATUS_INVALID_HANDLE;
  const ULONG bytes = static_cast<ULONG>(std::wcslen(l->target) * sizeof(wchar_t));
  if (returned != nullptr) *returned = bytes;
  if (target->MaximumLength < bytes) return STATUS_BUFFER_TOO_SMALL;
  std::memcpy(target->Buffer, l->target, bytes);
  target->Length = static_cast<USHORT>(bytes);
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI ObOpenObjectByPointer(PVOID object, ULONG attributes, PACCESS_STATE, ACCESS_MASK,
                                     POBJECT_TYPE, KPROCESSOR_MODE, PHANDLE handle) {
  require_irql(PASSIVE_LEVEL, "ObOpenObjectByPointer");
  require_kernel_handle(attributes, "ObOpenObjectByPointer");
  if (key_of_object(object) == nullptr) return STATUS_OBJECT_TYPE_MISMATCH;
  *handle = handle_open(object, Kind::kKey);
  return *handle != nullptr ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

LONG_PTR FASTCALL ObfDereferenceObject(PVOID object) {
  require_irql(DISPATCH_LEVEL, "ObfDereferenceObject");
  if (object != nullptr && object == current_driver() && g_driver_references > 0) {
    --g_driver_references;
  }
  return 1;
}

// A reference a driver takes on its own driver object keeps its image loaded after DriverUnload
// (what a driver that cannot unregister a callback must do); other objects are not counted.
LONG_PTR FASTCALL ObfReferenceObject(PVOID object) {
  require_irql(DISPATCH_LEVEL, "ObfReferenceObject");
  if (object != nullptr && object == current_driver()) ++g_driver_references;
  return 2;
}

VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING s, PCWSTR source) {
  require_irql(DISPATCH_LEVEL, "RtlInitUnicodeString");
  const std::size_t n = source != nullptr ? std::wcslen(source) : 0;
  s->Buffer = const_cast<PWSTR>(source);
  s->Length = static_cast<USHORT>(n * sizeof(wchar_t));
  s->MaximumLength = static_cast<USHORT>(source != nullptr ? s->Length + sizeof(wchar_t) : 0);
}

}  // extern "C"

namespace box {
int open_kernel_handles() {
  kernel::Locked lock;
  int n = 0;
  for (const auto& e : kernel::g_handles) n += e.used ? 1 : 0;
  return n;
}
}  // namespace box
