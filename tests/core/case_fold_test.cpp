#include "hivewarden/core/case_fold.hpp"

#include <gtest/gtest.h>

namespace hivewarden {
namespace {

TEST(CaseFold, AsciiLettersFoldToUpperCase) {
  EXPECT_EQ(fold_unit(u'a'), u'A');
  EXPECT_EQ(fold_unit(u'z'), u'Z');
  EXPECT_EQ(fold_unit(u'A'), u'A');
  EXPECT_EQ(fold_unit(u'0'), u'0');
  EXPECT_EQ(fold_unit(u'\\'), u'\\');
  EXPECT_EQ(fold_unit(u'_'), u'_');
}

TEST(CaseFold, NonAsciiSimpleMappings) {
  EXPECT_EQ(fold_unit(u'\u00E4'), u'\u00C4');  // ä -> Ä
  EXPECT_EQ(fold_unit(u'\u03B1'), u'\u0391');  // α -> Α
  EXPECT_EQ(fold_unit(u'\u0436'), u'\u0416');  // ж -> Ж
  EXPECT_EQ(fold_unit(u'\uFF41'), u'\uFF21');  // fullwidth a -> fullwidth A
}

TEST(CaseFold, CoarserThanUpcaseSoVariantsCannotSlipThrough) {
  // KELVIN SIGN and LATIN CAPITAL K name the same key for a case-insensitive comparison that goes
  // through lower case: both must fold alike.
  EXPECT_EQ(fold_unit(u'\u212A'), fold_unit(u'k'));
  EXPECT_EQ(fold_unit(u'\u017F'), fold_unit(u's'));  // LONG S
  EXPECT_TRUE(equal_folded(u"\u212Aey", u"KEY"));
}

TEST(CaseFold, FullMappingsAreNotApplied) {
  EXPECT_EQ(fold_unit(u'\u00DF'), u'\u00DF');  // ß has no one-unit upper case
}

TEST(CaseFold, SurrogatesMapToThemselves) {
  for (char16_t u = 0xD800; u <= 0xDFFF && u >= 0xD800; ++u) ASSERT_EQ(fold_unit(u), u);
}

TEST(CaseFold, FoldIsIdempotentForEveryUnit) {
  for (std::uint32_t u = 0; u <= 0xFFFF; ++u) {
    const char16_t f = fold_unit(static_cast<char16_t>(u));
    ASSERT_EQ(fold_unit(f), f) << std::hex << u;
  }
}

TEST(CaseFold, EqualFoldedComparesWholeNames) {
  EXPECT_TRUE(equal_folded(u"Windows Defender", u"WINDOWS defender"));
  EXPECT_FALSE(equal_folded(u"WinDefend", u"WinDefendX"));
  EXPECT_FALSE(equal_folded(u"abc", u"abd"));
  EXPECT_TRUE(is_folded(u"ABC"));
  EXPECT_FALSE(is_folded(u"aBC"));
}

}  // namespace
}  // namespace hivewarden
