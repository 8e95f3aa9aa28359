#include "hivewarden/core/glob.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hivewarden {
namespace {

TEST(Glob, LiteralsAndWildcards) {
  EXPECT_TRUE(glob_match(u"ABC", u"ABC"));
  EXPECT_FALSE(glob_match(u"ABC", u"ABCD"));
  EXPECT_TRUE(glob_match(u"A*", u"A"));
  EXPECT_TRUE(glob_match(u"A*", u"ABCD"));
  EXPECT_TRUE(glob_match(u"*D", u"ABCD"));
  EXPECT_TRUE(glob_match(u"A*C*E", u"ABCDE"));
  EXPECT_FALSE(glob_match(u"A*C*E", u"ABCDF"));
  EXPECT_TRUE(glob_match(u"?B?", u"ABC"));
  EXPECT_FALSE(glob_match(u"?B?", u"AB"));
  EXPECT_TRUE(glob_match(u"*", u""));
  EXPECT_FALSE(glob_match(u"?", u""));
  EXPECT_TRUE(glob_match(u"", u""));
  EXPECT_FALSE(glob_match(u"", u"A"));
}

TEST(Glob, SeparatorStopsStarAndQuestionMark) {
  EXPECT_TRUE(glob_match(u"C:\\*\\X.EXE", u"C:\\DIR\\X.EXE", u'\\'));
  EXPECT_FALSE(glob_match(u"C:\\*\\X.EXE", u"C:\\A\\B\\X.EXE", u'\\'));
  EXPECT_FALSE(glob_match(u"C:?X", u"C:\\X", u'\\'));
  EXPECT_TRUE(glob_match(u"C:*X", u"C:\\X"));  // no separator given: `*` crosses anything
}

TEST(Glob, HostilePatternStaysPolynomial) {
  const std::u16string text(2000, u'A');
  std::u16string pattern;
  for (int i = 0; i < 50; ++i) pattern += u"*A";
  pattern += u"B";
  EXPECT_FALSE(glob_match(pattern, text));
}

}  // namespace
}  // namespace hivewarden
