// Issue 14: at a million entries (a 343 MB blob) each of a decision's reads lands anywhere in the
// policy, and with 4 KB pages each also missed the TLB. The engine's default allocator now gives
// a large block 2 MB alignment and asks for transparent huge pages (madvise MADV_HUGEPAGE), so
// the policy an engine holds sits in memory the kernel may back with huge pages.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "../support/test_policy.hpp"
#include "hivewarden/core/allocator.hpp"
#include "hivewarden/core/engine.hpp"

namespace hivewarden {
namespace {

// The VmFlags line of the mapping in /proc/self/smaps that holds `address` ("" when not found).
std::string vm_flags_of(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t low = 0, high = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> low >> dash >> high && dash == '-' &&
        line.find(':') > line.find(' ')) {  // a mapping's header line, not a "Key: value" line
      inside = low <= at && at < high;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

bool transparent_huge_pages_available() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(f, modes);
  return !modes.empty() && modes.find("[never]") == std::string::npos;
}

// Entries enough for a blob of several megabytes.
std::string large_policy_yaml() {
  std::string yaml = "version: 1\nmonitored:\n";
  for (int i = 0; i < 20000; ++i)
    yaml += "  - {key: 'HKLM\\SOFTWARE\\Vendor" + std::to_string(i % 97) + "\\Product" +
            std::to_string(i) + "', client: c, rules: [delete-key]}\n";
  return yaml;
}

TEST(PolicyMemory, ALargePolicyAsksForHugePages) {
#ifndef __linux__
  // Under wine a Windows build can read Linux's /proc and /sys, but its memory is not asked for
  // huge pages (platform_posix.cpp only).
  GTEST_SKIP() << "huge pages are asked for in Linux user mode only (platform_posix.cpp)";
#endif
  if (!transparent_huge_pages_available())
    GTEST_SKIP() << "no transparent huge pages on this kernel";
  const policy::Blob blob = test::compile_yaml_blob(large_policy_yaml(), "large.yaml");
  ASSERT_GT(blob.size(), 4u << 20);
  Engine engine;
  PolicyError error;
  const PolicyRef ref = engine.prepare_policy(blob.data(), blob.size(), error);
  ASSERT_TRUE(ref) << error.what;
  const void* bytes = &ref.view().header();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(bytes) % (2u << 20), 0u);
  const std::string flags = vm_flags_of(bytes);
  ASSERT_FALSE(flags.empty()) << "no mapping holds the policy";
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << flags;
}

TEST(PolicyMemory, DefaultAllocatorAlignsLargeBlocksTo2MBAndSmallOnesAsBefore) {
  // The call-context pool and small policies: no 2 MB rounding for a few kilobytes.
#ifndef __linux__
  GTEST_SKIP() << "huge pages are asked for in Linux user mode only (platform_posix.cpp)";
#endif
  const Allocator a = default_allocator();
  void* p = a.allocate(4096, a.user);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
  a.release(p, a.user);
  void* large = a.allocate((3u << 20) + 5, a.user);
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large) % (2u << 20), 0u);
  static_cast<char*>(large)[(3u << 20) + 4] = 1;  // the whole request is usable
  a.release(large, a.user);
}

}  // namespace
}  // namespace hivewarden
