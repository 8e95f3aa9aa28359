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

// hivewarden-svc set-process takes what process_flag_names writes, numbers, and mixes of both.
TEST(BitNames, ParseProcessFlagsTakesNamesNumbersAndNone) {
  std::uint32_t flags = 0xdead;
  std::string error;
  ASSERT_TRUE(parse_process_flags("excluded|seces", flags, error)) << error;
  EXPECT_EQ(flags, process_flag::kExcluded | process_flag::kSeces);
  ASSERT_TRUE(parse_process_flags("friendly,0x1", flags, error)) << error;
  EXPECT_EQ(flags, process_flag::kFriendly | process_flag::kExcluded);
  ASSERT_TRUE(parse_process_flags("none", flags, error)) << error;
  EXPECT_EQ(flags, 0u);
  ASSERT_TRUE(parse_process_flags("0x30000033", flags, error)) << error;
  EXPECT_EQ(flags, process_flag::kAll);
  ASSERT_TRUE(parse_process_flags("33", flags, error)) << error;
  EXPECT_EQ(flags, process_flag::kExcluded | process_flag::kFriendly);  // 33 = 0x21
  for (std::uint32_t all = 0; all <= 1; ++all) {  // every written form reads back
    const std::uint32_t bits = all ? process_flag::kAll : process_flag::kServiceSid;
    ASSERT_TRUE(parse_process_flags(process_flag_names(bits), flags, error)) << error;
    EXPECT_EQ(flags, bits);
  }
}

TEST(BitNames, ParseProcessRules) {
  std::uint32_t rules = 0;
  std::string error;
  ASSERT_TRUE(parse_process_rules("allow-all-registry|notify-sync", rules, error)) << error;
  EXPECT_EQ(rules, process_rule::kAll);
  ASSERT_TRUE(parse_process_rules("0x200000", rules, error)) << error;
  EXPECT_EQ(rules, process_rule::kNotifySync);
}

// Anything else is refused, naming the word and the names known, and leaves the output alone.
TEST(BitNames, ParseProcessFlagsRefusesUnknownWordsAndBits) {
  std::uint32_t flags = 7;
  std::string error;
  for (const char* bad : {"", "excluded|", "|seces", "Excluded", "exclude", "excluded seces", "-1",
                          "0x", "0x4", "0x100000000", "notify-sync", "excluded||seces"}) {
    EXPECT_FALSE(parse_process_flags(bad, flags, error)) << bad;
    EXPECT_EQ(flags, 7u) << bad;
    EXPECT_NE(error.find("known: none, system"), std::string::npos) << bad << ": " << error;
  }
  EXPECT_FALSE(parse_process_flags("excluded|bogus", flags, error));
  EXPECT_NE(error.find("`bogus`"), std::string::npos) << error;
  EXPECT_FALSE(parse_process_flags("0x4", flags, error));
  EXPECT_NE(error.find("0x4"), std::string::npos) << error;
  std::uint32_t rules = 0;
  EXPECT_FALSE(parse_process_rules("excluded", rules, error));
  EXPECT_FALSE(parse_process_rules("0x1", rules, error));
}

}  // namespace
}  // namespace hivewarden
