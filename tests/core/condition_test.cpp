// SPEC §10: conditions on an entry. The decision with conditions on every field and modifier,
// Sysmon's Details rendering, the work bound, and hostile condition sections in a blob.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "../support/decide_text.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/core/condition.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

constexpr std::uint32_t kSz = 1, kExpandSz = 2, kBinary = 3, kDword = 4, kMultiSz = 7, kQword = 11;

std::string le(std::uint64_t n, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  return out;
}

std::string utf16le(std::u16string_view text, bool terminate = true) {
  std::string out;
  for (char16_t c : text) {
    out += static_cast<char>(c & 0xFF);
    out += static_cast<char>(c >> 8);
  }
  if (terminate) out.append(2, '\0');
  return out;
}

// One operation with everything a condition may look at.
struct Op {
  Operation op = Operation::kSetValue;
  std::u16string_view key;
  std::u16string_view value = u"V";
  std::u16string_view image = u"C:\\Windows\\System32\\reg.exe";
  std::u16string_view new_name = {};
  bool has_data = false;
  std::uint32_t type = 0;
  std::string data = {};
};

class Conditions : public ::testing::Test {
 protected:
  void use(const std::string& yaml) {
    policy_ = test::compile_yaml("version: 1\ncontrol_set: 2\nmonitored:\n" + yaml);
    ASSERT_TRUE(policy_);
  }
  Decision decide(const Op& op) {
    test::TextOperation t{
        .op = op.op, .key = op.key, .value = op.value, .new_name = op.new_name, .image = op.image};
    OperationRequest r = test::request_of(t);
    r.has_data = op.has_data;
    r.type = op.type;
    r.data = op.data;
    return test::decide_key_text(policy_->view, r, op.key, *scratch_);
  }
  // True when the operation matched the (single) client of the policy.
  bool matches(const Op& op) { return decide(op).rules != 0; }
  Op set(std::u16string_view key, std::uint32_t type, std::string data) {
    return {.key = key, .has_data = true, .type = type, .data = std::move(data)};
  }

  std::unique_ptr<test::CompiledPolicy> policy_;
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
};

const char* const kValueEntry = R"(  - key: 'HKLM\SOFTWARE\T'
    client: c
    values:
      - name: '*'
        rules: [set-value, set-value-deny, delete-value]
)";

std::string value_entry_with(const std::string& conditions) {
  return std::string(kValueEntry) + conditions;
}

TEST_F(Conditions, SpecExampleDeniesOnlyTurningDefenderOff) {
  use(R"(  - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
    client: defender-off
    values:
      - name: DisableAntiSpyware
        rules: [set-value, set-value-deny]
        when:
          data|dword: 1
        unless:
          - image|endswith: '\MsMpEng.exe'
)");
  const std::u16string_view key = u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender";
  Op on = set(key, kDword, le(1, 4));
  on.value = u"DisableAntiSpyware";
  EXPECT_EQ(decide(on).reason, Reason::kDenyRule);
  Op off = on;
  off.data = le(0, 4);
  EXPECT_EQ(decide(off).reason, Reason::kNoMatch);
  Op defender = on;
  defender.image = u"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4\\MSMPENG.EXE";
  EXPECT_EQ(decide(defender).reason, Reason::kNoMatch);
  Op no_data = on;
  no_data.has_data = false;  // a field the operation does not have fails its test
  EXPECT_EQ(decide(no_data).reason, Reason::kNoMatch);
  Op as_qword = set(key, kQword, le(1, 8));
  as_qword.value = u"DisableAntiSpyware";
  EXPECT_EQ(decide(as_qword).reason, Reason::kNoMatch) << "dword tests only REG_DWORD data";
}

TEST_F(Conditions, ImageComparesAsciiCaseOnly) {
  use(value_entry_with("        unless: {image|endswith: '\\msmpeng.exe'}\n"));
  Op op = set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"));
  op.image = u"C:\\A\\MsMpEng.EXE";
  EXPECT_FALSE(matches(op));
  op.image = u"C:\\A\\MsMpEng.exe.bak";
  EXPECT_TRUE(matches(op));
  // KELVIN SIGN is not K, long s is not s: a look-alike image must not meet `unless`.
  op.image = u"C:\\A\\m\u017fmpeng.exe";
  EXPECT_TRUE(matches(op));
}

TEST_F(Conditions, KeyIsTheKernelForm) {
  use(value_entry_with("        when: {key|startswith: '\\registry\\machine\\software\\t'}\n"));
  EXPECT_TRUE(matches(set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"))));
  // (`key|startswith: 'HKLM'` is a policy error: it could never hold.)
  use(value_entry_with("        when: {key|contains: 'HKLM\\SOFTWARE'}\n"));
  EXPECT_FALSE(matches(set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"))));
}

TEST_F(Conditions, TargetObjectIsSysmonsForm) {
  use(R"(  - key: 'HKLM\**'
    client: c
    rules: [create-key]
    when: {target_object: ['HKLM\System\CurrentControlSet\Services\X', 'HKCR\CLSID\{A}', 'HKLM\SOFTWARE\T']}
    values:
      - name: '*'
        rules: [set-value]
        when: {target_object|endswith: ['\T\Run', '\T\(Default)']}
  - key: 'HKU\**'
    client: u
    rules: [create-key]
    when: {target_object|startswith: 'HKU\S-1-5-21-1_Classes\CLSID'}
)");
  EXPECT_TRUE(matches({.op = Operation::kCreateKey,
                       .key = u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services\\X"}));
  EXPECT_FALSE(matches({.op = Operation::kCreateKey,
                        .key = u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\X"}))
      << "only the policy's control set is CurrentControlSet";
  EXPECT_TRUE(
      matches({.op = Operation::kCreateKey, .key = u"HKLM\\SOFTWARE\\Classes\\CLSID\\{a}"}));
  EXPECT_TRUE(matches({.op = Operation::kCreateKey, .key = u"HKLM\\SOFTWARE\\T"}));
  EXPECT_TRUE(matches({.op = Operation::kCreateKey, .key = u"HKU\\S-1-5-21-1_Classes\\CLSID\\x"}));
  Op run = set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"));
  run.value = u"Run";
  EXPECT_TRUE(matches(run)) << "value appended";
  Op default_value = set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"));
  default_value.value = u"";
  EXPECT_TRUE(matches(default_value)) << "the default value is (Default)";
  Op other = set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"));
  other.value = u"Other";
  EXPECT_FALSE(matches(other));
}

// Sysmon's NewName is the new key's whole path (TargetObject form, the active set as
// CurrentControlSet); new_name is only its last component. Sigma's MiniNt rule names the path:
// mapped onto new_name it could never hold.
TEST_F(Conditions, NewTargetObjectIsTheWholeNewPathAsSysmonWritesIt) {
  use(R"(  - key: 'HKLM\SYSTEM\**'
    client: c
    rules: [rename-key]
    when: {new_target_object: 'HKLM\SYSTEM\CurrentControlSet\Control\MiniNt'}
)");
  EXPECT_TRUE(matches({.op = Operation::kRenameKey,
                       .key = u"HKLM\\SYSTEM\\ControlSet002\\Control\\Staged",
                       .new_name = u"minint"}));
  EXPECT_FALSE(matches({.op = Operation::kRenameKey,
                        .key = u"HKLM\\SYSTEM\\ControlSet001\\Control\\Staged",
                        .new_name = u"MiniNt"}))
      << "not the active control set (2): Sysmon writes ControlSet001";
  EXPECT_FALSE(matches({.op = Operation::kRenameKey,
                        .key = u"HKLM\\SYSTEM\\ControlSet002\\Control\\Staged",
                        .new_name = u"MiniNtX"}));
  EXPECT_FALSE(matches(
      {.op = Operation::kCreateKey, .key = u"HKLM\\SYSTEM\\ControlSet002\\Control\\MiniNt"}))
      << "only a rename has a new name";
}

TEST_F(Conditions, ValueNewNameAndUser) {
  use(R"(  - key: 'HKU\*\T'
    client: c
    rules: [rename-key]
    when: {new_name|startswith: 'evil', user: 'S-1-5-21-7'}
    values:
      - name: '*'
        rules: [set-value]
        when: {value: 'Ru?'}
)");
  EXPECT_TRUE(matches(
      {.op = Operation::kRenameKey, .key = u"HKU\\S-1-5-21-7\\T", .new_name = u"EvilName"}));
  EXPECT_TRUE(matches(
      {.op = Operation::kRenameKey, .key = u"HKU\\S-1-5-21-7_Classes\\T", .new_name = u"evil"}))
      << "per-user classes belong to the same user";
  EXPECT_FALSE(
      matches({.op = Operation::kRenameKey, .key = u"HKU\\S-1-5-21-8\\T", .new_name = u"evil"}));
  EXPECT_FALSE(
      matches({.op = Operation::kRenameKey, .key = u"HKU\\S-1-5-21-7\\T", .new_name = u"good"}));
  Op run = set(u"HKU\\S-1-5-21-7\\T", kSz, utf16le(u"x"));
  run.value = u"RUN";
  EXPECT_TRUE(matches(run));
  run.value = u"Runs";
  EXPECT_FALSE(matches(run));
}

TEST_F(Conditions, DataStringsAndNumbers) {
  use(value_entry_with(R"(        when:
          - {data|contains: 'powershell'}
          - {data|qword|gt: 0xFFFFFFFF}
          - {data|dword|lt: 2}
          - {data|type: binary}
)"));
  const std::u16string_view key = u"HKLM\\SOFTWARE\\T";
  EXPECT_TRUE(matches(set(key, kSz, utf16le(u"C:\\x\\PowerShell.exe -enc"))));
  EXPECT_TRUE(matches(set(key, kExpandSz, utf16le(u"%x%\\powershell"))));
  EXPECT_TRUE(matches(set(key, kMultiSz, utf16le(std::u16string_view(u"a\0b powershell", 14)))));
  EXPECT_FALSE(matches(set(key, kSz, utf16le(u"cmd.exe"))));
  EXPECT_FALSE(matches(set(key, kSz, utf16le(u"x") + utf16le(u"powershell"))))
      << "a REG_SZ ends at its first NUL";
  EXPECT_TRUE(matches(set(key, kQword, le(0x100000000ull, 8))));
  EXPECT_FALSE(matches(set(key, kQword, le(5, 8))));
  EXPECT_TRUE(matches(set(key, kDword, le(1, 4))));
  EXPECT_FALSE(matches(set(key, kDword, le(2, 4))));
  EXPECT_FALSE(matches(set(key, kDword, le(1, 3)))) << "a DWORD is 4 bytes";
  EXPECT_TRUE(matches(set(key, kBinary, "\x01\x02")));
  EXPECT_FALSE(matches(set(key, 0, "\x01\x02")));
}

TEST_F(Conditions, DataNumbersWithoutWidthAndDetailsNumbers) {
  use(value_entry_with("        when: {data|gt: 4, details|lt: 100}\n"));
  const std::u16string_view key = u"HKLM\\SOFTWARE\\T";
  EXPECT_TRUE(matches(set(key, kDword, le(5, 4))));
  EXPECT_TRUE(matches(set(key, kQword, le(99, 8))));
  EXPECT_FALSE(matches(set(key, kQword, le(100, 8))));
  EXPECT_FALSE(matches(set(key, kDword, le(4, 4))));
  EXPECT_FALSE(matches(set(key, kSz, utf16le(u"50")))) << "a string is no number";
}

TEST_F(Conditions, DetailsAsSysmonWritesThem) {
  use(value_entry_with(
      R"(        when: {details: ['DWORD (0x0000002a)', 'QWORD (0x00000001-0x00000002)', 'Binary Data', '(Empty)', 'c:\a*.exe']}
)"));
  const std::u16string_view key = u"HKLM\\SOFTWARE\\T";
  EXPECT_TRUE(matches(set(key, kDword, le(42, 4))));
  EXPECT_FALSE(matches(set(key, kDword, le(43, 4))));
  EXPECT_TRUE(matches(set(key, kQword, le(0x100000002ull, 8))));
  EXPECT_TRUE(matches(set(key, kBinary, "\x01")));
  EXPECT_TRUE(matches(set(key, kSz, utf16le(u""))));
  EXPECT_TRUE(matches(set(key, kBinary, "")));
  EXPECT_TRUE(matches(set(key, kSz, utf16le(u"C:\\AB\\x.EXE"))));
  EXPECT_FALSE(matches(set(key, kSz, utf16le(u"C:\\AB\\x.dll"))));
}

TEST_F(Conditions, ModifiersAllStartsWithAndGlobs) {
  use(value_entry_with(R"(        when:
          image|contains|all: ['\temp\', 'tool']
          image|startswith: 'c:\'
          image: '*.e?e'
)"));
  Op op = set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x"));
  op.image = u"C:\\Temp\\mytool.exe";
  EXPECT_TRUE(matches(op));
  op.image = u"C:\\Temp\\mytool.dll";
  EXPECT_FALSE(matches(op)) << "glob";
  op.image = u"C:\\Temp\\other.exe";
  EXPECT_FALSE(matches(op)) << "all";
  op.image = u"D:\\Temp\\mytool.exe";
  EXPECT_FALSE(matches(op)) << "startswith";
}

TEST_F(Conditions, ModifierValuesAreLiteral) {
  use(value_entry_with("        when: {data|contains: 'a*b'}\n"));
  EXPECT_TRUE(matches(set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"xa*by"))));
  EXPECT_FALSE(matches(set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"xazzby"))));
}

TEST_F(Conditions, AFieldTheOperationLacksFailsItsTest) {
  use(value_entry_with("        when: {data|contains: 'x'}\n"));
  EXPECT_FALSE(matches({.op = Operation::kDeleteValue, .key = u"HKLM\\SOFTWARE\\T"}));
  use(value_entry_with("        unless: {data|contains: 'x'}\n"));
  EXPECT_TRUE(matches({.op = Operation::kDeleteValue, .key = u"HKLM\\SOFTWARE\\T"}))
      << "an unless that cannot hold does not stop the entry";
}

TEST_F(Conditions, KeyEntryConditionsApplyToKeyOperations) {
  use(R"(  - key: 'HKLM\SOFTWARE\T'
    client: c
    rules: [create-key, create-key-deny, delete-key, tamper-protection]
    when: {image|endswith: '\evil.exe'}
)");
  EXPECT_EQ(
      decide({.op = Operation::kCreateKey, .key = u"HKLM\\SOFTWARE\\T", .image = u"C:\\evil.exe"})
          .reason,
      Reason::kTamperProtection);
  const Decision d =
      decide({.op = Operation::kCreateKey, .key = u"HKLM\\SOFTWARE\\T", .image = u"C:\\ok.exe"});
  EXPECT_EQ(d.reason, Reason::kNoMatch) << "tamper-protection counts only when conditions hold";
  EXPECT_EQ(d.rules, 0u);
}

TEST_F(Conditions, CaptureBitOnlyWhenConditionsHold) {
  use(R"(  - key: 'HKLM\SOFTWARE\T'
    client: c
    values:
      - name: V
        rules: [set-value, set-value-capture]
        when: {data|dword: 7}
      - name: '*'
        rules: [set-value]
)");
  EXPECT_TRUE(decide(set(u"HKLM\\SOFTWARE\\T", kDword, le(7, 4))).capture_old_value);
  const Decision d = decide(set(u"HKLM\\SOFTWARE\\T", kDword, le(8, 4)));
  EXPECT_EQ(d.reason, Reason::kNotify);
  EXPECT_FALSE(d.capture_old_value);
}

// The matcher ORs the rules of every matched entry, also past kMaxMatchHits: still so when each
// entry has conditions (only those whose conditions hold count).
TEST_F(Conditions, RulesStayExactPastTheHitLimit) {
  std::string yaml;
  for (std::uint32_t i = 0; i < kMaxMatchHits + 40; ++i) {
    const bool last = i == kMaxMatchHits + 39;
    yaml += "  - key: 'HKLM\\SOFTWARE\\T'\n    client: c" + std::to_string(i) +
            "\n    values:\n      - name: V\n        rules: [set-value" +
            (last ? ", set-value-deny" : "") +
            "]\n        when: {data|dword: " + (last ? "9" : "1") + "}\n";
  }
  use(yaml);
  const Decision nine = decide(set(u"HKLM\\SOFTWARE\\T", kDword, le(9, 4)));
  EXPECT_EQ(nine.reason, Reason::kDenyRule);
  EXPECT_EQ(scratch_->match.hit_count, 1u);
  const Decision one = decide(set(u"HKLM\\SOFTWARE\\T", kDword, le(1, 4)));
  EXPECT_EQ(one.reason, Reason::kNotify) << "the deny entry's condition does not hold";
  EXPECT_TRUE(scratch_->match.hits_truncated);
}

TEST_F(Conditions, WorkIsBoundedAndFailsClosed) {
  use(value_entry_with("        when: {data|contains: '" + std::string(4000, 'a') + "b'}\n"));
  // Every position compares ~4000 units: far past kMaxConditionWork.
  const Decision d = decide(set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(std::u16string(200000, u'a'))));
  EXPECT_EQ(d.reason, Reason::kMatchLimit);
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_LE(scratch_->match.condition_work, kMaxConditionWork + 5000);
}

TEST_F(Conditions, NoConditionsNoWork) {
  use(kValueEntry);
  EXPECT_FALSE(policy_->view.has_conditions());
  decide(set(u"HKLM\\SOFTWARE\\T", kSz, utf16le(u"x")));
  EXPECT_EQ(scratch_->match.condition_work, 0u);
}

TEST(Details, RenderedAsSysmonDoes) {
  auto text = [](std::uint32_t type, const std::string& data) {
    const Details d = render_details(type, data);
    switch (d.kind) {
      case DetailsKind::kNumber:
        return utf16_to_utf8(std::u16string_view(d.number, d.number_length));
      case DetailsKind::kEmpty:
        return std::string("(Empty)");
      case DetailsKind::kBinary:
        return std::string("Binary Data");
      case DetailsKind::kString:
        return std::string("string:") + std::to_string(d.string_bytes.size());
    }
    return std::string();
  };
  EXPECT_EQ(text(kDword, le(1, 4)), "DWORD (0x00000001)");
  EXPECT_EQ(text(kDword, le(0xDEADBEEF, 4)), "DWORD (0xdeadbeef)");
  EXPECT_EQ(text(kQword, le(0x0000000162fe44fcull, 8)), "QWORD (0x00000001-0x62fe44fc)");
  EXPECT_EQ(text(kBinary, "\x01"), "Binary Data");
  EXPECT_EQ(text(kDword, le(1, 3)), "Binary Data");
  EXPECT_EQ(text(kBinary, ""), "(Empty)");
  EXPECT_EQ(text(kSz, utf16le(u"")), "(Empty)");
  EXPECT_EQ(text(kSz, utf16le(u"ab")), "string:4");
}

// Hostile condition sections: each damage is refused by the validator.
class HostileConditions : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = test::compile_yaml_blob(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\T'
    client: c
    rules: [create-key]
    when: {image|endswith: '\a.exe'}
    unless: [{key|contains: 'x'}, {target_object: 'y'}]
)");
    ASSERT_TRUE(test::load_blob(bytes_));
  }
  blob::Header header() const {
    blob::Header h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    return h;
  }
  template <class T>
  T* record(blob::Section s, std::uint32_t i) {
    return reinterpret_cast<T*>(bytes_.data() + header().sections[s].offset) + i;
  }
  void reseal() {
    blob::Header h = header();
    h.checksum = checksum32(bytes_.data() + sizeof h, bytes_.size() - sizeof h);
    std::memcpy(bytes_.data(), &h, sizeof h);
  }
  std::string refused() {
    reseal();
    PolicyError error;
    if (test::load_blob(bytes_, &error)) return "";
    return error.what;
  }
  std::vector<unsigned char> bytes_;
};

TEST_F(HostileConditions, EntryRangesOutOfBounds) {
  record<blob::Entry>(blob::kEntries, 0)->when = {0, 99};
  EXPECT_EQ(refused(), "bad entry");
  SetUp();
  record<blob::Entry>(blob::kEntries, 0)->unless = {0xFFFFFFFFu, 2};
  EXPECT_EQ(refused(), "bad entry");
}

TEST_F(HostileConditions, GroupsTestsAndOperands) {
  record<blob::Range>(blob::kConditionGroups, 0)->count = 50;
  EXPECT_EQ(refused(), "bad condition group");
  SetUp();
  record<blob::Range>(blob::kConditionGroups, 0)->count = 0;
  EXPECT_EQ(refused(), "bad condition group");
  SetUp();
  record<blob::ConditionTest>(blob::kConditionTests, 0)->field = 99;
  EXPECT_EQ(refused(), "bad condition test");
  SetUp();
  record<blob::ConditionTest>(blob::kConditionTests, 0)->match = 0;
  EXPECT_EQ(refused(), "bad condition test");
  SetUp();
  record<blob::ConditionTest>(blob::kConditionTests, 1)->flags = 0x80;
  EXPECT_EQ(refused(), "bad condition test");
  SetUp();
  record<blob::ConditionTest>(blob::kConditionTests, 2)->operands = {1, 0xFFFFFFFFu};
  EXPECT_EQ(refused(), "bad condition test");
  SetUp();
  record<blob::ConditionOperand>(blob::kConditionOperands, 0)->text.length = 1u << 30;
  EXPECT_EQ(refused(), "bad condition test");
}

TEST_F(HostileConditions, OperandsOverlappingOrOutOfOrderAreRefused) {
  // Tests sharing operands could make the validator check each one many times.
  record<blob::ConditionTest>(blob::kConditionTests, 1)->operands.first = 0;
  EXPECT_EQ(refused(), "bad condition test");
}

// The validator does not check that operands are folded (that would not be linear); evaluation
// folds both sides, so an unfolded operand in a hand-made blob still compares without case.
TEST_F(HostileConditions, UnfoldedOperandsStillCompareWithoutCase) {
  const blob::ConditionOperand& o = *record<blob::ConditionOperand>(blob::kConditionOperands, 0);
  char16_t* strings = record<char16_t>(blob::kStrings, 0);
  ASSERT_EQ(strings[o.text.offset + 1], u'A');
  strings[o.text.offset + 1] = u'a';
  reseal();
  auto policy = test::load_blob(bytes_);
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  const Decision d = test::decide_text(
      policy->view,
      {.op = Operation::kCreateKey, .key = u"HKLM\\SOFTWARE\\T", .image = u"C:\\A.EXE"}, *scratch);
  EXPECT_EQ(d.reason, Reason::kNotify);
}

}  // namespace
}  // namespace hivewarden
