// Processes and threads: each OS thread of the box acts as one kernel thread of one process
// (pid, tid, image, previous mode, IRQL), set with box::become; thread and process exits call the
// driver's notify routines as the kernel does.
#include <cstdlib>
#include <cstring>
#include <cwchar>

#include "internal.hpp"

namespace box::kernel {
namespace {

constexpr int kProcesses = 4200;  // a case fills the driver's process table (4096)
Process g_processes[kProcesses];
std::uint64_t g_next_tid = 1000;
PCREATE_THREAD_NOTIFY_ROUTINE g_thread_routines[8] = {};
PCREATE_PROCESS_NOTIFY_ROUTINE_EX g_process_routines[8] = {};

Process* find(std::uint32_t pid) {
  for (Process& p : g_processes) {
    if (p.live && p.pid == pid) return &p;
  }
  return nullptr;
}

// The System process (pid 4), which every thread not told otherwise belongs to. Made in a free
// slot: a process a case defined first must not be overwritten by it.
Process* system_process() {
  Process* p = find(4);
  if (p != nullptr) return p;
  Process* free_slot = &g_processes[0];
  for (Process& slot : g_processes) {
    if (!slot.live) {
      free_slot = &slot;
      break;
    }
  }
  Process& s = *free_slot;
  s = Process{};
  s.pid = 4;
  std::wcscpy(s.image, L"System");
  s.create_time = 1;
  s.caller = Caller::kSystem;
  s.live = true;
  return &s;
}

// C:\... as the kernel names it (the box's C: is \Device\HarddiskVolume3).
void device_form(const wchar_t* image, wchar_t* out, std::size_t capacity) {
  if ((image[0] | 0x20) == L'c' && image[1] == L':') {
    std::swprintf(out, capacity, L"\\Device\\HarddiskVolume3%ls", image + 2);
  } else {
    std::swprintf(out, capacity, L"%ls", image);
  }
}

template <typename Routine, int N>
bool add_routine(Routine (&table)[N], Routine routine) {
  for (Routine& slot : table) {
    if (slot == routine) return false;
  }
  for (Routine& slot : table) {
    if (slot == nullptr) {
      slot = routine;
      return true;
    }
  }
  return false;
}

template <typename Routine, int N>
bool remove_routine(Routine (&table)[N], Routine routine) {
  for (Routine& slot : table) {
    if (slot == routine) {
      slot = nullptr;
      return true;
    }
  }
  return false;
}

}  // namespace

Thread& current_thread() {
  auto* self = static_cast<Thread*>(host::thread_slot());
  if (self != nullptr) return *self;
  self = static_cast<Thread*>(std::calloc(1, sizeof(Thread)));
  Locked lock;
  self->process = system_process();
  self->tid = g_next_tid += 4;
  self->previous_mode = KernelMode;
  host::set_thread_slot(self);
  return *self;
}

std::uint8_t current_irql() {
  return current_thread().irql;
}

void processes_reset() {
  Locked lock;
  for (Process& p : g_processes) p = Process{};
  for (auto& r : g_thread_routines) r = nullptr;
  for (auto& r : g_process_routines) r = nullptr;
}

}  // namespace box::kernel

using namespace box::kernel;

extern "C" {

HANDLE NTAPI PsGetCurrentProcessId(VOID) {
  return reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(current_thread().process->pid));
}
HANDLE NTAPI PsGetCurrentThreadId(VOID) {
  return reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(current_thread().tid));
}
PEPROCESS NTAPI IoGetCurrentProcess(VOID) {
  return reinterpret_cast<PEPROCESS>(current_thread().process);
}
LONGLONG NTAPI PsGetProcessCreateTimeQuadPart(PEPROCESS process) {
  return reinterpret_cast<Process*>(process)->create_time;
}
// A live process's object (the box keeps no reference counts: ObfDereferenceObject does nothing).
NTSTATUS NTAPI PsLookupProcessByProcessId(HANDLE pid, PEPROCESS* process) {
  const auto id = reinterpret_cast<ULONG_PTR>(pid);
  Locked lock;
  Process* p = id <= 0xFFFFFFFFu ? find(static_cast<std::uint32_t>(id)) : nullptr;
  if (p == nullptr) return STATUS_INVALID_PARAMETER;
  *process = reinterpret_cast<PEPROCESS>(p);
  return STATUS_SUCCESS;
}
KPROCESSOR_MODE NTAPI ExGetPreviousMode(VOID) {
  return current_thread().previous_mode;
}

// Allocates the name from pool (the caller frees it with ExFreePool), as the kernel does.
NTSTATUS NTAPI SeLocateProcessImageName(PEPROCESS process, PUNICODE_STRING* name) {
  require_irql(PASSIVE_LEVEL, "SeLocateProcessImageName");
  const wchar_t* image = reinterpret_cast<Process*>(process)->image;
  const std::size_t bytes = std::wcslen(image) * sizeof(wchar_t);
  auto* s = static_cast<PUNICODE_STRING>(pool_allocate_for(
      Owner::kImageName, true, sizeof(UNICODE_STRING) + bytes, 0x6d496553 /* SeIm */));
  if (s == nullptr) return STATUS_NO_MEMORY;
  s->Buffer = reinterpret_cast<PWCH>(s + 1);
  std::memcpy(s->Buffer, image, bytes);
  s->Length = s->MaximumLength = static_cast<USHORT>(bytes);
  *name = s;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI PsSetCreateThreadNotifyRoutine(PCREATE_THREAD_NOTIFY_ROUTINE routine) {
  require_irql(PASSIVE_LEVEL, "PsSetCreateThreadNotifyRoutine");
  Locked lock;
  return add_routine(g_thread_routines, routine) ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}
NTSTATUS NTAPI PsRemoveCreateThreadNotifyRoutine(PCREATE_THREAD_NOTIFY_ROUTINE routine) {
  require_irql(PASSIVE_LEVEL, "PsRemoveCreateThreadNotifyRoutine");
  Locked lock;
  return remove_routine(g_thread_routines, routine) ? STATUS_SUCCESS : STATUS_PROCEDURE_NOT_FOUND;
}
NTSTATUS NTAPI PsSetCreateProcessNotifyRoutineEx(PCREATE_PROCESS_NOTIFY_ROUTINE_EX routine,
                                                 BOOLEAN remove) {
  require_irql(PASSIVE_LEVEL, "PsSetCreateProcessNotifyRoutineEx");
  Locked lock;
  if (remove) {
    return remove_routine(g_process_routines, routine) ? STATUS_SUCCESS
                                                       : STATUS_PROCEDURE_NOT_FOUND;
  }
  return add_routine(g_process_routines, routine) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

}  // extern "C"

namespace box {

void define_process(std::uint32_t pid, const wchar_t* image, Caller caller) {
  Locked lock;
  Process* p = find(pid);
  if (p == nullptr) {
    for (Process& slot : g_processes) {
      if (!slot.live) {
        p = &slot;
        break;
      }
    }
  }
  *p = Process{};
  p->pid = pid;
  device_form(image, p->image, sizeof p->image / sizeof p->image[0]);
  p->create_time = 0x01D9000000000000LL + pid;
  p->caller = caller;
  p->live = true;
}

void become(std::uint32_t pid, bool kernel) {
  Thread& self = current_thread();
  Locked lock;
  Process* p = find(pid);
  self.process = p != nullptr ? p : system_process();
  self.tid = g_next_tid += 4;
  self.previous_mode = kernel ? KernelMode : UserMode;
}

std::uint64_t current_thread_id() {
  return current_thread().tid;
}

void thread_exits() {
  Thread& self = current_thread();
  PCREATE_THREAD_NOTIFY_ROUTINE routines[8];
  {
    Locked lock;
    std::memcpy(routines, g_thread_routines, sizeof routines);
  }
  const auto pid = reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(self.process->pid));
  const auto tid = reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(self.tid));
  for (auto routine : routines) {
    if (routine == nullptr) continue;
    routine(pid, tid, FALSE);
    check_returned_clean(PASSIVE_LEVEL, "the thread notify routine");
  }
}

void process_exits(std::uint32_t pid) {
  PCREATE_PROCESS_NOTIFY_ROUTINE_EX routines[8];
  Process* p;
  {
    Locked lock;
    std::memcpy(routines, g_process_routines, sizeof routines);
    p = find(pid);
  }
  if (p == nullptr) return;
  for (auto routine : routines) {
    if (routine != nullptr) {
      routine(reinterpret_cast<PEPROCESS>(p), reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(pid)),
              nullptr);
      check_returned_clean(PASSIVE_LEVEL, "the process notify routine");
    }
  }
  Locked lock;
  p->live = false;
}

}  // namespace box
