// The values a record carries (SPEC §7, §11): set-value's new data from the operation's own
// structure, and the value before the operation when the decision's capture bit asks for it.
// The new data may sit in the calling process's memory (a user-mode RegSetValueEx), which the
// driver reads only through MmCopyMemory after checking the range is user memory: a bad pointer
// then fails the copy instead of faulting in the kernel (mingw has no __try).
#include "driver_internal.hpp"

extern "C" NTKERNELAPI NTSTATUS NTAPI ObOpenObjectByPointer(
    PVOID object, ULONG attributes, PACCESS_STATE access_state, ACCESS_MASK desired_access,
    POBJECT_TYPE type, KPROCESSOR_MODE access_mode, PHANDLE handle);

namespace hivewarden::driver {
namespace {

struct CopyAddress {  // MM_COPY_ADDRESS (ntddk.h of Windows 8.1 and later)
  PVOID virtual_address;
};
constexpr ULONG kCopyMemoryVirtual = 0x2;  // MM_COPY_MEMORY_VIRTUAL
using CopyMemory = NTSTATUS(NTAPI*)(PVOID target, CopyAddress source, SIZE_T size, ULONG flags,
                                    PSIZE_T copied);
CopyMemory g_copy_memory = nullptr;  // Windows 8.1 and later; found at load

// Copies `size` bytes of the caller's buffer; false when they cannot be read.
bool copy_callers_bytes(const void* source, ULONG size, unsigned char* target) {
  if (size == 0) return true;
  if (source == nullptr) return false;
  if (ExGetPreviousMode() == KernelMode) {  // a driver's own buffer
    RtlCopyMemory(target, source, size);
    return true;
  }
  const auto start = reinterpret_cast<ULONG_PTR>(source);
  if (start + size < start || start + size > static_cast<ULONG_PTR>(MmUserProbeAddress)) {
    return false;  // not user memory: a user caller cannot make the driver read the kernel's
  }
  SIZE_T copied = 0;
  return g_copy_memory != nullptr &&
         NT_SUCCESS(g_copy_memory(target, CopyAddress{const_cast<void*>(source)}, size,
                                  kCopyMemoryVirtual, &copied)) &&
         copied == size;
}

// `text` as a counted string (it is not copied); false when it is too long for one.
bool counted(std::u16string_view text, UNICODE_STRING& out) {
  if (text.size() > 0x7FFF) return false;
  out.Length = out.MaximumLength = static_cast<USHORT>(text.size() * sizeof(WCHAR));
  out.Buffer = const_cast<PWCH>(reinterpret_cast<const WCHAR*>(text.data()));
  return true;
}

}  // namespace

void find_copy_routine() {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"MmCopyMemory");
  g_copy_memory = reinterpret_cast<CopyMemory>(MmGetSystemRoutineAddress(&name));
}

NewData::~NewData() {
  pool_free(bytes_);
}

bool NewData::capture(std::uint32_t cls, const void* argument2) {
  if (cls != notify_class::kPreSetValueKey || !consumer_connected()) return true;
  const auto& info = *static_cast<const win::RegSetValueKeyInformation*>(argument2);
  full_size_ = info.DataSize;
  size_ = info.DataSize < kMaxCapturedData ? info.DataSize : kMaxCapturedData;
  if (size_ != 0) {
    bytes_ = static_cast<unsigned char*>(pool_allocate(size_));
    if (bytes_ == nullptr) return false;
  }
  captured_ = copy_callers_bytes(info.Data, size_, bytes_);
  return captured_;
}

void NewData::apply(OperationRequest& request) const {
  if (request.op != Operation::kSetValue) return;
  // Not captured (no consumer): the request keeps no pointer into the caller's memory.
  request.has_data = captured_ && size_ == full_size_;
  request.data = captured_ ? std::string_view(reinterpret_cast<const char*>(bytes_), size_)
                           : std::string_view();
}

HANDLE open_key(HANDLE root, std::u16string_view name, ACCESS_MASK access) {
  UNICODE_STRING key_name;
  if (!counted(name, key_name)) return nullptr;
  OBJECT_ATTRIBUTES attributes;
  InitializeObjectAttributes(&attributes, &key_name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, root,
                             nullptr);
  HANDLE key = nullptr;
  return NT_SUCCESS(ZwOpenKey(&key, access, &attributes)) ? key : nullptr;
}

NTSTATUS query_value(HANDLE key, std::u16string_view name, void* buffer, ULONG size) {
  UNICODE_STRING value_name;
  if (!counted(name, value_name)) return STATUS_INVALID_PARAMETER;
  ULONG returned = 0;
  return ZwQueryValueKey(key, &value_name, KeyValuePartialInformation, buffer, size, &returned);
}

ValueBefore read_old_value(void* key_object, std::u16string_view value_name, CallScratch& scratch,
                           std::uint32_t& full_size) {
  full_size = 0;
  ValueBefore before;
  HANDLE key = nullptr;
  if (key_object == nullptr ||
      !NT_SUCCESS(ObOpenObjectByPointer(key_object, OBJ_KERNEL_HANDLE, nullptr, KEY_QUERY_VALUE,
                                        nullptr, KernelMode, &key))) {
    return before;
  }
  const NTSTATUS status = query_value(key, value_name, scratch.old_value, sizeof scratch.old_value);
  ZwClose(key);
  if (status != STATUS_SUCCESS && status != STATUS_BUFFER_OVERFLOW) return before;
  const auto* info = reinterpret_cast<const KEY_VALUE_PARTIAL_INFORMATION*>(scratch.old_value);
  const ULONG room = sizeof scratch.old_value - offsetof(KEY_VALUE_PARTIAL_INFORMATION, Data);
  full_size = info->DataLength;
  before.known = true;
  before.type = info->Type;
  before.data = std::string_view(reinterpret_cast<const char*>(info->Data),
                                 info->DataLength < room ? info->DataLength : room);
  return before;
}

}  // namespace hivewarden::driver
