#include "hivewarden/util/reg_types.hpp"

#include <gtest/gtest.h>

namespace hivewarden {
namespace {

TEST(RegTypes, NamesEveryTypeAndHexForOthers) {
  EXPECT_EQ(reg_type_name(reg_type::kNone), "REG_NONE");
  EXPECT_EQ(reg_type_name(reg_type::kSz), "REG_SZ");
  EXPECT_EQ(reg_type_name(reg_type::kExpandSz), "REG_EXPAND_SZ");
  EXPECT_EQ(reg_type_name(reg_type::kBinary), "REG_BINARY");
  EXPECT_EQ(reg_type_name(reg_type::kDword), "REG_DWORD");
  EXPECT_EQ(reg_type_name(reg_type::kDwordBigEndian), "REG_DWORD_BIG_ENDIAN");
  EXPECT_EQ(reg_type_name(reg_type::kLink), "REG_LINK");
  EXPECT_EQ(reg_type_name(reg_type::kMultiSz), "REG_MULTI_SZ");
  EXPECT_EQ(reg_type_name(reg_type::kQword), "REG_QWORD");
  EXPECT_EQ(reg_type_name(8), "REG_0x8");  // REG_RESOURCE_LIST: no name here
  EXPECT_EQ(reg_type_name(0xFFFFFFFFu), "REG_0xffffffff");
}

TEST(RegTypes, WinntNumbers) {  // winnt.h; a wrong number would store data under another type
  EXPECT_EQ(reg_type::kSz, 1u);
  EXPECT_EQ(reg_type::kDword, 4u);
  EXPECT_EQ(reg_type::kLink, 6u);
  EXPECT_EQ(reg_type::kMultiSz, 7u);
  EXPECT_EQ(reg_type::kQword, 11u);
}

TEST(RegTypes, ByNameInEverySpellingRunAccepted) {
  const struct {
    const char* text;
    std::uint32_t type;
  } cases[] = {{"REG_DWORD", reg_type::kDword},
               {"dword", reg_type::kDword},
               {"Reg_Dword", reg_type::kDword},
               {"multi-sz", reg_type::kMultiSz},
               {"multi_sz", reg_type::kMultiSz},
               {"REG_MULTI_SZ", reg_type::kMultiSz},
               {"reg_multi-sz", reg_type::kMultiSz},
               {"none", reg_type::kNone},
               {"dword-big-endian", reg_type::kDwordBigEndian},
               {"REG_QWORD", reg_type::kQword}};
  for (const auto& c : cases) {
    std::uint32_t type = 99;
    EXPECT_TRUE(reg_type_by_name(c.text, type)) << c.text;
    EXPECT_EQ(type, c.type) << c.text;
  }
}

TEST(RegTypes, ByNameRefusesOtherText) {
  for (const char* text :
       {"", "REG_", "reg-sz", "REG_REG_SZ", "sz ", " sz", "word", "REG_0x1", "1", "dwordx"}) {
    std::uint32_t type = 99;
    EXPECT_FALSE(reg_type_by_name(text, type)) << text;
    EXPECT_EQ(type, 99u) << text;
  }
  std::uint32_t type = 99;
  EXPECT_FALSE(reg_type_by_name(std::string_view("sz\0", 3), type));  // an embedded NUL
}

TEST(RegTypes, NameAndByNameAgree) {
  for (std::uint32_t t = 0; t < 16; ++t) {
    const std::string name = reg_type_name(t);
    std::uint32_t back = 99;
    if (name.rfind("REG_0x", 0) == 0) {
      EXPECT_FALSE(reg_type_by_name(name, back)) << name;
    } else {
      EXPECT_TRUE(reg_type_by_name(name, back)) << name;
      EXPECT_EQ(back, t);
    }
  }
}

}  // namespace
}  // namespace hivewarden
