// The core's platform for Windows user mode (the Windows build of the core's tests); the driver
// has its own (src/win/driver/kernel_platform.cpp).
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "platform.hpp"

namespace hivewarden::platform {

void yield_now() {
  SwitchToThread();
}

}  // namespace hivewarden::platform
