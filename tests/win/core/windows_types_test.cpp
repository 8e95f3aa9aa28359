// Built only into the Windows core tests (src/win/cross/core_tests): proves the run is on
// Windows' type sizes, so a pass of tests/core there means the same decisions under LLP64 with a
// 16-bit wchar_t, not a second run of the Linux model.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/key_path.hpp"

namespace hivewarden {
namespace {

TEST(WindowsTypes, TheRunIsLlp64WithA16BitWcharT) {
#if !defined(_WIN64) || defined(__LP64__)
  ADD_FAILURE() << "not built for 64-bit Windows (LLP64)";
#endif
  EXPECT_EQ(sizeof(wchar_t), 2u);
  EXPECT_EQ(sizeof(long), 4u);
  EXPECT_EQ(sizeof(unsigned long), 4u);
  EXPECT_EQ(sizeof(long long), 8u);
  EXPECT_EQ(sizeof(void*), 8u);
  EXPECT_EQ(sizeof(std::size_t), 8u);
  EXPECT_EQ(sizeof(wchar_t), sizeof(char16_t));
}

// Windows hands key names over as WCHAR text (UNICODE_STRING's Buffer): read as char16_t it is the
// same key the core canonicalises from u"" text, surrogate pair and all.
TEST(WindowsTypes, AWideKeyNameIsTheSameKeyAsItsUtf16Text) {
  const std::wstring wide = L"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\\U0001F600";
  const std::u16string_view as_utf16(reinterpret_cast<const char16_t*>(wide.data()), wide.size());
  auto from_wide = std::make_unique<KeyPath>();
  auto from_utf16 = std::make_unique<KeyPath>();
  ASSERT_EQ(canonicalize_key(as_utf16, CanonicalOptions{1, {}}, *from_wide), PathStatus::kOk);
  ASSERT_EQ(canonicalize_key(u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\\U0001F600",
                             CanonicalOptions{1, {}}, *from_utf16),
            PathStatus::kOk);
  EXPECT_EQ(from_wide->text(), from_utf16->text());
  std::u16string folded(from_wide->length, u'\0');
  fold_units(from_wide->text(), folded.data());
  EXPECT_EQ(folded,
            u"\\REGISTRY\\MACHINE\\SOFTWARE\\POLICIES\\MICROSOFT\\WINDOWS DEFENDER\\\U0001F600");
  EXPECT_EQ(wide.size(), 52u);  // the emoji is two UTF-16 units, as on Windows
}

}  // namespace
}  // namespace hivewarden
