#include "hivewarden/core/allocator.hpp"

#include "platform.hpp"

namespace hivewarden {
namespace {
void* allocate(std::size_t size, void*) {
  return platform::allocate_memory(size);
}
void release(void* pointer, void*) {
  platform::release_memory(pointer);
}
}  // namespace

Allocator default_allocator() {
  return Allocator{&allocate, &release, nullptr};
}

}  // namespace hivewarden
