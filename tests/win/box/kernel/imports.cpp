// The driver's import table, played by the box: every ntoskrnl routine hivewarden.sys may import
// gets its __imp_ pointer here (the driver's objects call through them, as through the real import
// address table). A routine the driver imports that is not listed fails the box's link: that is
// the check that the list in docs/WINDOWS.md is complete. Also the routines the driver looks up
// by name (MmGetSystemRoutineAddress), each of which a test can make absent.
#include <cstring>
#include <cwchar>

#include "internal.hpp"

extern "C" {

// The highest user-mode address + 1 (x64's), and the copy that checks a user address.
ULONG64 MmUserProbeAddress = 0x7FFFFFFF0000ULL;

NTSTATUS NTAPI MmCopyMemory(PVOID target, ULONG_PTR source, SIZE_T size, ULONG, PSIZE_T copied) {
  box::kernel::require_irql(APC_LEVEL, "MmCopyMemory");
  *copied = 0;
  if (source < 0x10000 || source + size < source) return STATUS_ACCESS_VIOLATION;  // unmapped
  box::kernel::wait_while_stalled(reinterpret_cast<ULONG_PTR>(
      box::kernel::user_buffer_origin(reinterpret_cast<const void*>(source))));
  if (!box::kernel::user_buffer_copy(target, reinterpret_cast<const void*>(source), size)) {
    std::memcpy(target, reinterpret_cast<const void*>(source), size);
  }
  *copied = size;
  return STATUS_SUCCESS;
}

}  // extern "C"

namespace box::kernel {
namespace {
ULONG_PTR g_stalled_page = 0;  // a user page whose page-in waits (a file its process controls)
int g_stalled_copies = 0;
}  // namespace

void wait_while_stalled(ULONG_PTR source) {
  host::monitor_enter();
  if (g_stalled_page != 0 && source == g_stalled_page) {
    ++g_stalled_copies;
    host::monitor_broadcast();
    while (g_stalled_page != 0) host::monitor_wait(host::kForever);
    --g_stalled_copies;
  }
  host::monitor_leave();
}

}  // namespace box::kernel

namespace box {

void mm_stall_copies_from(const void* address) {
  host::monitor_enter();
  kernel::g_stalled_page = reinterpret_cast<ULONG_PTR>(address);
  host::monitor_broadcast();
  host::monitor_leave();
}

int mm_stalled_copies() {
  host::monitor_enter();
  const int n = kernel::g_stalled_copies;
  host::monitor_leave();
  return n;
}

}  // namespace box

namespace box::kernel {
namespace {

struct Routine {
  const wchar_t* name;
  PVOID address;
  bool present;
};
Routine g_routines[] = {
    {L"CmCallbackGetKeyObjectIDEx", reinterpret_cast<PVOID>(&CmCallbackGetKeyObjectIDEx), true},
    {L"CmCallbackReleaseKeyObjectIDEx", reinterpret_cast<PVOID>(&CmCallbackReleaseKeyObjectIDEx),
     true},
    {L"SeLocateProcessImageName", reinterpret_cast<PVOID>(&SeLocateProcessImageName), true},
    {L"ExAllocatePool2", reinterpret_cast<PVOID>(&ExAllocatePool2), true},
    {L"MmCopyMemory", reinterpret_cast<PVOID>(&MmCopyMemory), true},
};

}  // namespace
}  // namespace box::kernel

using namespace box::kernel;

extern "C" PVOID NTAPI MmGetSystemRoutineAddress(PUNICODE_STRING name) {
  require_irql(PASSIVE_LEVEL, "MmGetSystemRoutineAddress");
  for (const Routine& r : g_routines) {
    if (r.present && same_name(name->Buffer, name->Length / 2, r.name)) return r.address;
  }
  return nullptr;
}

namespace box {
void set_routine_present(const wchar_t* name, bool present) {
  for (Routine& r : g_routines) {
    if (std::wcscmp(r.name, name) == 0) r.present = present;
  }
}
void routines_reset() {
  for (Routine& r : g_routines) r.present = true;
}
}  // namespace box

// __imp_<name>: what a dllimport call or data reference in the driver's objects goes through.
#define BOX_IMPORT(name)                                           \
  extern "C" {                                                     \
  const void* __imp_##name = reinterpret_cast<const void*>(&name); \
  }
BOX_IMPORT(CmRegisterCallbackEx);
BOX_IMPORT(CmUnRegisterCallback);
BOX_IMPORT(ExAllocatePoolWithTag);
BOX_IMPORT(ExFreePool);
BOX_IMPORT(ExFreePoolWithTag);
BOX_IMPORT(ExGetPreviousMode);
BOX_IMPORT(IoAcquireCancelSpinLock);
BOX_IMPORT(IoCreateDevice);
BOX_IMPORT(IoCreateSymbolicLink);
BOX_IMPORT(IoDeleteDevice);
BOX_IMPORT(IoDeleteSymbolicLink);
BOX_IMPORT(IoGetCurrentProcess);
BOX_IMPORT(IoReleaseCancelSpinLock);
BOX_IMPORT(IofCompleteRequest);
BOX_IMPORT(KeAcquireSpinLockRaiseToDpc);
BOX_IMPORT(KeBugCheckEx);
BOX_IMPORT(KeDelayExecutionThread);
BOX_IMPORT(KeInitializeEvent);
BOX_IMPORT(KeInitializeSemaphore);
BOX_IMPORT(KeReleaseSemaphore);
BOX_IMPORT(KeReleaseSpinLock);
BOX_IMPORT(KeSetEvent);
BOX_IMPORT(KeWaitForSingleObject);
BOX_IMPORT(MmGetSystemRoutineAddress);
BOX_IMPORT(MmUserProbeAddress);
BOX_IMPORT(ObfDereferenceObject);
BOX_IMPORT(ObfReferenceObject);
BOX_IMPORT(ObOpenObjectByPointer);
BOX_IMPORT(ObSetSecurityObjectByPointer);
BOX_IMPORT(PsGetCurrentProcessId);
BOX_IMPORT(PsGetCurrentThreadId);
BOX_IMPORT(PsGetProcessCreateTimeQuadPart);
BOX_IMPORT(PsLookupProcessByProcessId);
BOX_IMPORT(PsRemoveCreateThreadNotifyRoutine);
BOX_IMPORT(PsSetCreateProcessNotifyRoutineEx);
BOX_IMPORT(PsSetCreateThreadNotifyRoutine);
BOX_IMPORT(RtlAddAccessAllowedAce);
BOX_IMPORT(RtlCreateAcl);
BOX_IMPORT(RtlCreateSecurityDescriptor);
BOX_IMPORT(RtlInitUnicodeString);
BOX_IMPORT(RtlLengthSid);
BOX_IMPORT(RtlSetDaclSecurityDescriptor);
BOX_IMPORT(SeExports);
BOX_IMPORT(ZwClose);
BOX_IMPORT(ZwOpenKey);
BOX_IMPORT(ZwOpenSymbolicLinkObject);
BOX_IMPORT(ZwQuerySymbolicLinkObject);
BOX_IMPORT(ZwQueryValueKey);
#undef BOX_IMPORT
