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

// operator new(std::nothrow) / operator delete.
Allocator default_allocator();

}  // namespace hivewarden
