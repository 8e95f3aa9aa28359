// The few things the core needs from the platform, kept behind one header so that a kernel
// adapter can supply its own (platform_posix.cpp is the user-mode one).
#pragma once

#include <cstddef>

namespace hivewarden::platform {

// Lets other threads run before a lock or a policy swap's grace period is checked again: a
// yield in user mode, a short sleep in the kernel (a driver must not spin waiting on readers).
void yield_now();

// Memory for the engine's long-lived objects (default_allocator), 16-byte aligned, or null; freed
// by release_memory. In user mode a large block (a policy of megabytes) is 2 MB aligned and
// asks for transparent huge pages: a decision's few reads land anywhere in a blob of hundreds of
// megabytes, and with 4 KB pages each also costs a TLB miss and a page walk (the driver's
// non-paged pool is mapped with large pages already).
void* allocate_memory(std::size_t size);
void release_memory(void* pointer);

}  // namespace hivewarden::platform
