// Memory for the engine's long-lived objects (policies, the call-context pool). Injected so that
// a kernel adapter can use its own pool; never called on the decision path.
#pragma once

#include <cstddef>

namespace hivewarden {

struct Allocator {
  void* (*allocate)(std::size_t size, void* user) = nullptr;  // 16-byte aligned, or null
  void (*release)(void* pointer, void* user) = nullptr;
  void* user = nullptr;
};

// The platform's blocks (malloc / free in user mode; a large block, such as a policy of megabytes,
// 2 MB aligned with transparent huge pages asked for: platform.hpp).
Allocator default_allocator();

}  // namespace hivewarden
