// What the stand-in kernel's files share (DDK types: include only from files that include the
// DDK, never with <windows.h>).
#pragma once

#include <ntifs.h>  // ntddk.h and the security and image-name routines

#include <cstdint>

#include "box.hpp"
#include "host.hpp"

namespace box::kernel {

// Holds the host monitor for a scope (every table of the stand-in is guarded by it).
struct Locked {
  Locked() { host::monitor_enter(); }
  ~Locked() { host::monitor_leave(); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;
};

// Case-insensitive equality of a counted name and a C string, as the object manager compares.
bool same_name(const wchar_t* a, std::size_t a_length, const wchar_t* b);
// A counted copy of a UNICODE_STRING or C string, on the host heap (std::free).
wchar_t* copy_name(const wchar_t* s, std::size_t length);

// --- processes.cpp ------------------------------------------------------------------------------
struct Process {
  std::uint32_t pid = 0;
  wchar_t image[300] = {};  // \Device\HarddiskVolume3\... (or "System")
  LONGLONG create_time = 0;
  Caller caller = Caller::kSystem;
  bool live = false;
};
struct Thread {
  Process* process = nullptr;
  std::uint64_t tid = 0;
  KPROCESSOR_MODE previous_mode = KernelMode;
  KIRQL irql = PASSIVE_LEVEL;
};
Thread& current_thread();
void processes_reset();

// --- security.cpp -------------------------------------------------------------------------------
// The access the caller gets to an object with this security descriptor (null: the default a
// device gets when its driver sets none: SYSTEM and Administrators all, Everyone read+execute).
bool access_check(PSECURITY_DESCRIPTOR descriptor, Caller caller, ACCESS_MASK desired,
                  ACCESS_MASK& granted);
// A copy of a descriptor's DACL kept with an object (host heap); freed with std::free.
PSECURITY_DESCRIPTOR copy_descriptor(PSECURITY_DESCRIPTOR descriptor);
void security_reset();

// --- objects.cpp: handles and symbolic links ----------------------------------------------------
enum class Kind : std::uint8_t { kKey, kSymbolicLink };
HANDLE handle_open(void* object, Kind kind);
void* handle_object(HANDLE handle, Kind kind);
// A name with its symbolic links followed (\??\X, \DosDevices\X); the result is host heap.
wchar_t* resolve_links(const wchar_t* name, std::size_t length);
void objects_reset();

// --- registry.cpp -------------------------------------------------------------------------------
struct Value {
  Value* next;
  wchar_t* name;
  ULONG type;
  ULONG size;
  unsigned char* data;
};
struct Key {
  UNICODE_STRING name;  // full kernel name, as CmCallbackGetKeyObjectIDEx gives it
  bool deleted;
  Value* values;
};
Key* key_find(const wchar_t* name, std::size_t length);
Key* key_create(const wchar_t* name, std::size_t length);
Key* key_of_object(PVOID object);  // null when `object` is not a key
Value* value_find(Key* key, const wchar_t* name, std::size_t length);
void value_set(Key* key, const wchar_t* name, std::size_t length, ULONG type, const void* data,
               ULONG size);
bool value_delete(Key* key, const wchar_t* name, std::size_t length);

// --- io_manager.cpp -----------------------------------------------------------------------------
void io_reset();
PDEVICE_OBJECT device_by_name(const wchar_t* name);
PDRIVER_OBJECT current_driver();

// --- imports.cpp: MmCopyMemory from a stalled page waits here (box::mm_stall_copies_from) ------
void wait_while_stalled(ULONG_PTR source);

// --- config_manager.cpp -------------------------------------------------------------------------
bool cm_callback_registered_by(PDRIVER_OBJECT driver);

}  // namespace box::kernel

// Routines the mingw-w64 DDK headers do not declare (the box defines them all).
extern "C" {
NTSTATUS NTAPI ObSetSecurityObjectByPointer(PVOID object, SECURITY_INFORMATION information,
                                            PSECURITY_DESCRIPTOR descriptor);
PVOID NTAPI ExAllocatePool2(ULONG64 flags, SIZE_T size, ULONG tag);
NTSTATUS NTAPI MmCopyMemory(PVOID target, ULONG_PTR source, SIZE_T size, ULONG flags,
                            PSIZE_T copied);
NTSTATUS NTAPI CmCallbackGetKeyObjectIDEx(PLARGE_INTEGER cookie, PVOID object, PULONG_PTR id,
                                          PCUNICODE_STRING* name, ULONG flags);
VOID NTAPI CmCallbackReleaseKeyObjectIDEx(PCUNICODE_STRING name);
}
