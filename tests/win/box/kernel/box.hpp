// What the box's tests drive: the stand-in kernel seen from outside (no Windows header, plain
// types). The stand-in plays ntoskrnl for the driver's own objects; these calls play the rest of
// the machine: processes and callers, the registry's users, the service's handle on the device.
#pragma once

#include <cstdint>

namespace box {

// --- pool (pool.cpp) ----------------------------------------------------------------------------
struct PoolStats {
  std::uint64_t allocations = 0;  // successful, since the last pool_reset
  std::uint64_t attempts = 0;     // including injected failures
  std::uint64_t live_blocks = 0, live_bytes = 0;
  std::uint64_t executable_requests = 0;  // NonPagedPool / NonPagedPoolExecute asked for
  std::uint64_t bad_frees = 0;            // always 0: a bad free is now a bugcheck (pool.cpp)
};
PoolStats pool_stats();
void pool_reset_counts();
// The n-th allocation attempt from now fails (1 = the next one); 0 turns injection off.
void pool_fail_nth(std::uint64_t n);
bool pool_failure_injected();          // the armed failure happened
const char* pool_failed_allocation();  // its tag and size
void pool_print_live();                // names the leaked blocks (by tag: count, bytes)
// Paged pool faults go to the pool (paging in, or a bugcheck at DISPATCH_LEVEL).
void pool_watch_faults();

// --- the verifier's bugchecks (verifier.cpp) ----------------------------------------------------
// Runs `run` on a new thread (a System thread at PASSIVE_LEVEL) on which a bugcheck ends only that
// thread; returns the bugcheck's code, 0 when it returned without one. For cases that call a
// routine wrongly on purpose, to prove the box catches it.
std::uint32_t bugcheck_of(void (*run)(void*), void* argument = nullptr);
const char* last_bugcheck_reason();  // the reason the last violation printed
// The most stack a driver routine (callback, dispatch, DriverEntry, DriverUnload) used so far.
std::uint64_t most_stack_used();
// The checks made when the driver's image goes, on demand: no pool block, no kernel handle left;
// and the poison of every freed block intact (no write after free). Bugcheck when not.
void verify_nothing_left();
void verify_freed_pool();

// --- processes and threads (processes.cpp) ------------------------------------------------------
enum class Caller : std::uint8_t { kSystem, kAdministrator, kUser };
// Declares a process; `image` in C:\ form (the kernel sees it as \Device\HarddiskVolume3\...).
void define_process(std::uint32_t pid, const wchar_t* image, Caller caller);
// The calling OS thread from now on acts as a new thread of `pid` (user mode unless `kernel`).
void become(std::uint32_t pid, bool kernel = false);
std::uint64_t current_thread_id();
// The calling thread's exit (thread notify routines), and a process's (process notify routines).
void thread_exits();
void process_exits(std::uint32_t pid);

// --- registry (registry.cpp) --------------------------------------------------------------------
void reg_reset();  // the machine's keys: Select\Current, the service key, a few known keys
void reg_create_key(const wchar_t* kernel_name);
void reg_set_dword(const wchar_t* key, const wchar_t* value, std::uint32_t data);
void reg_set_sz(const wchar_t* key, const wchar_t* value, const wchar_t* data);
bool reg_key_exists(const wchar_t* kernel_name);
void reg_delete_key(const wchar_t* kernel_name);

// --- the configuration manager (config_manager.cpp) ---------------------------------------------
enum class Outcome : std::uint8_t { kSuccess, kReparse, kFailure };
struct RegOp {
  std::uint32_t pre_class = 0;        // REG_NOTIFY_CLASS of the pre-operation
  const wchar_t* key = nullptr;       // kernel form, full
  const wchar_t* value = nullptr;     // value operations
  const wchar_t* new_name = nullptr;  // rename: the new last component
  const wchar_t* file = nullptr;      // restore / replace: the hive file
  std::uint32_t type = 0;             // set-value
  const void* data = nullptr;
  std::uint32_t data_size = 0;
  bool relative_create = false;  // create-key: RootObject (the parent) + a relative name
};
struct PendingOp;
// The pre-operation: the callback's status in `status`. Null when no post will follow (the
// callback refused, or the class has no post).
PendingOp* cm_pre(const RegOp& op, std::int32_t& status);
// The operation happens (or not) with `outcome`, then the post-operation; frees `pending`.
void cm_post(PendingOp* pending, Outcome outcome);
std::int32_t cm_call(const RegOp& op, Outcome outcome = Outcome::kSuccess);
// Frees a pending operation whose post never comes (its thread is gone).
void cm_abandon(PendingOp* pending);
int cm_callbacks_registered();
int cm_threads_inside();
// Registers a callback of another driver at `altitude` (as WdFilter holds 328010).
void cm_occupy_altitude(const wchar_t* altitude);
// A careless or hostile kernel: calls the registered callback with `cls` and a structure the case
// built itself (no checks, no post). STATUS_SUCCESS when no callback is registered.
std::int32_t cm_raw_call(std::uint32_t cls, void* argument);
// The key object of a kernel name (made if absent), for structures cm_raw_call passes.
void* reg_key_object(const wchar_t* kernel_name);
void cm_reset();
// The next CmRegisterCallbackEx calls `call` once the callback is live but before it writes the
// cookie back, as another thread's operation may arrive on Windows.
void cm_during_registration(void (*call)(void*), void* context);
// CmUnRegisterCallback fails (the driver's unload must then free nothing a callback uses).
void cm_fail_unregister(bool fail);

// --- routines looked up by name (imports.cpp) ---------------------------------------------------
// Whether MmGetSystemRoutineAddress finds `name` (all are present after routines_reset).
void set_routine_present(const wchar_t* name, bool present);
void routines_reset();

// --- memory (imports.cpp) -----------------------------------------------------------------------
// Copies from `address` (MmCopyMemory) wait until it is set to null: a user page whose page-in
// waits on a file the calling process controls.
void mm_stall_copies_from(const void* address);
int mm_stalled_copies();  // copies waiting now

// --- the I/O manager (io_manager.cpp) -----------------------------------------------------------
struct Handle;
struct AsyncIo;
// Opens a device path (\\.\name) for the current caller, checking the device's DACL.
Handle* io_open(const wchar_t* path, std::uint32_t desired_access, std::int32_t& status);
std::int32_t io_control(Handle* h, std::uint32_t code, const void* in, std::uint32_t in_length,
                        void* out, std::uint32_t out_length, std::uint32_t* returned = nullptr);
// An IOCTL that may pend: io_wait says whether it completed within `ms`.
AsyncIo* io_control_async(Handle* h, std::uint32_t code, const void* in, std::uint32_t in_length,
                          std::uint32_t out_length);
bool io_wait(AsyncIo* io, std::uint32_t ms);
std::int32_t io_status(AsyncIo* io);
const void* io_output(AsyncIo* io, std::uint32_t& length);
void io_cancel(AsyncIo* io);
void io_free(AsyncIo* io);  // after it completed
// IRP_MJ_CLEANUP then IRP_MJ_CLOSE. False when a request was still pended after the cleanup.
bool io_close(Handle* h);
int io_devices();  // devices the driver has now

// --- the driver (driver_host.cpp) ---------------------------------------------------------------
std::int32_t load_driver();  // DriverEntry; on failure the driver is not loaded
// DriverUnload; as on Windows it waits (deferred) until the last handle on the driver's devices
// is closed, unless `force` (the runner's clean-up between cases).
void unload_driver(bool force = false);
bool driver_loaded();
// A fresh machine: registry, routines, callbacks, processes, pool counts.
void machine_reset();
// Handles the stand-in's object manager still holds for the driver (ZwClose not called).
int open_kernel_handles();

}  // namespace box
