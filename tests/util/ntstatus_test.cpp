#include "hivewarden/util/ntstatus.hpp"

#include <gtest/gtest.h>

namespace hivewarden {
namespace {

TEST(NtStatus, NamesAndNumbers) {
  const struct {
    std::uint32_t status;
    const char* name;
  } known[] = {{0x00000000, "success"},
               {0xC0000022, "access-denied"},
               {0xC0000034, "object-name-not-found"},
               {0xC0000035, "object-name-collision"},
               {0xC0000121, "cannot-delete"},
               {0xC000000D, "invalid-parameter"},
               {0xC0000106, "name-too-long"},
               {0xC000026B, "reparse-point-loop"},
               {0xC0000001, "unsuccessful"}};
  for (const auto& k : known) {
    EXPECT_EQ(ntstatus_name(k.status), k.name);
    std::uint32_t back = 7;
    EXPECT_TRUE(ntstatus_by_name(k.name, back)) << k.name;
    EXPECT_EQ(back, k.status) << k.name;
  }
  EXPECT_EQ(ntstatus::kAccessDenied, 0xC0000022u);
}

TEST(NtStatus, OtherStatusesAsEightHexDigits) {
  EXPECT_EQ(ntstatus_name(0x80000005), "0x80000005");
  EXPECT_EQ(ntstatus_name(0x104), "0x00000104");
  EXPECT_EQ(ntstatus_name(0xFFFFFFFF), "0xffffffff");
}

TEST(NtStatus, ByNameTakesOnlyTheTableSpelling) {
  for (const char* text : {"", "Access-Denied", "access_denied", "STATUS_ACCESS_DENIED",
                           "0xc0000022", "access-denied ", "denied", "?"}) {
    std::uint32_t status = 7;
    EXPECT_FALSE(ntstatus_by_name(text, status)) << text;
    EXPECT_EQ(status, 7u);
  }
}

}  // namespace
}  // namespace hivewarden
