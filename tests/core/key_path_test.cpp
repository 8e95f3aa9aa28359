#include "hivewarden/core/key_path.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"

namespace hivewarden {
namespace {

// A name folded (KeyPath keeps only the text as given; the matcher folds as it compares).
std::u16string folded_text(std::u16string_view in) {
  std::u16string out(in.size(), u'\0');
  fold_units(in, out.data());
  return out;
}

class KeyPathTest : public ::testing::Test {
 protected:
  PathStatus canon(std::u16string_view in, std::uint32_t control_set = 1, std::u16string_view sid = {}) {
    return canonicalize_key(in, CanonicalOptions{control_set, sid}, *path);
  }
  std::u16string text() const { return std::u16string(path->text()); }
  std::u16string folded() const { return folded_text(path->text()); }
  std::unique_ptr<KeyPath> path = std::make_unique<KeyPath>();
};

TEST_F(KeyPathTest, EveryRootAliasReachesTheKernelForm) {
  const std::u16string machine = u"\\REGISTRY\\MACHINE\\SOFTWARE\\X";
  for (const char16_t* in : {u"HKLM\\SOFTWARE\\X", u"HKEY_LOCAL_MACHINE\\SOFTWARE\\X", u"hklm\\SOFTWARE\\X",
                             u"\\REGISTRY\\MACHINE\\SOFTWARE\\X", u"\\registry\\MACHINE\\SOFTWARE\\X",
                             u"REGISTRY\\MACHINE\\SOFTWARE\\X", u"HKLM\\SOFTWARE\\X\\"}) {
    ASSERT_EQ(canon(in), PathStatus::kOk) << std::string(in, in + std::char_traits<char16_t>::length(in)).size();
    EXPECT_EQ(folded(), u"\\REGISTRY\\MACHINE\\SOFTWARE\\X");
    EXPECT_EQ(path->count, 4u);
  }
  ASSERT_EQ(canon(u"HKU\\S-1-5-18\\Software"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\USER\\S-1-5-18\\Software");
  ASSERT_EQ(canon(u"HKEY_USERS\\S-1-5-18"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\USER\\S-1-5-18");
  ASSERT_EQ(canon(u"HKCR\\.exe"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\.exe");
  ASSERT_EQ(canon(u"HKEY_CLASSES_ROOT\\.exe"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\.exe");
  ASSERT_EQ(canon(u"HKCU\\Software", 1, u"S-1-5-21-1"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\USER\\S-1-5-21-1\\Software");
  ASSERT_EQ(canon(u"HKEY_CURRENT_USER\\Software", 1, u"S-1-5-21-1"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\USER\\S-1-5-21-1\\Software");
  ASSERT_EQ(canon(u"HKCC\\Software"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Hardware Profiles\\Current\\Software");
  (void)machine;
}

TEST_F(KeyPathTest, CurrentControlSetBecomesTheActiveControlSet) {
  ASSERT_EQ(canon(u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\WinDefend");
  ASSERT_EQ(canon(u"\\REGISTRY\\MACHINE\\system\\currentcontrolset\\services", 2), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\system\\ControlSet002\\services");
  EXPECT_EQ(path->count, 5u);
  // Hashes and offsets of the moved components are those of a path written directly.
  auto direct = std::make_unique<KeyPath>();
  ASSERT_EQ(canonicalize_key(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\SERVICES", {2, {}}, *direct), PathStatus::kOk);
  ASSERT_EQ(direct->count, path->count);
  for (std::uint32_t i = 0; i < path->count; ++i) {
    EXPECT_EQ(direct->components[i].hash, path->components[i].hash) << i;
    EXPECT_EQ(folded_text(direct->display_component(i)), folded_text(path->display_component(i))) << i;
  }
  // Only right under SYSTEM: a key named CurrentControlSet elsewhere is just a name.
  ASSERT_EQ(canon(u"HKLM\\SOFTWARE\\CurrentControlSet"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SOFTWARE\\CurrentControlSet");
  ASSERT_EQ(canon(u"HKLM\\SYSTEM\\CurrentControlSet"), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001");
}

TEST_F(KeyPathTest, MalformedNamesAreInvalid) {
  EXPECT_EQ(canon(u"HKLM\\A\\\\B"), PathStatus::kInvalidName);
  EXPECT_EQ(canon(u"HKLM\\A\\\\"), PathStatus::kInvalidName);  // one trailing `\` only
  EXPECT_EQ(canon(u""), PathStatus::kInvalidName);
  EXPECT_EQ(canon(u"\\"), PathStatus::kInvalidName);
  EXPECT_EQ(canon(std::u16string(u"HKLM\\A\0B", 9)), PathStatus::kInvalidName);
  EXPECT_EQ(canon(std::u16string(u"\\REGISTRY\\MACHINE\\A\0B", 21)), PathStatus::kOk);
  EXPECT_EQ(path->components[2].length, 3u);
  EXPECT_EQ(canon(u"HKLM\\" + std::u16string(256, u'a')), PathStatus::kInvalidName);
  EXPECT_EQ(canon(u"HKLM\\" + std::u16string(255, u'a')), PathStatus::kOk);
}

TEST_F(KeyPathTest, DepthAndLengthLimits) {
  std::u16string deep = u"HKLM";
  for (int i = 0; i < 510; ++i) deep += u"\\k";
  EXPECT_EQ(canon(deep), PathStatus::kOk);
  for (int i = 0; i < 10; ++i) deep += u"\\k";
  EXPECT_EQ(canon(deep), PathStatus::kInvalidName);
  std::u16string longer = u"HKLM";
  for (int i = 0; i < 200; ++i) longer += u"\\" + std::u16string(200, u'x');
  EXPECT_EQ(canon(longer), PathStatus::kInvalidName);
}

TEST_F(KeyPathTest, UnknownRootsAndMissingSid) {
  EXPECT_EQ(canon(u"HKXX\\A"), PathStatus::kUnknownRoot);
  EXPECT_EQ(canon(u"\\HKLM\\A"), PathStatus::kUnknownRoot);
  EXPECT_EQ(canon(u"SOFTWARE\\A"), PathStatus::kUnknownRoot);
  EXPECT_EQ(canon(u"HKCU\\Software"), PathStatus::kNeedsUserSid);
}

TEST_F(KeyPathTest, ComponentsAreFoldedAndHashed) {
  ASSERT_EQ(canon(u"HKLM\\Software\\Äpfel"), PathStatus::kOk);
  EXPECT_EQ(folded_text(path->display_component(3)), u"ÄPFEL");
  EXPECT_EQ(path->display_component(3), u"Äpfel");
  EXPECT_EQ(path->components[3].hash, component_hash(u"ÄPFEL"));
}

TEST_F(KeyPathTest, RenameTargetIsParentPlusNewName) {
  ASSERT_EQ(canon(u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\X"), PathStatus::kOk);
  drop_last_component(*path);
  ASSERT_EQ(append_component(*path, u"WinDefend", false), PathStatus::kOk);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\WinDefend");
  EXPECT_EQ(append_component(*path, u"a\\b", false), PathStatus::kInvalidName);
  EXPECT_EQ(append_component(*path, u"", false), PathStatus::kInvalidName);
}

TEST_F(KeyPathTest, ComponentByComponentPathResolvesCurrentControlSetToo) {
  ASSERT_EQ(canon(u"HKLM\\SYSTEM\\ControlSet002"), PathStatus::kOk);
  drop_last_component(*path);
  ASSERT_EQ(append_component(*path, u"currentCONTROLset", false), PathStatus::kOk);
  resolve_current_control_set(*path, 3);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet003");
  EXPECT_EQ(folded(), u"\\REGISTRY\\MACHINE\\SYSTEM\\CONTROLSET003");
  EXPECT_EQ(path->components[3].hash, component_hash(u"CONTROLSET003"));
  ASSERT_EQ(append_component(*path, u"Services", false), PathStatus::kOk);  // still well formed
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet003\\Services");
  // Anywhere else the name stays.
  ASSERT_EQ(canon(u"HKLM\\SOFTWARE\\CurrentControlSet"), PathStatus::kOk);
  resolve_current_control_set(*path, 3);
  EXPECT_EQ(text(), u"\\REGISTRY\\MACHINE\\SOFTWARE\\CurrentControlSet");
}

}  // namespace
}  // namespace hivewarden
