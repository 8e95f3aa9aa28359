#include "hivewarden/core/allocator.hpp"

#include <new>

namespace hivewarden {
namespace {
void* allocate_new(std::size_t size, void*) { return ::operator new(size, std::nothrow); }
void release_delete(void* pointer, void*) { ::operator delete(pointer); }
}  // namespace

Allocator default_allocator() { return Allocator{&allocate_new, &release_delete, nullptr}; }

}  // namespace hivewarden
