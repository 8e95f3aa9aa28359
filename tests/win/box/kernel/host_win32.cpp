// The host services of host.hpp over Win32 (the only stand-in file that includes <windows.h>).
#include <windows.h>

#include <cstdio>
#include <cstdlib>

#include "host.hpp"

namespace box::host {
namespace {
SRWLOCK g_monitor = SRWLOCK_INIT;
CONDITION_VARIABLE g_changed = CONDITION_VARIABLE_INIT;
INIT_ONCE g_slot_once = INIT_ONCE_STATIC_INIT;
DWORD g_slot = TLS_OUT_OF_INDEXES;

BOOL CALLBACK allocate_slot(PINIT_ONCE, PVOID, PVOID*) {
  g_slot = TlsAlloc();
  return g_slot != TLS_OUT_OF_INDEXES;
}
DWORD slot() {
  InitOnceExecuteOnce(&g_slot_once, allocate_slot, nullptr, nullptr);
  return g_slot;
}

SRWLOCK g_paged = SRWLOCK_INIT;
FaultHook g_fault_hook = nullptr;

LONG CALLBACK on_exception(PEXCEPTION_POINTERS e) {
  const EXCEPTION_RECORD& r = *e->ExceptionRecord;
  if (r.ExceptionCode != EXCEPTION_ACCESS_VIOLATION || r.NumberParameters < 2) {
    return EXCEPTION_CONTINUE_SEARCH;
  }
  FaultHook hook = g_fault_hook;
  const auto* address = reinterpret_cast<const void*>(r.ExceptionInformation[1]);
  return hook != nullptr && hook(address) ? EXCEPTION_CONTINUE_EXECUTION
                                          : EXCEPTION_CONTINUE_SEARCH;
}

struct Start {
  ThreadBody body;
  void* argument;
};
DWORD WINAPI run_thread(LPVOID p) {
  Start start = *static_cast<Start*>(p);
  std::free(p);
  start.body(start.argument);
  return 0;
}
}  // namespace

void monitor_enter() {
  AcquireSRWLockExclusive(&g_monitor);
}
void monitor_leave() {
  ReleaseSRWLockExclusive(&g_monitor);
}
bool monitor_wait(std::uint32_t ms) {
  return SleepConditionVariableSRW(&g_changed, &g_monitor, ms == kForever ? INFINITE : ms, 0) != 0;
}
void monitor_broadcast() {
  WakeAllConditionVariable(&g_changed);
}

void* thread_start(ThreadBody body, void* argument) {
  auto* start = static_cast<Start*>(std::malloc(sizeof(Start)));
  start->body = body;
  start->argument = argument;
  return CreateThread(nullptr, 0, run_thread, start, 0, nullptr);
}
void thread_join(void* thread) {
  WaitForSingleObject(thread, INFINITE);
  CloseHandle(thread);
}

void thread_exit() {
  ExitThread(3);
}

void* pages_allocate(std::size_t bytes) {
  return VirtualAlloc(nullptr, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}
void pages_free(void* p) {
  VirtualFree(p, 0, MEM_RELEASE);
}
void pages_protect(void* p, std::size_t bytes, bool accessible) {
  DWORD old = 0;
  VirtualProtect(p, bytes, accessible ? PAGE_READWRITE : PAGE_NOACCESS, &old);
}
void set_fault_hook(FaultHook hook) {
  if (g_fault_hook == nullptr) AddVectoredExceptionHandler(1, on_exception);
  g_fault_hook = hook;
}
void paged_lock() {
  AcquireSRWLockExclusive(&g_paged);
}
void paged_unlock() {
  ReleaseSRWLockExclusive(&g_paged);
}

void* thread_slot() {
  return TlsGetValue(slot());
}
void set_thread_slot(void* value) {
  TlsSetValue(slot(), value);
}

std::uint64_t now_ms() {
  return GetTickCount64();
}
void sleep_ms(std::uint32_t ms) {
  Sleep(ms);
}
void yield() {
  SwitchToThread();
}

char* read_text_file(const char* path, std::uint64_t& size) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return nullptr;
  std::fseek(f, 0, SEEK_END);
  const long length = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  char* text = static_cast<char*>(std::malloc(static_cast<size_t>(length) + 1));
  size = std::fread(text, 1, static_cast<size_t>(length), f);
  text[size] = 0;
  std::fclose(f);
  return text;
}

}  // namespace box::host
