#include "hivewarden/util/bit_names.hpp"

#include <gtest/gtest.h>

#include "hivewarden/core/rules.hpp"

namespace hivewarden {
namespace {

TEST(BitNames, RulesInTableOrder) {
  EXPECT_EQ(rule_names(0), "none");
  EXPECT_EQ(rule_names(rule::kTamperProtection | rule::kSetValue), "set-value|tamper-protection");
  EXPECT_EQ(rule_names(rule::kDeleteDeny), "delete-deny");
}

TEST(BitNames, UnnamedBitsAsHex) {
  EXPECT_EQ(rule_names(rule::kCreateKey | 0x2), "create-key|0x2");
  EXPECT_EQ(rule_names(0x800000), "0x800000");
}

TEST(BitNames, ProcessFlagsAndRules) {
  EXPECT_EQ(process_flag_names(process_flag::kFriendly | process_flag::kSystem), "system|friendly");
  EXPECT_EQ(process_flag_names(0), "none");
  EXPECT_EQ(process_rule_names(process_rule::kNotifySync), "notify-sync");
  EXPECT_EQ(process_rule_names(process_rule::kAll), "allow-all-registry|notify-sync");
}

}  // namespace
}  // namespace hivewarden
