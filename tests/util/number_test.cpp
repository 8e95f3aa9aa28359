#include "hivewarden/util/number.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace hivewarden {
namespace {

constexpr std::optional<std::uint64_t> kNone = std::nullopt;

NumberForm form(NumberBase base, int bits = 32) {
  NumberForm f;
  f.base = base;
  f.bits = bits;
  return f;
}

TEST(Number, DecimalOr0xReadsBothForms) {
  const NumberForm f = form(NumberBase::kDecimalOr0x);
  EXPECT_EQ(parse_unsigned("0", f), 0u);
  EXPECT_EQ(parse_unsigned("42", f), 42u);
  EXPECT_EQ(parse_unsigned("0042", f), 42u);
  EXPECT_EQ(parse_unsigned("0x2a", f), 42u);
  EXPECT_EQ(parse_unsigned("0X2A", f), 42u);
  EXPECT_EQ(parse_unsigned("0xDeadBeef", f), 0xDEADBEEFu);
  EXPECT_EQ(parse_unsigned("0x0", f), 0u);
  EXPECT_EQ(parse_unsigned("2a", f), kNone);  // hex digits need the prefix
  EXPECT_EQ(parse_unsigned("0x", f), kNone);  // a prefix without digits
  EXPECT_EQ(parse_unsigned("0X", f), kNone);
  EXPECT_EQ(parse_unsigned("x1", f), kNone);
  EXPECT_EQ(parse_unsigned("00x1", f), kNone);
  EXPECT_EQ(parse_unsigned("0x0x1", f), kNone);
  EXPECT_EQ(parse_unsigned("0xg", f), kNone);
}

TEST(Number, DecimalOnlyRejectsHex) {
  const NumberForm f = form(NumberBase::kDecimal);
  EXPECT_EQ(parse_unsigned("123", f), 123u);
  EXPECT_EQ(parse_unsigned("0x1", f), kNone);
  EXPECT_EQ(parse_unsigned("1a", f), kNone);
}

TEST(Number, HexOnlyTakesNoPrefix) {
  const NumberForm f = form(NumberBase::kHex);
  EXPECT_EQ(parse_unsigned("ff", f), 255u);
  EXPECT_EQ(parse_unsigned("FF", f), 255u);
  EXPECT_EQ(parse_unsigned("10", f), 16u);  // hex, not decimal
  EXPECT_EQ(parse_unsigned("0xff", f), kNone);
  EXPECT_EQ(parse_unsigned("fg", f), kNone);
}

TEST(Number, PrefixedHexNeedsThePrefix) {
  const NumberForm f = form(NumberBase::k0xHex);
  EXPECT_EQ(parse_unsigned("0x10", f), 16u);
  EXPECT_EQ(parse_unsigned("0XaB", f), 0xABu);
  EXPECT_EQ(parse_unsigned("10", f), kNone);
  EXPECT_EQ(parse_unsigned("0x", f), kNone);
}

TEST(Number, EmptyIsNoNumberInAnyForm) {
  for (const NumberBase base :
       {NumberBase::kDecimalOr0x, NumberBase::kDecimal, NumberBase::kHex, NumberBase::k0xHex}) {
    NumberForm f = form(base);
    EXPECT_EQ(parse_unsigned("", f), kNone);
    f.blanks_around = true;
    EXPECT_EQ(parse_unsigned("", f), kNone);
    EXPECT_EQ(parse_unsigned(" \t\r\n", f), kNone);
    f.min_digits = 0;  // even when no digits are asked for
    EXPECT_EQ(parse_unsigned("", f), kNone);
  }
}

TEST(Number, SignsFractionsAndTrailingTextAreRejected) {
  NumberForm f = form(NumberBase::kDecimalOr0x);
  f.blanks_around = true;
  for (const char* bad :
       {"-1",  "+1",    "-0",    "+0",   "1.0",  "1.",  ".5",  "1e3", "1,000", "1_000",
        "1 2", "12abc", "0x1 2", "0x-1", "0x+1", "- 1", "1\v", "\f1", "0x1p0", "١"}) {
    EXPECT_EQ(parse_unsigned(std::string(bad), f), kNone) << bad;
  }
  EXPECT_EQ(parse_unsigned(std::string("1\0", 2), f), kNone);  // an embedded NUL is text too
}

TEST(Number, BlanksAroundOnlyWhenAsked) {
  NumberForm f = form(NumberBase::kDecimalOr0x);
  EXPECT_EQ(parse_unsigned(" 7", f), kNone);
  EXPECT_EQ(parse_unsigned("7\n", f), kNone);
  f.blanks_around = true;
  EXPECT_EQ(parse_unsigned(" 7", f), 7u);
  EXPECT_EQ(parse_unsigned("\t0x7\r\n", f), 7u);
  EXPECT_EQ(parse_unsigned(" \t7 \n", f), 7u);
  EXPECT_EQ(parse_unsigned("0x 7", f), kNone);  // blanks around, never inside
  EXPECT_EQ(parse_unsigned("0 x7", f), kNone);
}

TEST(Number, EachWidthTakesItsLargestValueAndNotOneMore) {
  NumberForm f = form(NumberBase::kDecimalOr0x);
  f.bits = 8;
  EXPECT_EQ(parse_unsigned("255", f), 255u);
  EXPECT_EQ(parse_unsigned("256", f), kNone);
  EXPECT_EQ(parse_unsigned("0xff", f), 255u);
  EXPECT_EQ(parse_unsigned("0x100", f), kNone);
  f.bits = 16;
  EXPECT_EQ(parse_unsigned("65535", f), 65535u);
  EXPECT_EQ(parse_unsigned("65536", f), kNone);
  f.bits = 31;
  EXPECT_EQ(parse_unsigned("2147483647", f), 2147483647u);
  EXPECT_EQ(parse_unsigned("2147483648", f), kNone);
  f.bits = 32;
  EXPECT_EQ(parse_unsigned("4294967295", f), 0xFFFFFFFFu);
  EXPECT_EQ(parse_unsigned("4294967296", f), kNone);  // not 0 (wrapped)
  EXPECT_EQ(parse_unsigned("0xFFFFFFFF", f), 0xFFFFFFFFu);
  EXPECT_EQ(parse_unsigned("0x100000000", f), kNone);
  EXPECT_EQ(parse_unsigned("0x100000001", f), kNone);  // not 1 (truncated)
  EXPECT_EQ(parse_unsigned("42949672950", f), kNone);
  f.bits = 64;
  EXPECT_EQ(parse_unsigned("18446744073709551615", f), UINT64_MAX);
  EXPECT_EQ(parse_unsigned("18446744073709551616", f), kNone);
  EXPECT_EQ(parse_unsigned("99999999999999999999", f), kNone);
  EXPECT_EQ(parse_unsigned("0xFFFFFFFFFFFFFFFF", f), UINT64_MAX);
  EXPECT_EQ(parse_unsigned("0x10000000000000000", f), kNone);
  f.bits = 1;
  EXPECT_EQ(parse_unsigned("1", f), 1u);
  EXPECT_EQ(parse_unsigned("2", f), kNone);
}

TEST(Number, LeadingZerosDoNotCountTowardsTheWidth) {
  NumberForm f = form(NumberBase::kDecimalOr0x);
  f.bits = 8;
  EXPECT_EQ(parse_unsigned("000000000000000000000000255", f), 255u);
  EXPECT_EQ(parse_unsigned("0x0000000000000000000000ff", f), 255u);
}

TEST(Number, DigitCountLimits) {
  NumberForm f = form(NumberBase::kHex);
  f.min_digits = 8;
  f.max_digits = 8;  // exactly 8, as .reg's dword: writes them
  EXPECT_EQ(parse_unsigned("0000000a", f), 10u);
  EXPECT_EQ(parse_unsigned("FFFFFFFF", f), 0xFFFFFFFFu);
  EXPECT_EQ(parse_unsigned("a", f), kNone);
  EXPECT_EQ(parse_unsigned("0000000", f), kNone);
  EXPECT_EQ(parse_unsigned("00000000a", f), kNone);
  f = form(NumberBase::k0xHex);
  f.max_digits = 16;  // counted after the prefix
  EXPECT_EQ(parse_unsigned("0x0000000000000001", f), 1u);
  EXPECT_EQ(parse_unsigned("0x00000000000000001", f), kNone);
}

}  // namespace
}  // namespace hivewarden
