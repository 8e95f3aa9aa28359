// The core's platform for Windows user mode (the Windows build of the core's tests); the driver
// has its own (src/win/driver/kernel_platform.cpp).
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <cstdlib>

#include "platform.hpp"

namespace hivewarden::platform {

void yield_now() {
  SwitchToThread();
}

// Large pages in Windows user mode need a privilege the tests do not hold: plain blocks.
void* allocate_memory(std::size_t size) {
  return std::malloc(size == 0 ? 1 : size);
}

void release_memory(void* pointer) {
  std::free(pointer);
}

}  // namespace hivewarden::platform
