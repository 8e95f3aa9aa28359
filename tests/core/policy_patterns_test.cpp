// SPEC §6 in the policy compiler: CurrentControlSet only where it can be resolved, and HKCR\X
// meaning the machine's and every user's classes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../support/decide_text.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

// The problems of a policy whose only content is `body` (YAML lines after `version: 1`).
std::vector<policy::PolicyProblem> problems_of(const std::string& body) {
  policy::PolicySource source;
  std::vector<policy::PolicyProblem> problems;
  if (policy::parse_policy_yaml("version: 1\n" + body, "p.yaml", source, problems)) {
    policy::Blob blob;
    policy::compile_policy(source, blob, problems);
  }
  return problems;
}

std::string monitored(const std::string& key) {
  return "monitored:\n  - key: '" + key +
         "'\n    client: c\n    rules: [delete-key, delete-deny]\n";
}

TEST(CurrentControlSetInPolicies, MisplacedOrWildcardedIsAnErrorNamingLineAndField) {
  for (const char* key : {
           "HKLM\\**\\CurrentControlSet\\Services\\WinDefend",  // after `**`
           "HKLM\\*\\CurrentControlSet\\Services\\WdBoot",      // after `*`
           "\\REGISTRY\\MACHINE\\*\\CurrentControlSet",         // kernel form, after `*`
           "\\REGISTRY\\*{2}\\CurrentControlSet\\Services",     // after `*{N}`
           "HKLM\\SYS*\\CurrentControlSet\\Services",           // after a glob
           "HKLM\\SYSTEM\\**\\CurrentControlSet",               // deeper, after `**`
           "HKLM\\SYSTEM\\ControlSet001\\CurrentControlSet",    // not right below SYSTEM
           "HKLM\\SOFTWARE\\CurrentControlSet",                 // not under SYSTEM
           "HKU\\*\\CurrentControlSet",                         // a user's hive
           "HKLM\\SYSTEM\\Current*\\Services\\Sense",           // globs that can only mean it
           "HKLM\\SYSTEM\\CurrentControlSet*\\Services",
           "HKLM\\SYSTEM\\currentcontrolse?\\Services",
           "HKLM\\SYSTEM\\*ControlSet\\Services",
           "HKLM\\SYSTEM\\C*t\\Services",
           "HKEY_LOCAL_MACHINE\\system\\CURRENT*",
           "HKLM\\*\\Current*\\Services",  // a glob that can stand right below SYSTEM
           "HKLM\\**\\Current*\\Services",
       }) {
    const auto problems = problems_of(monitored(key));
    ASSERT_EQ(problems.size(), 1u) << key;
    EXPECT_EQ(problems[0].file, "p.yaml");
    EXPECT_EQ(problems[0].where.line, 3u) << key;
    EXPECT_EQ(problems[0].field, "monitored[0].key") << key;
    EXPECT_NE(problems[0].message.find("CurrentControlSet"), std::string::npos)
        << problems[0].message;
  }
}

TEST(CurrentControlSetInPolicies, HardenedKeysFollowTheSameRule) {
  for (const char* key :
       {"HKLM\\SYSTEM\\CurrentControlSet*\\Services\\WdFilter",
        "HKLM\\SYSTEM\\Current*\\Services\\WdFilter",
        "HKLM\\SYS*\\CurrentControlSet\\Services\\WdFilter", "HKLM\\SOFTWARE\\CurrentControlSet"}) {
    const auto problems = problems_of(std::string("hardened_keys:\n  - '") + key + "'\n");
    ASSERT_EQ(problems.size(), 1u) << key;
    EXPECT_EQ(problems[0].where.line, 3u);
    EXPECT_EQ(problems[0].field, "hardened_keys[0]");
    EXPECT_NE(problems[0].message.find("CurrentControlSet"), std::string::npos)
        << problems[0].message;
  }
}

TEST(CurrentControlSetInPolicies, ResolvableAndControlSetGlobsStayLegal) {
  for (const char* key : {
           "HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend",
           "hklm\\system\\currentcontrolset\\services",
           "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet",
           "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\**",
           "HKLM\\SYSTEM\\ControlSet*\\Services\\*",  // the default policy's form
           "HKLM\\SYSTEM\\C*\\Services",              // also matches ControlSet00N
           "HKLM\\SYSTEM\\*Control*\\Services",
           "HKLM\\SYSTEM\\*\\Services",
           "HKLM\\SYSTEM\\**\\Services",
           "HKLM\\SOFTWARE\\Microsoft\\Windows\\Current*\\Run",  // CurrentVersion: not the control
                                                                 // set's place
           "HKCU\\**\\Current*",
           "HKCC\\Software",
       }) {
    EXPECT_TRUE(problems_of(monitored(key)).empty())
        << key << ": " << problems_of(monitored(key))[0].to_string();
  }
  EXPECT_TRUE(
      problems_of("hardened_keys: ['HKLM\\SYSTEM\\ControlSet*\\Services\\WinDefend']\n").empty());
}

TEST(CurrentControlSetInPolicies, ASourceNotFromYamlIsCheckedByTheCompilerToo) {
  policy::PolicySource source;
  source.file = "s.yaml";
  policy::MonitoredEntry entry;
  entry.key = "HKLM\\**\\CurrentControlSet\\Services\\WinDefend";
  entry.client = "c";
  entry.rules = rule::kDeleteKey;
  entry.where.line = 7;
  source.monitored.push_back(entry);
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  EXPECT_FALSE(policy::compile_policy(source, blob, problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].where.line, 7u);
  EXPECT_EQ(problems[0].field, "monitored[0].key");
}

// SPEC 6: HKCR\X in a policy means all three places Windows merges into HKCR.
class ClassesRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = test::compile_yaml(R"(version: 1
hardened_keys:
  - 'HKEY_CLASSES_ROOT\CLSID\{AAAA}'
monitored:
  - key: 'HKCR\CLSID\{11111111-2222-3333-4444-555555555555}\**'
    client: com
    rules: [create-key, create-key-deny]
    values:
      - name: '*'
        rules: [set-value, set-value-deny]
)");
    ASSERT_TRUE(policy_);
  }
  Decision set_value(std::u16string_view key, std::u16string_view sid = {}) {
    return test::decide_text(policy_->view,
                             {.op = Operation::kSetValue, .key = key, .pid = 1, .user_sid = sid},
                             *scratch_);
  }
  std::unique_ptr<test::CompiledPolicy> policy_;
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
};

TEST_F(ClassesRoot, MonitoredEntryCoversMachineAndPerUserClasses) {
  const std::u16string clsid = u"\\CLSID\\{11111111-2222-3333-4444-555555555555}\\InprocServer32";
  for (const std::u16string& key :
       {u"HKCR" + clsid, u"HKEY_CLASSES_ROOT" + clsid, u"HKLM\\SOFTWARE\\Classes" + clsid,
        u"HKU\\S-1-5-21-1\\Software\\Classes" + clsid,
        u"\\REGISTRY\\USER\\S-1-5-21-1_Classes" + clsid,
        u"\\registry\\user\\s-1-5-21-1_classes" + clsid,
        u"HKU\\.DEFAULT\\Software\\Classes" + clsid}) {
    const Decision d = set_value(key);
    EXPECT_EQ(d.reason, Reason::kDenyRule) << utf16_to_utf8(key);
    ASSERT_EQ(scratch_->match.hit_count, 1u) << utf16_to_utf8(key);  // one YAML entry, one hit
    EXPECT_EQ(policy_->view.entries()[scratch_->match.hits[0].entry].line, 9u);  // the value's line
  }
  EXPECT_EQ(set_value(u"HKCU\\Software\\Classes" + clsid, u"S-1-5-21-1").reason, Reason::kDenyRule);
  // Other places are other keys.
  EXPECT_EQ(set_value(u"HKLM\\SOFTWARE\\Classes\\Wow6432Node" + clsid).reason, Reason::kNoMatch);
  EXPECT_EQ(set_value(u"HKU\\S-1-5-21-1\\Software\\Other" + clsid).reason, Reason::kNoMatch);
  EXPECT_EQ(set_value(u"HKU\\S-1-5-21-1_Other" + clsid).reason, Reason::kNoMatch);
}

TEST_F(ClassesRoot, HardenedKeyCoversMachineAndPerUserClasses) {
  for (const char16_t* key : {u"HKCR\\CLSID\\{AAAA}\\InprocServer32",
                              u"HKU\\S-1-5-21-9\\Software\\Classes\\CLSID\\{aaaa}",
                              u"\\REGISTRY\\USER\\S-1-5-21-9_Classes\\CLSID\\{AAAA}\\x"}) {
    EXPECT_EQ(set_value(key).reason, Reason::kHardenedKey) << utf16_to_utf8(key);
  }
  EXPECT_EQ(set_value(u"HKU\\S-1-5-21-9\\Software\\CLSID\\{AAAA}").reason, Reason::kNoMatch);
}

TEST_F(ClassesRoot, DumpShowsEveryPlaceWithTheYamlLine) {
  const std::string dump = policy::dump_policy(policy_->data(), policy_->size);
  for (const char* place :
       {"key "
        "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\CLSID\\{11111111-2222-3333-4444-555555555555}\\**",
        "key "
        "\\REGISTRY\\USER\\*\\Software\\Classes\\CLSID\\{11111111-2222-3333-4444-555555555555}\\**",
        "key \\REGISTRY\\USER\\*_CLASSES\\CLSID\\{11111111-2222-3333-4444-555555555555}\\**",
        "\\REGISTRY\\USER\\*\\SOFTWARE\\CLASSES\\CLSID\\{AAAA}",
        "\\REGISTRY\\USER\\*_CLASSES\\CLSID\\{AAAA}"}) {
    EXPECT_NE(dump.find(place), std::string::npos) << place << "\n" << dump;
  }
  EXPECT_EQ(policy_->view.entry_count(), 2u);  // the YAML's entries: one key rule, one value rule
}

TEST(ClassesRootPattern, OnlyHkcrHasUserPlaces) {
  policy::KeyPattern pattern;
  std::string error;
  std::vector<policy::KeyPattern> places;
  ASSERT_TRUE(policy::parse_key_pattern("HKLM\\SOFTWARE\\Classes\\X", 1, pattern, error));
  policy::classes_root_user_places(pattern, places);
  EXPECT_TRUE(places.empty());  // written as the machine's place: meant as the machine's place
  ASSERT_TRUE(policy::parse_key_pattern("hkcr", 1, pattern, error));
  policy::classes_root_user_places(pattern, places);
  EXPECT_EQ(places.size(), 2u);
}

}  // namespace
}  // namespace hivewarden
