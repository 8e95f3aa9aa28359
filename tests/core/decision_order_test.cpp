// SPEC §3-§5: process flags and rules, the decision order, the legacy hardening callback.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <tuple>

#include "../support/decide_text.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

const char* const kPolicy = R"(version: 1
legacy_hardening: true
hardened_keys: ['HKLM\SYSTEM\CurrentControlSet\Services\WinDefend']
processes:
  - image: 'C:\Program Files\AV\*\engine.exe'
    flags: [av-service]
  - image: 'C:\Tools\friend?.exe'
    flags: [friendly]
  - image: 'C:\Tools\*.exe'
    flags: [excluded]
  - image: 'C:\Backup\backup.exe'
    rules: [allow-all-registry, notify-sync]
monitored:
  - key: 'HKLM\SOFTWARE\Guarded'
    client: guard
    rules: [create-key, create-key-deny, delete-key, delete-deny, rename-key, rename-key-deny, restore-key, restore-key-deny, replace-key, replace-key-deny]
    values:
      - name: 'Set*'
        rules: [set-value, set-value-deny, set-value-capture]
      - name: Gone
        rules: [delete-value, delete-deny, delete-value-capture]
  - key: 'HKLM\SOFTWARE\Watched'
    client: watch
    rules: [create-key, delete-key]
    values:
      - name: '*'
        rules: [set-value]
  - key: 'HKLM\SOFTWARE\Locked'
    client: lock
    rules: [delete-key, tamper-protection]
    values:
      - name: V
        rules: [set-value, tamper-protection]
  - key: 'HKLM\SOFTWARE\OnlyTamper'
    client: lonely
    rules: [create-key, tamper-protection]
)";

class DecisionOrder : public ::testing::Test {
 protected:
  void SetUp() override { policy_ = test::compile_yaml(kPolicy); ASSERT_TRUE(policy_); }

  Decision decide(Operation op, std::u16string_view key, std::u16string_view image = u"C:\\Users\\x\\evil.exe",
                  std::u16string_view value = {}, std::u16string_view new_name = {}, std::uint32_t pid = 1234,
                  bool key_exists = false, ProcessFlags flags = 0, ProcessRules rules = 0) {
    return test::decide_text(policy_->view,
                             {.op = op,
                              .key = key,
                              .value = value,
                              .new_name = new_name,
                              .image = image,
                              .pid = pid,
                              .key_exists = key_exists,
                              .extra_flags = flags,
                              .extra_rules = rules},
                             *scratch_);
  }

  std::unique_ptr<test::CompiledPolicy> policy_;
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
};

// §1/§2: each operation tests its own notify and deny bits.
TEST_F(DecisionOrder, EachOperationDeniedByItsOwnDenyBit) {
  const Operation ops[] = {Operation::kCreateKey, Operation::kDeleteKey, Operation::kRenameKey, Operation::kRestoreKey,
                           Operation::kReplaceKey};
  for (Operation op : ops) {
    const Decision d = decide(op, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", {}, u"Other");
    EXPECT_EQ(d.verdict, Verdict::kDeny) << traits(op).name;
    EXPECT_EQ(d.reason, Reason::kDenyRule) << traits(op).name;
    EXPECT_EQ(d.notify, NotifyMode::kAsync) << traits(op).name;
    EXPECT_NE(d.rules & traits(op).deny_bit, 0u);
  }
  const Decision set = decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", u"SetThis");
  EXPECT_EQ(set.reason, Reason::kDenyRule);
  EXPECT_TRUE(set.capture_old_value);
  const Decision del = decide(Operation::kDeleteValue, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", u"gone");
  EXPECT_EQ(del.reason, Reason::kDenyRule);  // delete-deny covers value deletion too
  EXPECT_TRUE(del.capture_old_value);
  // A value the list does not name is not matched, and set-value bits never match delete-value.
  EXPECT_EQ(decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", u"Other").reason, Reason::kNoMatch);
  EXPECT_EQ(decide(Operation::kDeleteValue, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", u"SetThis").reason, Reason::kNoMatch);
}

TEST_F(DecisionOrder, RenameMatchesTheOldAndTheNewName) {
  // Renaming another key TO the guarded name is denied too (the rules of both names are OR'ed).
  const Decision d = decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Innocent", u"C:\\x.exe", {}, u"Guarded");
  EXPECT_EQ(d.reason, Reason::kDenyRule);
  const Decision both = decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", {}, u"Innocent");
  EXPECT_EQ(both.reason, Reason::kDenyRule);
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\A", u"C:\\x.exe", {}, u"B").reason, Reason::kNoMatch);
}

TEST_F(DecisionOrder, NotifyOnlyEntriesReport) {
  const Decision d = decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Watched", u"C:\\x.exe", u"Anything");
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_EQ(d.reason, Reason::kNotify);
  EXPECT_EQ(d.notify, NotifyMode::kAsync);
  EXPECT_FALSE(d.capture_old_value);
  // Renaming the key moves its watched values with it: reported, never denied (SPEC §4.3 counts
  // every entry at or below the key; a staged key renamed onto Run plants values unseen otherwise).
  const Decision moved = decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Watched", u"C:\\x.exe", {}, u"W2");
  EXPECT_EQ(moved.verdict, Verdict::kAllow);
  EXPECT_EQ(moved.reason, Reason::kNotify);
  EXPECT_EQ(moved.notify, NotifyMode::kAsync);
  EXPECT_NE(moved.subtree_rules & rule::kSetValue, 0u);
  const Decision planted = decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Staged", u"C:\\x.exe", {}, u"Watched");
  EXPECT_EQ(planted.reason, Reason::kNotify);
  EXPECT_EQ(planted.notify, NotifyMode::kAsync);
}

// The rule-union gate (§2): tests/core/union_gate_test.cpp, which fails without the gate.

// §3: process flags and rules by image glob, first match wins.
TEST_F(DecisionOrder, ProcessRulesByImageGlob) {
  auto classify = [&](std::u16string_view image, std::uint32_t pid = 100) {
    ProcessIdentity p;
    p.image = image;
    p.pid = pid;
    return classify_process(policy_->view, p, *scratch_);
  };
  EXPECT_EQ(classify(u"C:\\Program Files\\AV\\4.18\\engine.exe").flags, process_flag::kAvService);
  EXPECT_EQ(classify(u"c:\\program files\\av\\4.18\\ENGINE.EXE").flags, process_flag::kAvService);  // case-insensitive
  EXPECT_EQ(classify(u"C:\\Program Files\\AV\\a\\b\\engine.exe").flags, 0u);  // `*` does not cross `\`
  EXPECT_EQ(classify(u"C:\\Tools\\friend1.exe").flags, process_flag::kFriendly);  // first match wins over *.exe
  EXPECT_EQ(classify(u"C:\\Tools\\friend12.exe").flags, process_flag::kExcluded);  // `?` is one character
  EXPECT_EQ(classify(u"C:\\Backup\\backup.exe").rules, process_rule::kAllowAllRegistry | process_rule::kNotifySync);
  EXPECT_EQ(classify(u"System", 4).flags, process_flag::kSystem);
  EXPECT_EQ(classify(u"", 4).flags, 0u);  // SPEC 9: pid 4 alone is not System, it needs the image
  EXPECT_EQ(classify(u"system", 4).flags, process_flag::kSystem);  // any case
  EXPECT_EQ(classify(u"C:\\Windows\\System", 4).flags, 0u);
  EXPECT_EQ(classify(u"C:\\evil.exe", 4).flags, 0u);  // pid 4 is System only under that name
  EXPECT_EQ(classify(u"System", 5).flags, 0u);
}

// §4.1: hardened keys, component-wise prefix, exemptions, no notification.
TEST_F(DecisionOrder, HardenedKeysDenyAllButTheExempt) {
  const Decision d = decide(Operation::kSetValue, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend\\Parameters",
                            u"C:\\x.exe", u"Start");
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reason, Reason::kHardenedKey);
  EXPECT_EQ(d.notify, NotifyMode::kNone);
  EXPECT_EQ(scratch_->match.hit_count, 0u);
  EXPECT_EQ(decide(Operation::kDeleteKey, u"hklm\\system\\controlset001\\services\\windefend").reason, Reason::kHardenedKey);
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefendX").reason, Reason::kNoMatch);
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Decoy", u"C:\\x.exe", {}, u"WinDefend").reason,
            Reason::kHardenedKey);
  for (auto [image, pid, flags] : {std::tuple<const char16_t*, std::uint32_t, ProcessFlags>{u"System", 4, 0},
                                   {u"C:\\Program Files\\AV\\1\\engine.exe", 10, 0},
                                   {u"C:\\Tools\\friend1.exe", 11, 0},
                                   {u"C:\\x.exe", 12, process_flag::kServiceSid}}) {
    EXPECT_NE(decide(Operation::kDeleteKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", image, {}, {}, pid, false, flags).reason,
              Reason::kHardenedKey);
  }
  // Excluded and allow-all-registry do NOT pass hardened keys.
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", u"C:\\Tools\\x.exe").reason,
            Reason::kHardenedKey);
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", u"C:\\Backup\\backup.exe").reason,
            Reason::kHardenedKey);
  // Query-value is not subject to hardening.
  EXPECT_EQ(decide(Operation::kQueryValue, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", u"C:\\x.exe", u"Start").verdict,
            Verdict::kAllow);
}

// §4.2: create-key of an existing key is an open.
TEST_F(DecisionOrder, CreateOfAnExistingKeyIsAnOpen) {
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", {}, {}, 1, true).reason, Reason::kKeyExists);
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", {}, {}, 1, false).reason, Reason::kDenyRule);
}

// §4.4: tamper protection denies every process, and reports.
TEST_F(DecisionOrder, TamperProtectionHasNoExemption) {
  for (auto [image, pid] : {std::pair<const char16_t*, std::uint32_t>{u"System", 4}, {u"C:\\Program Files\\AV\\1\\engine.exe", 9},
                            {u"C:\\Backup\\backup.exe", 8}, {u"C:\\Tools\\friend1.exe", 7}}) {
    const Decision d = decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Locked", image, u"V", {}, pid);
    EXPECT_EQ(d.verdict, Verdict::kDeny);
    EXPECT_EQ(d.reason, Reason::kTamperProtection);
    EXPECT_NE(d.notify, NotifyMode::kNone);
  }
  EXPECT_EQ(decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Backup_sync_check", u"C:\\Backup\\backup.exe", u"V").notify,
            NotifyMode::kNone);
  EXPECT_EQ(decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Locked", u"C:\\Backup\\backup.exe", u"V").notify, NotifyMode::kSync);
  // The tamper bit only counts when an operation bit matched: create-key on Locked is not named.
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SOFTWARE\\Locked").reason, Reason::kNoMatch);
  EXPECT_EQ(decide(Operation::kSetValue, u"HKLM\\SOFTWARE\\Locked", u"C:\\x.exe", u"Other").reason, Reason::kNoMatch);
}

// §4.5: the deny bit and each exemption; exempt processes go on to the notification.
TEST_F(DecisionOrder, DenyBitExemptions) {
  struct Case {
    const char16_t* image;
    ProcessFlags flags;
    Exemption expected;
  };
  for (const Case& c : {Case{u"C:\\Backup\\backup.exe", 0, Exemption::kAllowAllRegistry}, Case{u"C:\\Tools\\x.exe", 0, Exemption::kExcluded},
                        Case{u"C:\\Tools\\friend1.exe", 0, Exemption::kFriendly}, Case{u"C:\\x.exe", process_flag::kServiceSid, Exemption::kServiceSid}}) {
    const Decision d = decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded", c.image, {}, {}, 50, false, c.flags);
    EXPECT_EQ(d.verdict, Verdict::kAllow);
    EXPECT_EQ(d.reason, Reason::kExempt);
    EXPECT_EQ(d.exemption, c.expected);
    EXPECT_NE(d.notify, NotifyMode::kNone);  // the entry also asks for delete-key reports
  }
  // The AV service is not exempt from deny bits (only from hardened keys).
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded", u"C:\\Program Files\\AV\\1\\engine.exe").reason, Reason::kDenyRule);
  // Rules given with the request are added: notify-sync makes the notification synchronous.
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded", u"C:\\x.exe", {}, {}, 1, false, 0, process_rule::kNotifySync).notify,
            NotifyMode::kSync);
}

// §5: the legacy hardening callback.
TEST_F(DecisionOrder, LegacyHardeningOfLoadAppInitDlls) {
  const std::u16string_view key = u"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Windows";
  EXPECT_EQ(decide(Operation::kQueryValue, key, u"C:\\x.exe", u"LoadAppInit_DLLs", {}, 1, false, process_flag::kSeces).reason,
            Reason::kLegacyHardening);
  EXPECT_EQ(decide(Operation::kQueryValue, key, u"C:\\x.exe", u"loadappinit_dlls", {}, 1, false, process_flag::kServiceSid).reason,
            Reason::kLegacyHardening);
  EXPECT_EQ(decide(Operation::kQueryValue, key, u"C:\\x.exe", u"LoadAppInit_DLLs").verdict, Verdict::kAllow);
  EXPECT_EQ(decide(Operation::kQueryValue, key, u"C:\\x.exe", u"AppInit_DLLs", {}, 1, false, process_flag::kSeces).verdict,
            Verdict::kAllow);
  auto off = test::compile_yaml("version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [create-key]\n");
  OperationRequest r;
  r.op = Operation::kQueryValue;
  const std::u16string_view r_key_text = key;
  r.value = u"LoadAppInit_DLLs";
  r.process.extra_flags = process_flag::kSeces;
  EXPECT_EQ(test::decide_key_text(off->view, r, r_key_text, *scratch_).verdict, Verdict::kAllow);  // off by default
}

// §6: a rule applies to the key its entry matches fully, not to subkeys; several clients.
TEST_F(DecisionOrder, FullMatchOnlyAndEveryClient) {
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded\\Sub").reason, Reason::kNoMatch);
  auto two = test::compile_yaml(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\K'
    client: zeta
    rules: [delete-key]
  - key: 'HKLM\SOFTWARE\*'
    client: alpha
    rules: [delete-key, delete-deny]
  - key: 'HKLM\SOFTWARE\**'
    client: mid
    rules: [create-key]
)");
  OperationRequest r;
  r.op = Operation::kDeleteKey;
  const std::u16string_view r_key_text = u"hklm\\software\\k";
  const Decision d = test::decide_key_text(two->view, r, r_key_text, *scratch_);
  EXPECT_EQ(d.rules, rule::kDeleteKey | rule::kDeleteDeny);
  EXPECT_EQ(scratch_->match.hit_count, 2u);  // zeta and alpha; mid has no delete bit
  EXPECT_EQ(d.reason, Reason::kDenyRule);
}

TEST_F(DecisionOrder, MalformedNamesFailClosed) {
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\\\Guarded").reason, Reason::kInvalidName);
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded\\").reason, Reason::kDenyRule);  // trailing `\` ignored
  EXPECT_EQ(decide(Operation::kDeleteKey, std::u16string(u"HKLM\\SOFTWARE\\Gua\0rded", 22)).reason, Reason::kInvalidName);
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\A", u"C:\\x.exe", {}, u"x\\y").reason, Reason::kInvalidName);
  OperationRequest unknown_root;
  unknown_root.op = Operation::kDeleteKey;
  EXPECT_EQ(test::key_status(policy_->view, unknown_root, u"HKZZ\\SOFTWARE"), PathStatus::kUnknownRoot);
}

}  // namespace
}  // namespace hivewarden

namespace hivewarden {
namespace {

// Moving or overwriting an ancestor moves or overwrites what it holds (a bypass WdFilter's
// full-path match leaves open): rename, restore and replace see the rules below the key.
class AncestorProtection : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = test::compile_yaml(R"(version: 1
hardened_keys: ['HKLM\SYSTEM\CurrentControlSet\Services\WinDefend']
processes:
  - image: 'C:\Tools\*.exe'
    flags: [excluded]
monitored:
  - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
    client: policy
    values:
      - name: DisableAntiSpyware
        rules: [set-value, set-value-deny]
  - key: 'HKLM\SOFTWARE\Self\**'
    client: self
    rules: [create-key, tamper-protection]
  - key: 'HKLM\SOFTWARE\Watched'
    client: watch
    rules: [rename-key]
)");
    ASSERT_TRUE(policy_);
  }
  Decision decide(Operation op, std::u16string_view key, std::u16string_view new_name = {},
                  std::u16string_view image = u"C:\\x.exe") {
    return test::decide_text(
        policy_->view, {.op = op, .key = key, .new_name = new_name, .image = image, .pid = 77},
        *scratch_);
  }
  std::unique_ptr<test::CompiledPolicy> policy_;
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
};

TEST_F(AncestorProtection, RenamingAnAncestorOfAProtectedValueIsDenied) {
  for (const char16_t* key : {u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender", u"HKLM\\SOFTWARE\\Policies\\Microsoft",
                              u"HKLM\\SOFTWARE\\Policies"}) {
    const Decision d = decide(Operation::kRenameKey, key, u"Moved");
    EXPECT_EQ(d.verdict, Verdict::kDeny);
    EXPECT_EQ(d.reason, Reason::kSubtreeProtected);
    EXPECT_EQ(d.subtree_rules, rule::kSetValueDeny | rule::kSetValue);
    EXPECT_NE(d.notify, NotifyMode::kNone);
  }
  // Renaming a prepared key INTO the protected place is the same route backwards.
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Prepared", u"Windows Defender").reason,
            Reason::kSubtreeProtected);
  // Unrelated keys, and keys below the protected one, are not affected.
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Policies\\Google", u"Moved").reason, Reason::kNoMatch);
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Sub", u"X").reason,
            Reason::kNoMatch);
  // A notify-only rule below is no protection: renaming its parent is allowed.
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE", u"X").verdict, Verdict::kDeny);  // holds Policies...
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Watched", u"X").reason, Reason::kNotify);
}

TEST_F(AncestorProtection, RestoreAndReplaceOverAnAncestorAreDenied) {
  EXPECT_EQ(decide(Operation::kRestoreKey, u"HKLM\\SOFTWARE\\Policies\\Microsoft").reason, Reason::kSubtreeProtected);
  EXPECT_EQ(decide(Operation::kReplaceKey, u"HKLM\\SOFTWARE\\Policies").reason, Reason::kSubtreeProtected);
  EXPECT_EQ(decide(Operation::kRestoreKey, u"HKLM\\SOFTWARE\\Classes").reason, Reason::kNoMatch);
  // Delete and create are not subtree operations: deleting a key with subkeys fails anyway.
  EXPECT_EQ(decide(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Policies\\Microsoft").reason, Reason::kNoMatch);
}

TEST_F(AncestorProtection, TamperProtectedSubtreeDeniesEveryone) {
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Self", u"Moved").reason, Reason::kTamperProtection);
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SOFTWARE", u"Moved", u"C:\\Tools\\x.exe").reason, Reason::kTamperProtection);
  EXPECT_EQ(decide(Operation::kRestoreKey, u"HKLM\\SOFTWARE\\Self\\Deep\\Er").reason, Reason::kTamperProtection);
}

TEST_F(AncestorProtection, ExemptProcessesMayMoveWhatTheyMayChange) {
  const Decision d = decide(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Policies\\Microsoft", u"Moved", u"C:\\Tools\\x.exe");
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_EQ(d.reason, Reason::kExempt);
  EXPECT_EQ(d.exemption, Exemption::kExcluded);
}

TEST_F(AncestorProtection, AncestorsOfHardenedKeysAreHardened) {
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services", u"X").reason, Reason::kHardenedKey);
  EXPECT_EQ(decide(Operation::kRestoreKey, u"HKLM\\SYSTEM\\CurrentControlSet").reason, Reason::kHardenedKey);
  EXPECT_EQ(decide(Operation::kReplaceKey, u"HKLM\\SYSTEM").reason, Reason::kHardenedKey);
  EXPECT_EQ(decide(Operation::kRenameKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Other", u"X").reason, Reason::kNoMatch);
  // Creating or setting under an ancestor is not moving it.
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\New").reason, Reason::kNoMatch);
}

}  // namespace
}  // namespace hivewarden

namespace hivewarden {
namespace {

TEST(HardenedGlobs, EveryControlSetIsGuarded) {
  auto policy = test::compile_yaml("version: 1\nhardened_keys: ['HKLM\\SYSTEM\\ControlSet*\\Services\\WinDefend']\n");
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  for (const char16_t* key : {u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", u"HKLM\\SYSTEM\\ControlSet002\\Services\\WinDefend\\Parameters",
                              u"\\REGISTRY\\MACHINE\\SYSTEM\\controlset003\\services\\windefend"}) {
    OperationRequest r;
    r.op = Operation::kSetValue;
    const std::u16string_view r_key_text = key;
    r.value = u"Start";
    r.process.image = u"C:\\x.exe";
    EXPECT_EQ(test::decide_key_text(policy->view, r, r_key_text, *scratch).reason, Reason::kHardenedKey) << utf16_to_utf8(key);
  }
  OperationRequest other;
  other.op = Operation::kSetValue;
  const std::u16string_view other_key_text = u"HKLM\\SYSTEM\\ControlSet002\\Services\\WinDefendX";
  other.value = u"Start";
  EXPECT_EQ(test::decide_key_text(policy->view, other, other_key_text, *scratch).reason, Reason::kNoMatch);
  // Whole-component wildcards stay refused in hardened keys.
  policy::PolicySource source;
  std::vector<policy::PolicyProblem> problems;
  EXPECT_FALSE(policy::parse_policy_yaml("version: 1\nhardened_keys: ['HKLM\\SYSTEM\\**\\WinDefend']\n", "h.yaml", source, problems));
}

}  // namespace
}  // namespace hivewarden

namespace hivewarden {
namespace {

// SPEC 4.3: delete-key deletes the key's values, so it counts the key's own value entries.
class DeleteKeyValues : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = test::compile_yaml(R"(version: 1
processes:
  - image: 'C:\Tools\*.exe'
    flags: [excluded]
  - image: 'C:\Friend.exe'
    flags: [friendly]
  - image: 'C:\Backup.exe'
    rules: [allow-all-registry]
  - image: 'C:\AV\engine.exe'
    flags: [av-service]
monitored:
  - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
    client: wd-policy
    values:
      - name: DisableAntiSpyware
        rules: [set-value, set-value-deny, delete-value, delete-deny, tamper-protection]
  - key: 'HKLM\SOFTWARE\DenyDelete'
    client: dd
    values:
      - name: Keep
        rules: [delete-value, delete-deny]
  - key: 'HKLM\SOFTWARE\DenySet'
    client: ds
    values:
      - name: '*'
        rules: [set-value, set-value-deny]
  - key: 'HKLM\SOFTWARE\Deep\**'
    client: deep
    values:
      - name: 'Run*'
        rules: [set-value-deny]
  - key: 'HKLM\SOFTWARE\Children\*'
    client: kids
    values:
      - name: V
        rules: [set-value-deny]
  - key: 'HKLM\SOFTWARE\NotifyOnly'
    client: watch
    values:
      - name: '*'
        rules: [set-value, delete-value]
  - key: 'HKLM\SYSTEM\CurrentControlSet\Services\Svc'
    client: svc
    values:
      - name: Start
        rules: [set-value-deny]
)");
    ASSERT_TRUE(policy_);
  }
  Decision decide(std::u16string_view key, std::u16string_view image = u"C:\\x.exe",
                  std::uint32_t pid = 77, ProcessFlags flags = 0, ProcessRules rules = 0) {
    return test::decide_text(policy_->view,
                             {.op = Operation::kDeleteKey,
                              .key = key,
                              .image = image,
                              .pid = pid,
                              .extra_flags = flags,
                              .extra_rules = rules},
                             *scratch_);
  }
  std::unique_ptr<test::CompiledPolicy> policy_;
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
};

TEST_F(DeleteKeyValues, TamperProtectedValueDeniesDeletingItsKeyForEveryone) {
  for (const char16_t* key :
       {u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",
        u"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",
        u"\\REGISTRY\\MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",
        u"hklm\\software\\policies\\microsoft\\WINDOWS DEFENDER\\"}) {
    const Decision d = decide(key);
    EXPECT_EQ(d.verdict, Verdict::kDeny) << utf16_to_utf8(key);
    EXPECT_EQ(d.reason, Reason::kTamperProtection) << utf16_to_utf8(key);
    EXPECT_EQ(d.subtree_rules, rule::kDeleteDeny | rule::kSetValueDeny | rule::kTamperProtection |
                                   rule::kSetValue | rule::kDeleteValue);
    EXPECT_NE(d.notify, NotifyMode::kNone);
    ASSERT_EQ(scratch_->match.hit_count, 1u);  // the value's client is named in the notification
  }
  // No exemption passes tamper protection.
  for (auto [image, pid, flags, rules] :
       {std::tuple<const char16_t*, std::uint32_t, ProcessFlags, ProcessRules>{u"System", 4, 0, 0},
        {u"C:\\AV\\engine.exe", 9, 0, 0},
        {u"C:\\Tools\\t.exe", 9, 0, 0},
        {u"C:\\Backup.exe", 9, 0, 0},
        {u"C:\\x.exe", 9, process_flag::kServiceSid | process_flag::kFriendly,
         process_rule::kAllowAllRegistry}}) {
    EXPECT_EQ(
        decide(u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender", image, pid, flags, rules)
            .reason,
        Reason::kTamperProtection)
        << utf16_to_utf8(image);
  }
}

TEST_F(DeleteKeyValues, DenyBitOnAValueDeniesDeletingItsKey) {
  Decision d = decide(u"HKLM\\SOFTWARE\\DenyDelete");
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reason, Reason::kSubtreeProtected);
  EXPECT_EQ(d.subtree_rules, rule::kDeleteDeny | rule::kDeleteValue);
  EXPECT_EQ(d.rules, 0u);
  EXPECT_NE(d.notify, NotifyMode::kNone);
  d = decide(u"HKLM\\SOFTWARE\\DenySet");  // a `*` value name: every value of the key
  EXPECT_EQ(d.reason, Reason::kSubtreeProtected);
  EXPECT_EQ(d.subtree_rules, rule::kSetValueDeny | rule::kSetValue);
  // `**` matches the key itself and every key below.
  for (const char16_t* key :
       {u"HKLM\\SOFTWARE\\Deep", u"HKLM\\SOFTWARE\\Deep\\a", u"HKLM\\SOFTWARE\\Deep\\a\\b\\c"}) {
    EXPECT_EQ(decide(key).reason, Reason::kSubtreeProtected) << utf16_to_utf8(key);
  }
  // `*`: the children, not the parent (an entry applies to the key it matches fully).
  EXPECT_EQ(decide(u"HKLM\\SOFTWARE\\Children\\One").reason, Reason::kSubtreeProtected);
  EXPECT_EQ(decide(u"HKLM\\SOFTWARE\\Children").reason, Reason::kNoMatch);
  // The control set the policy named through CurrentControlSet.
  EXPECT_EQ(decide(u"HKLM\\SYSTEM\\ControlSet001\\Services\\Svc").reason,
            Reason::kSubtreeProtected);
  EXPECT_EQ(decide(u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Svc").reason,
            Reason::kSubtreeProtected);
}

TEST_F(DeleteKeyValues, ExemptProcessesPassTheDenyBitAsForOtherSubtrees) {
  for (auto [image, flags, rules, exemption] :
       {std::tuple<const char16_t*, ProcessFlags, ProcessRules, Exemption>{u"C:\\Tools\\t.exe", 0,
                                                                           0, Exemption::kExcluded},
        {u"C:\\Friend.exe", 0, 0, Exemption::kFriendly},
        {u"C:\\Backup.exe", 0, 0, Exemption::kAllowAllRegistry},
        {u"C:\\x.exe", process_flag::kServiceSid, 0, Exemption::kServiceSid}}) {
    const Decision d = decide(u"HKLM\\SOFTWARE\\DenyDelete", image, 50, flags, rules);
    EXPECT_EQ(d.verdict, Verdict::kAllow) << utf16_to_utf8(image);
    EXPECT_EQ(d.reason, Reason::kExempt) << utf16_to_utf8(image);
    EXPECT_EQ(d.exemption, exemption);
  }
  // The AV service is not one of SPEC 4.5's exemptions.
  EXPECT_EQ(decide(u"HKLM\\SOFTWARE\\DenyDelete", u"C:\\AV\\engine.exe").reason,
            Reason::kSubtreeProtected);
}

TEST_F(DeleteKeyValues, NotifyOnlyValuesAreReportedAndOtherKeysAreNoProtection) {
  // Watched values go with their key: the delete is reported, not denied.
  const Decision watched = decide(u"HKLM\\SOFTWARE\\NotifyOnly");
  EXPECT_EQ(watched.verdict, Verdict::kAllow);
  EXPECT_EQ(watched.reason, Reason::kNotify);
  EXPECT_EQ(watched.notify, NotifyMode::kAsync);
  EXPECT_EQ(decide(u"HKLM\\SOFTWARE\\DenyDeleteX").reason, Reason::kNoMatch);
  EXPECT_EQ(decide(u"HKLM\\SOFTWARE").reason,
            Reason::kNoMatch);  // deleting a parent fails while it has subkeys
  EXPECT_EQ(decide(u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Sub").reason,
            Reason::kNoMatch);
  // Other operations on the key are unchanged: create-key is not named by any value rule.
  OperationRequest r;
  r.op = Operation::kCreateKey;
  const std::u16string_view r_key_text = u"HKLM\\SOFTWARE\\DenyDelete";
  r.process.image = u"C:\\x.exe";
  EXPECT_EQ(test::decide_key_text(policy_->view, r, r_key_text, *scratch_).reason, Reason::kNoMatch);
}

// SPEC 6: a rename's target is canonicalised like any key: renaming a control set to
// CurrentControlSet names the active control set.
TEST(RenameTarget, CurrentControlSetAsTheNewNameIsTheActiveControlSet) {
  auto policy = test::compile_yaml(R"(version: 1
control_set: 2
monitored:
  - key: 'HKLM\SYSTEM\CurrentControlSet'
    client: ccs
    rules: [rename-key, rename-key-deny]
)");
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  for (const char16_t* new_name :
       {u"CurrentControlSet", u"currentcontrolset", u"CURRENTCONTROLSET"}) {
    for (const char16_t* key :
         {u"HKLM\\SYSTEM\\ControlSet005", u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet005",
          u"HKEY_LOCAL_MACHINE\\system\\controlset005"}) {
      OperationRequest r;
      r.op = Operation::kRenameKey;
      const std::u16string_view r_key_text = key;
      r.new_name = new_name;
      r.process.image = u"C:\\x.exe";
      const Decision d = test::decide_key_text(policy->view, r, r_key_text, *scratch);
      EXPECT_EQ(d.reason, Reason::kDenyRule)
          << utf16_to_utf8(key) << " -> " << utf16_to_utf8(new_name);
      EXPECT_TRUE(equals_when_folded(u"\\REGISTRY\\MACHINE\\SYSTEM\\CONTROLSET002",
                                     test::last_keys().new_key.text()));
    }
  }
  // Elsewhere the name is an ordinary name.
  OperationRequest r;
  r.op = Operation::kRenameKey;
  const std::u16string_view r_key_text = u"HKLM\\SOFTWARE\\X";
  r.new_name = u"CurrentControlSet";
  r.process.image = u"C:\\x.exe";
  EXPECT_EQ(test::decide_key_text(policy->view, r, r_key_text, *scratch).reason, Reason::kNoMatch);
  EXPECT_EQ(utf16_to_utf8(test::last_keys().new_key.text()),
            "\\REGISTRY\\MACHINE\\SOFTWARE\\CurrentControlSet");
}

TEST(RenameTarget, RenamingOntoCurrentControlSetMovesOntoHardenedKeys) {
  auto policy = test::compile_yaml(
      "version: 1\nhardened_keys: ['HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend']\n");
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  OperationRequest r;
  r.op = Operation::kRenameKey;
  const std::u16string_view r_key_text = u"HKLM\\SYSTEM\\ControlSet002";
  r.new_name = u"CurrentControlSet";
  r.process.image = u"C:\\x.exe";
  EXPECT_EQ(test::decide_key_text(policy->view, r, r_key_text, *scratch).reason, Reason::kHardenedKey);
}


// A symbolic link made at a protected key or above it, or a link there pointed elsewhere,
// redirects every name below it: decided like moving a subtree there (attack: a link at
// ...\Windows Defender to an attacker's key made tamper-protected values writable).
TEST(Links, MakingOrRetargetingALinkOverProtectedKeysIsDecidedLikeMovingThem) {
  auto policy = test::compile_yaml(R"(version: 1
hardened_keys:
  - 'HKLM\SYSTEM\CurrentControlSet\Services\WinDefend'
monitored:
  - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
    client: wd-policy
    values:
      - name: DisableAntiSpyware
        rules: [set-value, tamper-protection]
  - key: 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\*'
    client: ifeo
    values:
      - name: Debugger
        rules: [set-value]
  - key: 'HKLM\SOFTWARE\Guarded\Inner'
    client: guarded
    rules: [create-key-deny]
)");
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  auto decide = [&](Operation op, std::u16string_view key, bool link,
                    std::u16string_view value = {}) {
    return test::decide_text(policy->view,
                             {.op = op, .key = key, .value = value, .pid = 9, .creates_link = link},
                             *scratch);
  };
  for (const char16_t* key : {u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",
                              u"HKLM\\SOFTWARE\\Policies\\Microsoft", u"\\REGISTRY\\MACHINE\\SOFTWARE\\Policies"}) {
    EXPECT_EQ(decide(Operation::kCreateKey, key, true).reason, Reason::kTamperProtection) << utf16_to_utf8(key);
    EXPECT_EQ(decide(Operation::kSetValue, key, false, u"SymbolicLinkValue").reason, Reason::kTamperProtection);
    EXPECT_EQ(decide(Operation::kDeleteValue, key, false, u"symboliclinkvalue").reason,
              Reason::kTamperProtection);
    EXPECT_EQ(decide(Operation::kCreateKey, key, false).reason, Reason::kNoMatch);  // a plain key
  }
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SOFTWARE\\Guarded", true).reason, Reason::kSubtreeProtected);
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SOFTWARE\\Guarded\\Inner", true).reason, Reason::kDenyRule);
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SYSTEM\\ControlSet001\\Services", true).reason,
            Reason::kHardenedKey);
  // A link over a watched key is reported: what it makes readers see is the attacker's.
  const Decision ifeo = decide(Operation::kCreateKey,
                               u"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe",
                               true);
  EXPECT_EQ(ifeo.verdict, Verdict::kAllow);
  EXPECT_EQ(ifeo.reason, Reason::kNotify);
  EXPECT_EQ(ifeo.notify, NotifyMode::kAsync);
  // Elsewhere a link is an ordinary create.
  EXPECT_EQ(decide(Operation::kCreateKey, u"HKLM\\SOFTWARE\\Elsewhere", true).reason, Reason::kNoMatch);
}

// Image globs against a long image cost their length times the image's: bounded per decision
// (helper G's finding: 7,151 long globs against a 30,000-unit image took 53 s for one
// operation). Past kMaxClassifyWork the process gets no rule of the policy and `seces`.
TEST(ProcessClassification, GlobWorkIsBoundedAndFailsClosedBothWays) {
  std::string yaml = "version: 1\nprocesses:\n";
  for (int i = 0; i < 2000; ++i) {
    std::string glob = "C:\\";
    for (int j = 0; j < 70; ++j) glob += "*a";
    yaml += "  - image: '" + glob + std::to_string(i) + "'\n    flags: [friendly]\n";
  }
  yaml += "  - image: 'C:\\Tools\\backup.exe'\n    rules: [allow-all-registry]\n";
  auto policy = test::compile_yaml(yaml);
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  const std::u16string image = u"C:\\" + std::u16string(30000, u'a');
  ProcessIdentity p;
  p.image = image;
  p.pid = 9;
  const auto start = std::chrono::steady_clock::now();
  const ProcessContext c = classify_process(policy->view, p, *scratch);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(c.unclassified);
  EXPECT_EQ(c.flags & process_flag::kFriendly, 0u);  // no exemption by name
  EXPECT_NE(c.flags & process_flag::kSeces, 0u);     // the restricting flag is assumed
  // A short image is classified as usual, and an image longer than any path gets nothing.
  p.image = u"C:\\Tools\\backup.exe";
  const ProcessContext normal = classify_process(policy->view, p, *scratch);
  EXPECT_FALSE(normal.unclassified);
  EXPECT_EQ(normal.rules, process_rule::kAllowAllRegistry);
  const std::u16string huge = u"C:\\Tools\\backup.exe" + std::u16string(40000, u'x');
  p.image = huge;
  const ProcessContext too_long = classify_process(policy->view, p, *scratch);
  EXPECT_EQ(too_long.rules, 0u);
  EXPECT_EQ(too_long.flags, 0u);
}

}  // namespace
}  // namespace hivewarden
