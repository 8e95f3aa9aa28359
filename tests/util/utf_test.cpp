#include "hivewarden/util/utf.hpp"

#include <gtest/gtest.h>

namespace hivewarden {
namespace {

TEST(Utf, RoundTripsBmpAndSupplementaryCharacters) {
  const std::string text = "Windows Defender \xC3\xA4 \xE2\x82\xAC \xF0\x9F\x98\x80";
  const auto u16 = utf8_to_utf16(text);
  ASSERT_TRUE(u16);
  EXPECT_EQ(*u16, u"Windows Defender \u00E4 \u20AC \U0001F600");
  EXPECT_EQ(utf16_to_utf8(*u16), text);
}

TEST(Utf, RejectsMalformedUtf8) {
  EXPECT_FALSE(utf8_to_utf16("\xC3"));              // truncated
  EXPECT_FALSE(utf8_to_utf16("\xC0\xAF"));          // overlong
  EXPECT_FALSE(utf8_to_utf16("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(utf8_to_utf16("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(utf8_to_utf16("\x80"));
  EXPECT_FALSE(utf8_to_utf16("a\xE2\x82"));
}

TEST(Utf, KeepsNulAndReplacesLoneSurrogates) {
  const auto u16 = utf8_to_utf16(std::string("a\0b", 3));
  ASSERT_TRUE(u16);
  EXPECT_EQ(u16->size(), 3u);
  EXPECT_EQ(utf16_to_utf8(std::u16string(1, char16_t(0xD800))), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace hivewarden
