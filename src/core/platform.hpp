// The few things the core needs from the platform, kept behind one header so that a kernel
// adapter can supply its own (platform_posix.cpp is the user-mode one).
#pragma once

namespace hivewarden::platform {

// Lets other threads run before a lock or a policy swap's grace period is checked again: a
// yield in user mode, a short sleep in the kernel (a driver must not spin waiting on readers).
void yield_now();

}  // namespace hivewarden::platform
