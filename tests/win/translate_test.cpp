// The driver's translation of callbacks into the core's OperationRequest, run on Linux with
// structures built here.
#include "hivewarden/win/translate.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "../support/fake_kernel.hpp"

namespace hivewarden::win {
namespace {

using test::FakeKernel;

UnicodeString us(std::u16string& s) {
  return {static_cast<std::uint16_t>(s.size() * 2), static_cast<std::uint16_t>(s.size() * 2),
          s.data()};
}

std::u16string text(const KeyPath* path) {
  return path == nullptr ? u"<null>" : std::u16string(path->text());
}

const std::u16string kDefender = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender";

class Translate : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel.names[&key_object] = kDefender;
    kernel.names[&root_object] = u"\\REGISTRY\\MACHINE\\SOFTWARE";
    kernel.names[&control_set_object] = u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services";
    kernel.existing[u"\\REGISTRY\\MACHINE\\SOFTWARE\\Existing"] = true;
  }
  TranslateStatus pre(std::uint32_t cls, const void* info) {
    return translate_pre(cls, info, kernel.source(), options, *scratch, r);
  }
  FakeKernel kernel;
  CanonicalOptions options;
  int key_object = 0, root_object = 0, control_set_object = 0, unknown_object = 0;
  std::unique_ptr<TranslateScratch> scratch = std::make_unique<TranslateScratch>();
  OperationRequest r;
};

TEST_F(Translate, SetValueFillsTheRequestWithCanonicalKeyNameTypeAndData) {
  std::u16string value = u"DisableAntiSpyware";
  UnicodeString name = us(value);
  std::uint32_t data = 1;
  RegSetValueKeyInformation info{&key_object, &name, 0, 4, &data, 4, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreSetValueKey, &info), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kSetValue);
  ASSERT_NE(r.key, nullptr);
  EXPECT_EQ(r.key, &scratch->keys.key);  // canonicalised once, into the caller's keys
  EXPECT_EQ(text(r.key), kDefender);
  EXPECT_TRUE(r.key->native_form);
  EXPECT_FALSE(r.names_from_win32);
  EXPECT_EQ(r.new_key, nullptr);
  EXPECT_EQ(r.value, u"DisableAntiSpyware");
  EXPECT_TRUE(r.has_data);
  EXPECT_EQ(r.type, 4u);
  ASSERT_EQ(r.data.size(), 4u);
  EXPECT_EQ(r.data.data(), reinterpret_cast<const char*>(&data));
}

TEST_F(Translate, SetValueWithoutDataBufferIsMalformedUnlessEmpty) {
  std::u16string value = u"V";
  UnicodeString name = us(value);
  RegSetValueKeyInformation info{&key_object, &name, 0, 3, nullptr, 8, nullptr, nullptr, nullptr};
  EXPECT_EQ(pre(notify_class::kPreSetValueKey, &info), TranslateStatus::kBadArgument);
  info.DataSize = 0;
  ASSERT_EQ(pre(notify_class::kPreSetValueKey, &info), TranslateStatus::kOk);
  EXPECT_TRUE(r.has_data);
  EXPECT_TRUE(r.data.empty());
}

TEST_F(Translate, CreateRelativeToItsRootIsComposedAndAskedWhetherItExists) {
  std::u16string rel = u"Existing";
  UnicodeString name = us(rel);
  RegCreateKeyInformationV1 info{};
  info.CompleteName = &name;
  info.RootObject = &root_object;
  ASSERT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kCreateKey);
  EXPECT_EQ(text(r.key), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Existing");
  EXPECT_TRUE(r.key_exists);
  EXPECT_FALSE(r.creates_link);
  // An absolute name ignores the root.
  std::u16string abs = u"\\REGISTRY\\MACHINE\\SOFTWARE\\New";
  name = us(abs);
  ASSERT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kOk);
  EXPECT_EQ(text(r.key), abs);
  EXPECT_FALSE(r.key_exists);
  // A relative name needs a root the kernel can name.
  name = us(rel);
  info.RootObject = nullptr;
  EXPECT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kBadArgument);
  info.RootObject = &unknown_object;
  EXPECT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kNoName);
}

TEST_F(Translate, CreateCarriesTheLinkOptions) {
  std::u16string abs = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Link";
  UnicodeString name = us(abs);
  RegCreateKeyInformationV1 info{};
  info.CompleteName = &name;
  info.Options = 0x2;  // REG_OPTION_CREATE_LINK
  ASSERT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kOk);
  EXPECT_TRUE(r.creates_link);
  EXPECT_FALSE(r.open_link);
  info.Options = 0x8;  // REG_OPTION_OPEN_LINK
  ASSERT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kOk);
  EXPECT_FALSE(r.creates_link);
  EXPECT_TRUE(r.open_link);
}

TEST_F(Translate, AComposedNameLongerThanAnyRegistryNameIsRefusedNotTruncated) {
  std::u16string root(kMaxPathUnits - 4, u'r');
  root.replace(0, 18, u"\\REGISTRY\\MACHINE\\");
  kernel.names[&root_object] = root;
  std::u16string rel = u"Fits";  // root + '\' + 4 units: one over
  UnicodeString name = us(rel);
  RegCreateKeyInformationV1 info{};
  info.CompleteName = &name;
  info.RootObject = &root_object;
  EXPECT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kTooLong);
  EXPECT_EQ(kernel.exists_calls, 0);
  rel = u"Fit";  // exactly kMaxPathUnits: composed, then judged by the canonicaliser
  name = us(rel);
  ASSERT_EQ(pre(notify_class::kPreCreateKeyEx, &info), TranslateStatus::kOk);
  EXPECT_EQ(r.key, nullptr);  // a 32 KiB component is over the registry's limit: invalid-name
}

TEST_F(Translate, AnInvalidNameIsLeftNullForTheEngineToDeny) {
  kernel.names[&key_object] = u"\\REGISTRY\\MACHINE\\SOFTWARE\\\\Empty";  // empty component
  RegDeleteKeyInformation del{&key_object, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreDeleteKey, &del), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kDeleteKey);
  EXPECT_EQ(r.key, nullptr);
  kernel.names[&key_object] = u"\\REGISTRY\\MACHINE\\SOFTWARE\\" + std::u16string(256, u'x');
  ASSERT_EQ(pre(notify_class::kPreDeleteKey, &del), TranslateStatus::kOk);
  EXPECT_EQ(r.key, nullptr);
}

TEST_F(Translate, ANameOutsideTheRegistryIsNotDecidable) {
  kernel.names[&key_object] = u"\\Device\\Key";
  RegDeleteKeyInformation del{&key_object, nullptr, nullptr, nullptr};
  EXPECT_EQ(pre(notify_class::kPreDeleteKey, &del), TranslateStatus::kUnknownRoot);
  EXPECT_EQ(r.key, nullptr);
  // An application hive is under \REGISTRY: decided (no policy entry can name it).
  kernel.names[&key_object] = u"\\REGISTRY\\A\\{app-hive}\\Key";
  ASSERT_EQ(pre(notify_class::kPreDeleteKey, &del), TranslateStatus::kOk);
  EXPECT_EQ(text(r.key), u"\\REGISTRY\\A\\{app-hive}\\Key");
  // So is a container's (silo) hive: writes there are decided, and no policy entry matches them.
  kernel.names[&key_object] = u"\\REGISTRY\\WC\\Silo0123user_S-1-5-18\\Key";
  ASSERT_EQ(pre(notify_class::kPreDeleteKey, &del), TranslateStatus::kOk);
  EXPECT_EQ(text(r.key), u"\\REGISTRY\\WC\\Silo0123user_S-1-5-18\\Key");
}

TEST_F(Translate, RenameTargetIsTheParentPlusTheNewNameCanonical) {
  std::u16string nn = u"Moved";
  UnicodeString new_name = us(nn);
  RegRenameKeyInformation ren{&key_object, &new_name, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreRenameKey, &ren), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kRenameKey);
  EXPECT_EQ(r.new_name, u"Moved");
  EXPECT_EQ(text(r.key), kDefender);
  EXPECT_EQ(r.new_key, &scratch->keys.new_key);
  EXPECT_EQ(text(r.new_key), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Moved");
  // Renamed to CurrentControlSet right below SYSTEM: the active control set (SPEC §6).
  kernel.names[&key_object] = u"\\REGISTRY\\MACHINE\\SYSTEM\\Staging";
  nn = u"CurrentControlSet";
  new_name = us(nn);
  options.control_set = 2;
  ASSERT_EQ(pre(notify_class::kPreRenameKey, &ren), TranslateStatus::kOk);
  EXPECT_EQ(text(r.new_key), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002");
  // A new name with a backslash has no target: the engine denies it, invalid-name.
  nn = u"a\\b";
  new_name = us(nn);
  ASSERT_EQ(pre(notify_class::kPreRenameKey, &ren), TranslateStatus::kOk);
  EXPECT_NE(r.key, nullptr);
  EXPECT_EQ(r.new_key, nullptr);
  // No new name at all is a malformed structure.
  ren.NewName = nullptr;
  EXPECT_EQ(pre(notify_class::kPreRenameKey, &ren), TranslateStatus::kBadArgument);
  nn.clear();
  new_name = us(nn);
  ren.NewName = &new_name;
  EXPECT_EQ(pre(notify_class::kPreRenameKey, &ren), TranslateStatus::kBadArgument);
}

TEST_F(Translate, EveryOtherClassFillsItsOperationKeyAndNames) {
  RegDeleteKeyInformation del{&key_object, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreDeleteKey, &del), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kDeleteKey);
  EXPECT_EQ(text(r.key), kDefender);
  RegRestoreKeyInformation res{&control_set_object, nullptr, 0, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreRestoreKey, &res), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kRestoreKey);
  EXPECT_EQ(text(r.key), u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services");
  std::u16string file = u"\\??\\C:\\evil.hiv";
  UnicodeString file_name = us(file);
  RegReplaceKeyInformation rep{&key_object, nullptr, &file_name, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreReplaceKey, &rep), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kReplaceKey);
  EXPECT_EQ(r.file, file);
  EXPECT_EQ(text(r.key), kDefender);
  std::u16string v = u"Gone";
  UnicodeString vn = us(v);
  RegDeleteValueKeyInformation dv{&key_object, &vn, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreDeleteValueKey, &dv), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kDeleteValue);
  EXPECT_EQ(r.value, u"Gone");
  EXPECT_FALSE(r.has_data);
  EXPECT_EQ(text(r.key), kDefender);
  RegQueryValueKeyInformation qv{&key_object, &vn,     0,       nullptr, 0,
                                 nullptr,     nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreQueryValueKey, &qv), TranslateStatus::kOk);
  EXPECT_EQ(r.op, Operation::kQueryValue);
  EXPECT_EQ(r.value, u"Gone");
  EXPECT_EQ(text(r.key), kDefender);
}

TEST_F(Translate, NullAndUnnamedObjectsOfEveryClassAreRefused) {
  RegDeleteKeyInformation del{nullptr, nullptr, nullptr, nullptr};
  RegSetValueKeyInformation set{nullptr, nullptr, 0, 0, nullptr, 0, nullptr, nullptr, nullptr};
  RegDeleteValueKeyInformation dv{nullptr, nullptr, nullptr, nullptr, nullptr};
  RegQueryValueKeyInformation qv{nullptr, nullptr, 0,       nullptr, 0,
                                 nullptr, nullptr, nullptr, nullptr};
  std::u16string nn = u"N";
  UnicodeString new_name = us(nn);
  RegRenameKeyInformation ren{nullptr, &new_name, nullptr, nullptr, nullptr};
  RegRestoreKeyInformation res{nullptr, nullptr, 0, nullptr, nullptr, nullptr};
  RegReplaceKeyInformation rep{nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  const struct {
    std::uint32_t cls;
    void** object;
    const void* info;
  } cases[] = {{notify_class::kPreDeleteKey, &del.Object, &del},
               {notify_class::kPreSetValueKey, &set.Object, &set},
               {notify_class::kPreDeleteValueKey, &dv.Object, &dv},
               {notify_class::kPreQueryValueKey, &qv.Object, &qv},
               {notify_class::kPreRenameKey, &ren.Object, &ren},
               {notify_class::kPreRestoreKey, &res.Object, &res},
               {notify_class::kPreReplaceKey, &rep.Object, &rep}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cls);
    EXPECT_EQ(pre(c.cls, nullptr), TranslateStatus::kBadArgument);
    *c.object = nullptr;
    EXPECT_EQ(pre(c.cls, c.info), TranslateStatus::kBadArgument);
    EXPECT_EQ(r.key, nullptr);
    *c.object = &unknown_object;
    EXPECT_EQ(pre(c.cls, c.info), TranslateStatus::kNoName);
    EXPECT_EQ(r.key, nullptr);
    kernel.names[&unknown_object] = u"";  // the kernel answered with an empty name
    EXPECT_EQ(pre(c.cls, c.info), TranslateStatus::kNoName);
    kernel.names.erase(&unknown_object);
    *c.object = &key_object;
    EXPECT_EQ(pre(c.cls, c.info), TranslateStatus::kOk);
    EXPECT_EQ(text(r.key), kDefender);
  }
  // Without a name source nothing can be named.
  EXPECT_EQ(translate_pre(notify_class::kPreDeleteKey, &del, KeySource{}, options, *scratch, r),
            TranslateStatus::kBadArgument);
}

TEST_F(Translate, ClassesHivewardenDoesNotHandleAreIgnored) {
  RegDeleteKeyInformation del{&key_object, nullptr, nullptr, nullptr};
  EXPECT_EQ(pre(0x03 /* RegNtPreSetInformationKey */, &del), TranslateStatus::kIgnored);
  EXPECT_EQ(pre(notify_class::kPostSetValueKey, &del), TranslateStatus::kIgnored);
  EXPECT_EQ(pre(0xFFFFFFFFu, nullptr), TranslateStatus::kIgnored);
}

TEST_F(Translate, OnlyStatusSuccessMeansThePostOperationHappened) {
  int context = 0;
  PostOperation post;
  RegPostOperationInformation info{&key_object, 0, nullptr, 0, &context, nullptr, nullptr};
  ASSERT_EQ(translate_post(notify_class::kPostSetValueKey, &info, post), TranslateStatus::kOk);
  EXPECT_EQ(post.op, Operation::kSetValue);
  EXPECT_TRUE(post.success);
  EXPECT_EQ(post.call_context, &context);
  info.Status = static_cast<std::int32_t>(0xC0000022u);
  ASSERT_EQ(translate_post(notify_class::kPostCreateKeyEx, &info, post), TranslateStatus::kOk);
  EXPECT_EQ(post.op, Operation::kCreateKey);
  EXPECT_FALSE(post.success);
  // NT_SUCCESS is not enough: a create that hit a symbolic link returns STATUS_REPARSE and
  // is retried under the link's target; the key named in the pre was not created.
  info.Status = 0x104;  // STATUS_REPARSE
  ASSERT_EQ(translate_post(notify_class::kPostCreateKeyEx, &info, post), TranslateStatus::kOk);
  EXPECT_FALSE(post.success);
  info.Status = 0x40000000;  // an informational status
  ASSERT_EQ(translate_post(notify_class::kPostDeleteKey, &info, post), TranslateStatus::kOk);
  EXPECT_FALSE(post.success);
  EXPECT_EQ(translate_post(notify_class::kPreSetValueKey, &info, post), TranslateStatus::kIgnored);
  EXPECT_EQ(translate_post(notify_class::kPostSetValueKey, nullptr, post),
            TranslateStatus::kBadArgument);
}

// The pre-operation leaves its context in the structure's own CallContext field, whose place
// differs per class; the post gets it back from REG_POST_OPERATION_INFORMATION.CallContext.
TEST_F(Translate, EveryClassHasItsCallContextField) {
  RegCreateKeyInformationV1 create{};
  RegDeleteKeyInformation del{};
  RegSetValueKeyInformation set{};
  RegDeleteValueKeyInformation delv{};
  RegQueryValueKeyInformation query{};
  RegRenameKeyInformation ren{};
  RegRestoreKeyInformation restore{};
  RegReplaceKeyInformation replace{};
  EXPECT_EQ(call_context_field(notify_class::kPreCreateKeyEx, &create), &create.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreDeleteKey, &del), &del.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreSetValueKey, &set), &set.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreDeleteValueKey, &delv), &delv.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreQueryValueKey, &query), &query.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreRenameKey, &ren), &ren.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreRestoreKey, &restore), &restore.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPreReplaceKey, &replace), &replace.CallContext);
  EXPECT_EQ(call_context_field(notify_class::kPostSetValueKey, &set), nullptr);
  EXPECT_EQ(call_context_field(0x03 /* RegNtPreSetInformationKey */, &set), nullptr);
  EXPECT_EQ(call_context_field(notify_class::kPreSetValueKey, nullptr), nullptr);
  set.Object = &key_object;
  EXPECT_EQ(win::key_object(notify_class::kPreSetValueKey, &set), &key_object);
  EXPECT_EQ(win::key_object(notify_class::kPostSetValueKey, &set), nullptr);
}

TEST_F(Translate, OddByteLengthIsCutToWholeUnits) {
  std::u16string s = u"abc";
  UnicodeString odd{5, 6, s.data()};
  EXPECT_EQ(view_of(&odd), u"ab");
  EXPECT_EQ(view_of(nullptr), u"");
  UnicodeString no_buffer{4, 4, nullptr};
  EXPECT_EQ(view_of(&no_buffer), u"");
}

// A name no configuration manager makes (odd byte length, Length past MaximumLength, a length
// without a buffer) cannot be decided: the driver then denies a write (box:
// malformed_names_are_undecidable). Cut to whole units, "Setting" (13 bytes) was decided as
// "Settin".
TEST_F(Translate, MalformedNamesAreBadArguments) {
  std::u16string text_value = u"Setting";
  UnicodeString odd{13, 14, text_value.data()};
  UnicodeString overlong{14, 2, text_value.data()};
  UnicodeString no_buffer{14, 14, nullptr};
  std::uint32_t data = 1;
  for (UnicodeString* name : {&odd, &overlong, &no_buffer}) {
    RegSetValueKeyInformation set{&key_object, name, 0, 4, &data, 4, nullptr, nullptr, nullptr};
    EXPECT_EQ(pre(notify_class::kPreSetValueKey, &set), TranslateStatus::kBadArgument);
    RegDeleteValueKeyInformation del{&key_object, name, nullptr, nullptr, nullptr};
    EXPECT_EQ(pre(notify_class::kPreDeleteValueKey, &del), TranslateStatus::kBadArgument);
    RegQueryValueKeyInformation query{};
    query.Object = &key_object;
    query.ValueName = name;
    EXPECT_EQ(pre(notify_class::kPreQueryValueKey, &query), TranslateStatus::kBadArgument);
    RegRenameKeyInformation rename{&key_object, name, nullptr, nullptr, nullptr};
    EXPECT_EQ(pre(notify_class::kPreRenameKey, &rename), TranslateStatus::kBadArgument);
    RegReplaceKeyInformation replace{&key_object, name, name, nullptr, nullptr, nullptr};
    EXPECT_EQ(pre(notify_class::kPreReplaceKey, &replace), TranslateStatus::kBadArgument);
    RegCreateKeyInformationV1 create{};
    create.CompleteName = name;
    create.RootObject = &root_object;
    EXPECT_EQ(pre(notify_class::kPreCreateKeyEx, &create), TranslateStatus::kBadArgument);
  }
  UnicodeString whole{14, 14, text_value.data()};  // the same name, well formed
  RegSetValueKeyInformation set{&key_object, &whole, 0, 4, &data, 4, nullptr, nullptr, nullptr};
  ASSERT_EQ(pre(notify_class::kPreSetValueKey, &set), TranslateStatus::kOk);
  EXPECT_EQ(r.value, u"Setting");
}

}  // namespace
}  // namespace hivewarden::win
