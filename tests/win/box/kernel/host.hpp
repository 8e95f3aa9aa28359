// The few Win32 services the stand-in kernel is built on (threads, one monitor, per-thread data,
// time), behind plain types: the stand-in's DDK files cannot include <windows.h> (its types clash
// with <ntddk.h>'s), so host_win32.cpp is the one file that does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace box::host {

inline constexpr std::uint32_t kForever = 0xFFFFFFFFu;

// One process-wide monitor (a lock and a condition): every dispatcher object's state changes
// under it and every waiter sleeps on it, which is slow but simple and cannot lose a wake-up.
void monitor_enter();
void monitor_leave();
// Sleeps until a broadcast or `ms` passed; false on time-out. Called inside the monitor.
bool monitor_wait(std::uint32_t ms);
void monitor_broadcast();

using ThreadBody = void (*)(void*);
void* thread_start(ThreadBody body, void* argument);
void thread_join(void* thread);
// Ends the calling thread now (a bugcheck a case expects ends only the thread that caused it).
[[noreturn]] void thread_exit();

// Whole pages of their own (paged pool's blocks, so that they can be "paged out"), and their
// protection: not accessible = paged out. A fault on such a page goes to the hook, which returns
// true when it paged the memory back in (execution continues), false to let the fault through.
void* pages_allocate(std::size_t bytes);
void pages_free(void* p);
void pages_protect(void* p, std::size_t bytes, bool accessible);
using FaultHook = bool (*)(const void* address);
void set_fault_hook(FaultHook hook);
// A lock apart from the monitor for the paged blocks' residence (taken by the fault hook, which
// may run on a thread that holds the monitor). Never held while touching paged memory.
void paged_lock();
void paged_unlock();

// A pointer kept per OS thread (the stand-in's "current thread" record).
void* thread_slot();
void set_thread_slot(void* value);

std::uint64_t now_ms();
void sleep_ms(std::uint32_t ms);
void yield();

// Reads a whole file; null when it cannot (the caller frees with std::free).
char* read_text_file(const char* path, std::uint64_t& size);

}  // namespace box::host
