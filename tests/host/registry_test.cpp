#include "hivewarden/host/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hivewarden/core/case_fold.hpp"

namespace hivewarden::host {
namespace {

TEST(Registry, RealOutcomesOfEachOperation) {
  Registry r;
  bool created = false;
  ASSERT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\SOFTWARE", created), Status::kSuccess);
  EXPECT_TRUE(created);
  ASSERT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\software", created), Status::kSuccess);
  EXPECT_FALSE(created);  // an open, case-insensitive
  EXPECT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\Missing\\Child", created),
            Status::kObjectNameNotFound);
  ASSERT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Äpfel", created), Status::kSuccess);
  EXPECT_TRUE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\äPFEL"));
  EXPECT_EQ(r.delete_key(u"\\REGISTRY\\MACHINE\\SOFTWARE"), Status::kCannotDelete);  // has subkeys
  ASSERT_EQ(r.set_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Äpfel", u"Count", 4,
                        std::string("\x01\0\0\0", 4)),
            Status::kSuccess);
  Value v;
  ASSERT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\äpfel", u"COUNT", v), Status::kSuccess);
  EXPECT_EQ(v.name, u"Count");  // case preserved
  EXPECT_EQ(v.type, 4u);
  EXPECT_EQ(r.delete_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Äpfel", u"Nope"),
            Status::kObjectNameNotFound);
  EXPECT_EQ(r.delete_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Äpfel", u"count"), Status::kSuccess);
  ASSERT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Birnen", created), Status::kSuccess);
  EXPECT_EQ(r.rename_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Birnen", u"ÄPFEL"),
            Status::kObjectNameCollision);
  EXPECT_EQ(r.rename_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Birnen", u"Pflaumen"), Status::kSuccess);
  EXPECT_TRUE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Pflaumen"));
  EXPECT_FALSE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Birnen"));
  EXPECT_EQ(r.delete_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Pflaumen"), Status::kSuccess);
  EXPECT_EQ(r.delete_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Pflaumen"), Status::kObjectNameNotFound);
}

TEST(Registry, KeysStopAtWindowsNameAndDepthLimits) {
  Registry r;
  bool created = false;
  const std::u16string long_name(kMaxKeyNameLength + 1, u'n');
  EXPECT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\" + long_name, created), Status::kNameTooLong);
  EXPECT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\" + long_name.substr(1), created),
            Status::kSuccess);
  std::u16string path = u"\\REGISTRY\\MACHINE";
  for (std::size_t level = 1; level <= kMaxKeyDepth; ++level) {
    path += u"\\d";
    ASSERT_EQ(r.create_key(path, created), Status::kSuccess) << level;
  }
  // One level more would make a tree that exports and copies recurse without bound.
  EXPECT_EQ(r.create_key(path + u"\\d", created), Status::kNameTooLong);
  EXPECT_EQ(r.key_count(), 2u + 1u + 1u + kMaxKeyDepth);
}

TEST(Registry, RestoringATreeBelowItselfCannotGrowPastTheDepthLimit) {
  Registry r;
  std::size_t created = 0;
  std::u16string path = u"\\REGISTRY\\MACHINE\\T";
  for (int level = 0; level < 200; ++level) path += u"\\n";
  ASSERT_EQ(r.create_key_path(path, created), Status::kSuccess);
  Subtree saved;
  ASSERT_EQ(r.save_key(u"\\REGISTRY\\MACHINE\\T", saved), Status::kSuccess);
  // 203 + 200 levels fit; the next restore of a 400-level tree under the 403rd level does not.
  ASSERT_EQ(r.restore_key(path, *saved), Status::kSuccess);
  ASSERT_EQ(r.save_key(u"\\REGISTRY\\MACHINE\\T", saved), Status::kSuccess);
  const std::size_t keys = r.key_count();
  std::u16string deepest = path;
  for (int level = 0; level < 200; ++level) deepest += u"\\n";
  ASSERT_TRUE(r.key_exists(deepest));
  EXPECT_EQ(r.restore_key(deepest, *saved), Status::kNameTooLong);
  EXPECT_EQ(r.key_count(), keys);  // nothing changed
}

TEST(Registry, CreateKeyPathMakesEveryMissingParentInOneWalk) {
  Registry r;
  std::size_t created = 0;
  ASSERT_EQ(r.create_key_path(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\App", created),
            Status::kSuccess);
  EXPECT_EQ(created, 3u);
  ASSERT_EQ(r.create_key_path(u"\\REGISTRY\\MACHINE\\software\\VENDOR\\App\\Sub", created),
            Status::kSuccess);
  EXPECT_EQ(created, 1u);
  EXPECT_TRUE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\App\\Sub"));
  EXPECT_EQ(r.create_key_path(u"\\Elsewhere\\MACHINE", created), Status::kObjectNameNotFound);
  std::u16string deep = u"\\REGISTRY\\USER";
  for (std::size_t level = 0; level <= kMaxKeyDepth; ++level) deep += u"\\d";
  EXPECT_EQ(r.create_key_path(deep, created), Status::kNameTooLong);
  EXPECT_EQ(created, kMaxKeyDepth);  // every level up to the limit was made
}

TEST(Registry, DoubledAndTrailingSeparatorsNameTheSameKey) {
  Registry r;
  bool created = false;
  ASSERT_EQ(r.create_key(u"\\REGISTRY\\MACHINE\\SOFTWARE", created), Status::kSuccess);
  ASSERT_EQ(r.create_key(u"\\REGISTRY\\\\MACHINE\\SOFTWARE\\\\Vendor\\", created),
            Status::kSuccess);
  EXPECT_TRUE(created);
  EXPECT_TRUE(r.key_exists(u"\\REGISTRY\\MACHINE\\software\\VENDOR"));
  std::u16string resolved;
  bool exists = false;
  ASSERT_EQ(r.resolve(u"\\REGISTRY\\MACHINE\\SOFTWARE\\\\New", resolved, exists), Status::kSuccess);
  EXPECT_FALSE(exists);
  EXPECT_EQ(r.resolve(u"\\REGISTRY\\MACHINE\\Nope\\New", resolved, exists),
            Status::kObjectNameNotFound);
  EXPECT_EQ(r.delete_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\"), Status::kSuccess);
  EXPECT_FALSE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor"));
  EXPECT_EQ(r.delete_key(u"\\REGISTRY\\\\MACHINE\\"), Status::kCannotDelete);
}

TEST(Registry, SaveAndRestoreReplaceASubtree) {
  Registry r;
  bool c;
  r.create_key(u"\\REGISTRY\\MACHINE\\A", c);
  r.create_key(u"\\REGISTRY\\MACHINE\\A\\Old", c);
  r.create_key(u"\\REGISTRY\\MACHINE\\B", c);
  r.create_key(u"\\REGISTRY\\MACHINE\\B\\New", c);
  r.set_value(u"\\REGISTRY\\MACHINE\\B\\New", u"V", 1, std::string("x\0\0\0", 4));
  Subtree saved;
  ASSERT_EQ(r.save_key(u"\\REGISTRY\\MACHINE\\B", saved), Status::kSuccess);
  ASSERT_EQ(r.restore_key(u"\\REGISTRY\\MACHINE\\A", *saved), Status::kSuccess);
  EXPECT_FALSE(r.key_exists(u"\\REGISTRY\\MACHINE\\A\\Old"));
  Value v;
  EXPECT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\A\\New", u"V", v), Status::kSuccess);
}

TEST(Registry, SymbolicLinksResolveAndLoopsAreRefused) {
  Registry r;
  bool c;
  r.create_key(u"\\REGISTRY\\MACHINE\\SYSTEM", c);
  r.create_key(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001", c);
  r.create_key(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services", c);
  r.create_key(u"\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet", c, /*link=*/true);
  const std::u16string target = u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001";
  r.set_value(u"\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet", u"SymbolicLinkValue", 6,
              std::string(reinterpret_cast<const char*>(target.data()), target.size() * 2));
  std::u16string resolved;
  bool exists = false;
  ASSERT_EQ(
      r.resolve(u"\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services", resolved, exists),
      Status::kSuccess);
  EXPECT_EQ(resolved, u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services");
  EXPECT_TRUE(exists);
  ASSERT_EQ(r.resolve(u"\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\New", resolved, exists),
            Status::kSuccess);
  EXPECT_FALSE(exists);
  r.create_key(u"\\REGISTRY\\MACHINE\\Loop", c, true);
  const std::u16string self = u"\\REGISTRY\\MACHINE\\Loop";
  r.set_value(self, u"SymbolicLinkValue", 6,
              std::string(reinterpret_cast<const char*>(self.data()), self.size() * 2));
  EXPECT_EQ(r.resolve(u"\\REGISTRY\\MACHINE\\Loop\\X", resolved, exists), Status::kReparseLoop);
}

// Subkeys live in a hash table by folded name: every case variant of every name finds its key
// (names of every length around the hash's four-unit words, non-ASCII ones too), none finds
// another's, and walk() still visits subkeys in folded-name order.
TEST(Registry, SubkeyLookupIgnoresCaseAtEveryLengthAndWalkKeepsFoldedOrder) {
  Registry r;
  const std::u16string root = u"\\REGISTRY\\MACHINE\\SOFTWARE";
  bool created = false;
  ASSERT_EQ(r.create_key(root, created), Status::kSuccess);
  std::vector<std::u16string> names;
  for (std::size_t length = 1; length <= 13; ++length) {
    for (const char16_t first : {u'z', u'a', u'\u00e4', u'm'}) {
      std::u16string name(length, u'q');
      name[0] = first;
      names.push_back(name);
    }
  }
  for (const auto& n : names) ASSERT_EQ(r.create_key(root + u"\\" + n, created), Status::kSuccess);
  for (const auto& n : names) {
    std::u16string upper(n.size(), u'\0');
    fold_units(n, upper.data());
    EXPECT_TRUE(r.key_exists(root + u"\\" + upper));
    ASSERT_EQ(r.create_key(root + u"\\" + upper, created), Status::kSuccess);
    EXPECT_FALSE(created);  // an open of the same key
  }
  EXPECT_FALSE(r.key_exists(root + u"\\" + std::u16string(14, u'q')));
  EXPECT_FALSE(r.key_exists(root + u"\\qq\u00e4"));
  std::vector<std::u16string> walked;
  r.walk([&](const std::u16string& path, const Key&) {
    if (path.size() > root.size() && path.compare(0, root.size(), root) == 0)
      walked.push_back(fold(path.substr(root.size() + 1)));
  });
  ASSERT_EQ(walked.size(), names.size());
  EXPECT_TRUE(std::is_sorted(walked.begin(), walked.end()));
}

}  // namespace
}  // namespace hivewarden::host
