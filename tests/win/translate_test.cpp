// The driver's translation of callbacks, run on Linux with structures built here.
#include "hivewarden/win/translate.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hivewarden::win {
namespace {

// Key objects are just addresses: the fake kernel knows their names.
struct FakeKernel {
  std::map<void*, std::u16string> names;
  std::map<std::u16string, bool> existing;
  static bool name_of(void* self, void* object, std::u16string_view& name) {
    auto& k = *static_cast<FakeKernel*>(self);
    auto it = k.names.find(object);
    if (it == k.names.end()) return false;
    name = it->second;
    return true;
  }
  static bool exists(void* self, std::u16string_view full) {
    auto& k = *static_cast<FakeKernel*>(self);
    return k.existing.count(std::u16string(full)) > 0;
  }
  KeySource source() { return {&FakeKernel::name_of, &FakeKernel::exists, this}; }
};

UnicodeString us(std::u16string& s) {
  return {static_cast<std::uint16_t>(s.size() * 2), static_cast<std::uint16_t>(s.size() * 2), s.data()};
}

class Translate : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel.names[&key_object] = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender";
    kernel.names[&root_object] = u"\\REGISTRY\\MACHINE\\SOFTWARE";
    kernel.existing[u"\\REGISTRY\\MACHINE\\SOFTWARE\\Existing"] = true;
  }
  FakeKernel kernel;
  int key_object = 0, root_object = 0, unknown_object = 0;
  char16_t buffer[512];
  Translation t;
};

TEST_F(Translate, SetValueCarriesNameTypeAndData) {
  std::u16string value = u"DisableAntiSpyware";
  UnicodeString name = us(value);
  std::uint32_t data = 1;
  RegSetValueKeyInformation info{&key_object, &name, 0, 4, &data, 4, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreSetValueKey, &info, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kSetValue);
  EXPECT_EQ(t.key, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender");
  EXPECT_EQ(t.value, u"DisableAntiSpyware");
  EXPECT_EQ(t.value_type, 4u);
  EXPECT_EQ(t.data_size, 4u);
  EXPECT_EQ(*static_cast<const std::uint32_t*>(t.data), 1u);
}

TEST_F(Translate, CreateRelativeToItsRootIsComposed) {
  std::u16string rel = u"Existing";
  UnicodeString name = us(rel);
  RegCreateKeyInformationV1 info{};
  info.CompleteName = &name;
  info.RootObject = &root_object;
  ASSERT_EQ(translate_pre(notify_class::kPreCreateKeyEx, &info, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kCreateKey);
  EXPECT_EQ(t.key, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Existing");
  EXPECT_TRUE(t.key_exists);
  std::u16string abs = u"\\REGISTRY\\MACHINE\\SOFTWARE\\New";
  name = us(abs);
  ASSERT_EQ(translate_pre(notify_class::kPreCreateKeyEx, &info, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.key, abs);
  EXPECT_FALSE(t.key_exists);
  // A composed name that does not fit the buffer is refused, not truncated.
  name = us(rel);
  EXPECT_EQ(translate_pre(notify_class::kPreCreateKeyEx, &info, kernel.source(), buffer, 10, t), TranslateStatus::kTooLong);
}

TEST_F(Translate, EveryKeyOperation) {
  RegDeleteKeyInformation del{&key_object, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreDeleteKey, &del, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kDeleteKey);
  std::u16string nn = u"Moved";
  UnicodeString new_name = us(nn);
  RegRenameKeyInformation ren{&key_object, &new_name, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreRenameKey, &ren, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kRenameKey);
  EXPECT_EQ(t.new_name, u"Moved");
  RegRestoreKeyInformation res{&key_object, nullptr, 0, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreRestoreKey, &res, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kRestoreKey);
  RegReplaceKeyInformation rep{&key_object, nullptr, nullptr, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreReplaceKey, &rep, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kReplaceKey);
  std::u16string v = u"Gone";
  UnicodeString vn = us(v);
  RegDeleteValueKeyInformation dv{&key_object, &vn, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreDeleteValueKey, &dv, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kDeleteValue);
  EXPECT_EQ(t.value, u"Gone");
  RegQueryValueKeyInformation qv{&key_object, &vn, 0, nullptr, 0, nullptr, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_pre(notify_class::kPreQueryValueKey, &qv, kernel.source(), buffer, 512, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kQueryValue);
}

TEST_F(Translate, UnknownObjectsAndClassesFailClosedOrPass) {
  RegDeleteKeyInformation del{&unknown_object, nullptr, nullptr, nullptr};
  EXPECT_EQ(translate_pre(notify_class::kPreDeleteKey, &del, kernel.source(), buffer, 512, t), TranslateStatus::kNoName);
  EXPECT_EQ(translate_pre(notify_class::kPreDeleteKey, nullptr, kernel.source(), buffer, 512, t), TranslateStatus::kBadArgument);
  EXPECT_EQ(translate_pre(0x03 /* RegNtPreSetInformationKey */, &del, kernel.source(), buffer, 512, t), TranslateStatus::kIgnored);
  RegRenameKeyInformation ren{&key_object, nullptr, nullptr, nullptr, nullptr};
  EXPECT_EQ(translate_pre(notify_class::kPreRenameKey, &ren, kernel.source(), buffer, 512, t), TranslateStatus::kBadArgument);
}

TEST_F(Translate, PostOperationsCarryTheirOutcome) {
  RegPostOperationInformation post{&key_object, 0, nullptr, 0, nullptr, nullptr, nullptr};
  ASSERT_EQ(translate_post(notify_class::kPostSetValueKey, &post, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kSetValue);
  EXPECT_TRUE(t.success);
  post.Status = static_cast<std::int32_t>(0xC0000022u);
  ASSERT_EQ(translate_post(notify_class::kPostCreateKeyEx, &post, t), TranslateStatus::kOk);
  EXPECT_EQ(t.op, Operation::kCreateKey);
  EXPECT_FALSE(t.success);
  EXPECT_EQ(translate_post(notify_class::kPreSetValueKey, &post, t), TranslateStatus::kIgnored);
}

TEST_F(Translate, OddByteLengthIsCutToWholeUnits) {
  std::u16string s = u"abc";
  UnicodeString odd{5, 6, s.data()};
  EXPECT_EQ(view_of(&odd), u"ab");
  EXPECT_EQ(view_of(nullptr), u"");
}

}  // namespace
}  // namespace hivewarden::win
