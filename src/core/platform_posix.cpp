#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>

#include <cstdlib>

#include "platform.hpp"

namespace hivewarden::platform {

void yield_now() {
  sched_yield();
}

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}

void* allocate_memory(std::size_t size) {
  if (size < kHugePage) return std::malloc(size == 0 ? 1 : size);
  if (size > SIZE_MAX - kHugePage) return nullptr;
  const std::size_t bytes = (size + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
#ifdef MADV_HUGEPAGE
  // Advice only: where transparent huge pages are off, the block keeps 4 KB pages.
  if (p != nullptr) (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void release_memory(void* pointer) {
  std::free(pointer);
}

}  // namespace hivewarden::platform
