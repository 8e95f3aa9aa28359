#include "hivewarden/util/hex.hpp"

#include <gtest/gtest.h>

namespace hivewarden {
namespace {

TEST(LittleEndian, WritesAndReadsBack) {
  std::string out;
  append_little_endian(out, 0x11223344u, 4);
  EXPECT_EQ(out, std::string("\x44\x33\x22\x11", 4));
  EXPECT_EQ(read_little_endian(out), 0x11223344u);
  out.clear();
  append_little_endian(out, 0x0102030405060708ull, 8);
  EXPECT_EQ(out, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(read_little_endian(out), 0x0102030405060708ull);
  EXPECT_EQ(read_little_endian(std::string_view("\xFF\xFE", 2)), 0xFEFFu);  // bytes are unsigned
}

TEST(LittleEndian, ReadsNoMoreThanEightBytes) {
  EXPECT_EQ(read_little_endian(""), 0u);
  EXPECT_EQ(read_little_endian(std::string("\x01\x00\x00\x00\x00\x00\x00\x00\xFF", 9)), 1u);
}

TEST(Utf16le, WritesAndReadsBack) {
  std::string out;
  append_utf16le(out, u"A\u20AC", true);
  EXPECT_EQ(out, std::string("A\0\xAC\x20\0\0", 6));
  EXPECT_EQ(read_utf16le(out), std::u16string(u"A\u20AC\0", 3));
  out.clear();
  append_utf16le(out, u"x", false);
  EXPECT_EQ(out, std::string("x\0", 2));
}

TEST(Utf16le, IgnoresAnOddLastByteAndAnyAlignment) {
  const std::string bytes("\0A\0B\0C", 7);  // starts one byte in: unaligned units
  EXPECT_EQ(read_utf16le(std::string_view(bytes).substr(1)), u"ABC");
  EXPECT_EQ(read_utf16le(std::string_view("A\0B", 3)), u"A");
  EXPECT_EQ(read_utf16le(""), u"");
}

}  // namespace
}  // namespace hivewarden
