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
struct HeldLock {
  PKSPIN_LOCK lock;
  KIRQL old;  // what its acquire returned, which its release must restore
};
struct Thread {
  Process* process = nullptr;
  std::uint64_t tid = 0;
  KPROCESSOR_MODE previous_mode = KernelMode;
  KIRQL irql = PASSIVE_LEVEL;
  HeldLock held[8] = {};  // spin locks held, in acquire order
  int locks_held = 0;
  bool bugcheck_ends_thread = false;  // a case expects this thread's bugcheck (bugcheck_of)
  int callback_depth = 0;  // registry callbacks this thread is inside (nested: its own Zw calls)
};
Thread& current_thread();
void processes_reset();

// --- verifier.cpp: what Windows and Driver Verifier check, as bugchecks
// --------------------------- Stops the machine (or, under bugcheck_of, the thread) naming what the
// driver did wrong.
[[noreturn]] void violation(ULONG code, ULONG_PTR p1, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
// A routine callable only at or below `highest` (PASSIVE_LEVEL, APC_LEVEL or DISPATCH_LEVEL).
void require_irql(KIRQL highest, const char* routine);
// After a driver routine the box called returns: the IRQL it was called at, no spin lock held.
void check_returned_clean(KIRQL entered, const char* routine);
void lock_order_reset();  // a fresh machine: no lock order seen
// The stack a driver routine used: paint_stack() before calling it, stack_used() after, both from
// the same function (the routine's frames fall where the paint was). A kernel stack is 24 KB on
// x64, and the registry callback runs deep inside the configuration manager (and again inside
// its own ZwQueryValueKey): past kStackBudget bugchecks, as the overflow would.
inline constexpr std::size_t kStackBudget = 12 * 1024;
void paint_stack();
std::size_t stack_used();
void check_stack(std::size_t used, const char* routine);
inline constexpr ULONG kVerifierViolation = 0xC4;   // DRIVER_VERIFIER_DETECTED_VIOLATION
inline constexpr ULONG kIrqlNotLessOrEqual = 0xD1;  // DRIVER_IRQL_NOT_LESS_OR_EQUAL
inline constexpr ULONG kBadPoolCaller = 0xC2;
inline constexpr ULONG kIoManagerViolation = 0xC9;  // DRIVER_VERIFIER_IOMANAGER_VIOLATION

// --- pool.cpp -----------------------------------------------------------------------------------
// Who gave a pool block to the driver, i.e. how it must be given back.
enum class Owner : std::uint8_t { kDriver, kKeyName, kImageName };
void* pool_allocate_for(Owner owner, bool paged, SIZE_T size, ULONG tag);
// Frees `p` as `how` says it is being freed (bugchecks a free of the wrong kind).
void pool_release(PVOID p, Owner how, ULONG tag, bool check_tag, const char* routine);
bool pool_is_paged(const void* p);  // inside a live paged pool block
// DISPATCH_LEVEL reached: paged pool is "paged out" (touching it then bugchecks, as with Driver
// Verifier's IRQL checking, which trims pageable memory whenever a driver raises the IRQL).
void pool_trim_paged();
void pool_reset();  // a fresh machine: forgets every block (checks freed ones first)
// A user-mode caller's buffer (set-value data): pages the kernel may read only through
// MmCopyMemory; touched directly, they fault and bugcheck (a bad user pointer would crash the
// machine, and the caller can change the bytes between two reads).
void* user_buffer_make(const void* data, SIZE_T size);
void user_buffer_free(void* buffer);
// MmCopyMemory's read: true when `source` .. + size lies in a user buffer (copied into target).
bool user_buffer_copy(void* target, const void* source, SIZE_T size);
// The case's own address of a user buffer's data (the buffer itself when it is not one).
const void* user_buffer_origin(const void* source);
void pool_check_unload();  // after DriverUnload (or a failed DriverEntry): no block left
void pool_check_freed();   // freed blocks still hold their poison (no write after free)

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
// A driver's handles must be kernel handles (else they land in whatever process is current).
void require_kernel_handle(ULONG attributes, const char* routine);
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
// ZwClose of a key handle: the callbacks' RegNtPreKeyHandleClose and its post.
void notify_key_handle_close(void* key_object);

// --- io_manager.cpp -----------------------------------------------------------------------------
void io_reset();
PDEVICE_OBJECT device_by_name(const wchar_t* name);
PDRIVER_OBJECT current_driver();
// References the driver holds on its own driver object: while any is held, its image stays.
extern int g_driver_references;

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
