// The few things the core needs from the platform, kept behind one header so that a kernel
// adapter can supply its own (platform_posix.cpp is the user-mode one).
#pragma once

namespace hivewarden::platform {

// Gives the processor to another thread while spinning on a lock or a grace period.
void yield_now();

}  // namespace hivewarden::platform
