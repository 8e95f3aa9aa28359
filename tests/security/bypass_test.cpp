// Attempts to change what the built-in default policy protects by another name or route. Each is
// one test case; docs/SECURITY.md describes every route and how it is closed.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/decide_text.hpp"
#include "../support/files.hpp"
#include "../support/test_policy.hpp"
#include "bypass_data.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

enum class Expect { kDenied, kReported, kDistinct };  // kDistinct: a different key, rightly untouched

struct Attempt {
  const char* route = "";  // docs/SECURITY.md section
  const char* what = "";
  Operation op = Operation::kCreateKey;
  std::u16string key = {};
  std::u16string value = {};
  std::u16string new_name = {};
  std::u16string image = u"C:\\Users\\eve\\Downloads\\tool.exe";
  std::uint32_t pid = 6666;
  Expect expect = Expect::kDenied;
  std::u16string user_sid = {};
};

void PrintTo(const Attempt& a, std::ostream* os) { *os << a.route << ": " << a.what; }

const std::u16string kDefender = u"HKLM\\SOFTWARE\\Microsoft\\Windows Defender";
const std::u16string kService = u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend";
const std::u16string kPolicyKey = u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender";
const std::u16string kSid = u"S-1-5-21-1004336348-1177238915-682003330-1001";

std::u16string nul_in(std::u16string s, std::size_t at) {
  s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), u'\0');
  return s;
}

std::vector<Attempt> attempts() {
  const Operation set = Operation::kSetValue, del = Operation::kDeleteValue, create = Operation::kCreateKey,
                  dkey = Operation::kDeleteKey, ren = Operation::kRenameKey, restore = Operation::kRestoreKey,
                  replace = Operation::kReplaceKey;
  std::vector<Attempt> a = {
      // Case and Unicode case.
      {"case", "lower case key", set, u"hklm\\software\\microsoft\\windows defender", u"DisableAntiSpyware"},
      {"case", "upper case value", set, kDefender, u"DISABLEANTISPYWARE"},
      {"case", "mixed case everything", set, u"HkLm\\SoFtWaRe\\MiCrOsOfT\\WiNdOwS dEfEnDeR", u"disableantispyware"},
      {"case", "dotless i (U+0131) folds with I", set, u"HKLM\\SOFTWARE\\Microsoft\\W\u0131ndows Defender", u"DisableAntiSpyware"},
      {"case", "long s (U+017F) folds with S", set, kDefender, u"Di\u017FableAntiSpyware"},
      {"case", "Kelvin sign (U+212A) folds with K", set, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", u"Start"},
      {"case", "fullwidth W is another name", set, u"HKLM\\SOFTWARE\\Microsoft\\\uFF37indows Defender", u"DisableAntiSpyware",
       {}, u"C:\\x.exe", 1, Expect::kDistinct},
      {"case", "Cyrillic e is another name", set, u"HKLM\\SOFTWARE\\Microsoft\\Windows D\u0435fender", u"DisableAntiSpyware",
       {}, u"C:\\x.exe", 1, Expect::kDistinct},
      // Every alias of the root.
      {"roots", "HKEY_LOCAL_MACHINE", set, u"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender", u"DisableAntiSpyware"},
      {"roots", "kernel form", set, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender", u"DisableAntiSpyware"},
      {"roots", "kernel form, lower case", set, u"\\registry\\machine\\software\\microsoft\\windows defender", u"DisableAntiSpyware"},
      {"roots", "kernel form without leading separator", set, u"REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender", u"DisableAntiSpyware"},
      {"roots", "hkey_local_machine lower case", set, u"hkey_local_machine\\software\\microsoft\\windows defender", u"DisableAntiSpyware"},
      {"roots", "HKCC reaches the control set", set, u"HKCC\\..\\Services\\WinDefend", u"Start", {}, u"C:\\x.exe", 1, Expect::kDistinct},
      {"roots", "hardened key through HKEY_LOCAL_MACHINE", dkey, u"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\WinDefend"},
      {"roots", "hardened key through the kernel form", dkey, u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\WinDefend"},
      // Control sets.
      {"control-sets", "CurrentControlSet", set, kService, u"Start"},
      {"control-sets", "ControlSet001", set, u"HKLM\\SYSTEM\\ControlSet001\\Services\\WinDefend", u"Start"},
      {"control-sets", "stand-by ControlSet002", set, u"HKLM\\SYSTEM\\ControlSet002\\Services\\WinDefend", u"Start"},
      {"control-sets", "stand-by ControlSet003, a subkey", set, u"HKLM\\SYSTEM\\ControlSet003\\Services\\WinDefend\\Parameters", u"X"},
      {"control-sets", "WdFilter in a stand-by set", set, u"HKLM\\SYSTEM\\ControlSet002\\Services\\WdFilter", u"Start"},
      {"control-sets", "switch the next boot to another set", set, u"HKLM\\SYSTEM\\Select", u"Current"},
      {"control-sets", "LastKnownGood", set, u"HKLM\\SYSTEM\\Select", u"LastKnownGood"},
      {"control-sets", "delete the selection", del, u"HKLM\\SYSTEM\\Select", u"Default"},
      // Separators.
      {"separators", "trailing separator", set, kDefender + u"\\", u"DisableAntiSpyware"},
      {"separators", "doubled separator inside", set, u"HKLM\\SOFTWARE\\Microsoft\\\\Windows Defender", u"DisableAntiSpyware"},
      {"separators", "doubled trailing separator", set, kDefender + u"\\\\", u"DisableAntiSpyware"},
      {"separators", "doubled separator in a hardened key", dkey, u"HKLM\\SYSTEM\\CurrentControlSet\\\\Services\\WinDefend"},
      {"separators", "separator in a rename's new name", ren, u"HKLM\\SOFTWARE\\Microsoft\\Decoy", {}, u"x\\Windows Defender"},
      // NUL and odd characters.
      {"nul", "NUL inside a Win32 key name", set, nul_in(kDefender, 30), u"DisableAntiSpyware"},
      {"nul", "NUL at the end of a Win32 key name", set, kDefender + std::u16string(1, u'\0'), u"DisableAntiSpyware"},
      {"nul", "NUL in a Win32 value name", set, kDefender, nul_in(u"DisableAntiSpyware", 7)},
      {"nul", "kernel-form name with NUL is another key", set,
       nul_in(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender", 50), u"DisableAntiSpyware", {}, u"C:\\x.exe", 1,
       Expect::kDistinct},
      {"nul", "NUL in a rename's new name (Win32)", ren, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Decoy", {}, nul_in(u"WinDefend", 9)},
      {"nul", "trailing space is another name", set, kDefender + u" ", u"DisableAntiSpyware", {}, u"C:\\x.exe", 1, Expect::kDistinct},
      // Lengths.
      {"lengths", "component of 256 units", create, kDefender + u"\\Exclusions\\" + std::u16string(256, u'A')},
      {"lengths", "value name over 16,383 units", set, kDefender, std::u16string(16384, u'A')},
      {"lengths", "255-unit name under the exclusions is still an exclusion", create,
       kDefender + u"\\Exclusions\\" + std::u16string(255, u'A')},
      {"lengths", "path over 512 levels", create, [] {
         std::u16string k = u"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions";
         for (int i = 0; i < 520; ++i) k += u"\\a";
         return k;
       }()},
      // Renaming.
      {"rename", "rename the protected key away", ren, kDefender, {}, u"Disabled"},
      {"rename", "rename its parent away", ren, u"HKLM\\SOFTWARE\\Microsoft", {}, u"Moved"},
      {"rename", "rename a prepared key into its place", ren, u"HKLM\\SOFTWARE\\Microsoft\\Prepared", {}, u"Windows Defender"},
      {"rename", "rename the policy key away", ren, kPolicyKey, {}, u"Old"},
      {"rename", "rename a prepared key into the policy place", ren, u"HKLM\\SOFTWARE\\Policies\\Microsoft\\Evil", {}, u"Windows Defender"},
      {"rename", "rename the hardened service key", ren, kService, {}, u"Gone"},
      {"rename", "rename a decoy onto the hardened name", ren, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Decoy", {}, u"WinDefend"},
      {"rename", "rename Services, the hardened key's parent", ren, u"HKLM\\SYSTEM\\CurrentControlSet\\Services", {}, u"S2"},
      {"rename", "rename a decoy onto the name in another case", ren, u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\Decoy", {}, u"windefend"},
      // Restoring over and replacing ancestors.
      {"restore-replace", "restore over the protected key", restore, kDefender},
      {"restore-replace", "restore over its parent", restore, u"HKLM\\SOFTWARE\\Microsoft"},
      {"restore-replace", "restore over SOFTWARE", restore, u"HKLM\\SOFTWARE"},
      {"restore-replace", "replace the SOFTWARE hive", replace, u"HKLM\\SOFTWARE"},
      {"restore-replace", "restore over the policy key's parent", restore, u"HKLM\\SOFTWARE\\Policies\\Microsoft"},
      {"restore-replace", "restore over the hardened service key", restore, kService},
      {"restore-replace", "restore over Services", restore, u"HKLM\\SYSTEM\\CurrentControlSet\\Services"},
      {"restore-replace", "replace the SYSTEM hive", replace, u"HKLM\\SYSTEM"},
      // Deleting and recreating.
      {"delete-recreate", "delete the protected value", del, kDefender, u"DisableAntiSpyware"},
      {"delete-recreate", "delete the protected key", dkey, kDefender},
      {"delete-recreate", "delete the hardened key", dkey, kService},
      // Deleting a key deletes its values (SPEC 4.3): the boot selection's values are protected.
      {"delete-values", "delete the key of protected values", dkey, u"HKLM\\SYSTEM\\Select"},
      {"delete-values", "through HKEY_LOCAL_MACHINE", dkey, u"HKEY_LOCAL_MACHINE\\SYSTEM\\Select"},
      {"delete-values", "through the kernel form", dkey, u"\\REGISTRY\\MACHINE\\SYSTEM\\Select"},
      {"delete-values", "kernel form, other case", dkey, u"\\registry\\machine\\system\\SELECT"},
      {"delete-values", "lower case, trailing separator", dkey, u"hklm\\system\\select\\"},
      {"delete-values", "long s (U+017F) folds with S", dkey, u"HKLM\\\u017FYSTEM\\\u017Felect"},
      {"delete-values", "pid 4 without the image System", dkey, u"HKLM\\SYSTEM\\Select", {}, {}, u"", 4},
      {"delete-values", "tamper-protected switches' key by the AV service", dkey, kDefender, {}, {},
       u"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.1\\MsMpEng.exe", 3312},
      {"delete-values", "a key under the policy key (`**`, value `*`)", dkey, kPolicyKey + u"\\Real-Time Protection"},
      {"delete-values", "a Select lookalike is another key", dkey, u"HKLM\\SYSTEM\\Selection", {}, {}, u"C:\\x.exe", 1,
       Expect::kDistinct},
      // pid 4 is System only with the image System (SPEC 9).
      {"processes", "pid 4 with no image is not System", dkey, kService, {}, {}, u"", 4},
      {"processes", "pid 4 with no image deletes no hardened key in a stand-by set", dkey,
       u"HKLM\\SYSTEM\\ControlSet002\\Services\\WdFilter", {}, {}, u"", 4},
      // A rename's new name is canonicalised: CurrentControlSet is the active control set.
      {"rename", "rename a stand-by set onto CurrentControlSet", ren, u"HKLM\\SYSTEM\\ControlSet002", {}, u"CurrentControlSet"},
      {"rename", "the same in lower case, kernel form", ren, u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet009", {},
       u"currentcontrolset"},
      {"delete-recreate", "recreate an exclusion key", create, kDefender + u"\\Exclusions\\Paths"},
      {"delete-recreate", "create the hardened key anew", create, u"HKLM\\SYSTEM\\ControlSet002\\Services\\WinDefend"},
      {"delete-recreate", "set a value in a recreated policy key", set, kPolicyKey + u"\\Real-Time Protection", u"DisableRealtimeMonitoring"},
      // Per-user hives and processes.
      {"per-user", "Run key through HKCU", set, u"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", u"x", {},
       u"C:\\x.exe", 1, Expect::kReported, kSid},
      {"per-user", "Run key through HKU and the SID", set, u"HKU\\" + kSid + u"\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", u"x",
       {}, u"C:\\x.exe", 1, Expect::kReported},
      {"per-user", "RunOnce through the kernel form", set,
       u"\\REGISTRY\\USER\\" + kSid + u"\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce", u"x", {}, u"C:\\x.exe", 1,
       Expect::kReported},
      {"processes", "a fake AV image name elsewhere", set, kDefender, u"DisableAntiSpyware", {},
       u"C:\\Users\\eve\\MsMpEng.exe"},
      {"processes", "AV image reached through `..`", dkey, kService, {}, {},
       u"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\..\\MsMpEng.exe"},
      {"processes", "a deeper path under the AV folder", dkey, kService, {}, {},
       u"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\a\\b\\MsMpEng.exe"},
      {"processes", "the real AV service is still bound by tamper protection", set, kDefender, u"DisableAntiSpyware", {},
       u"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.1\\MsMpEng.exe", 3312},
      {"processes", "pid 4 with another name is not System", dkey, kService, {}, {}, u"C:\\evil.exe", 4},
      // Images compare ASCII letters regardless of case, every other unit exactly: a look-alike
      // letter names another file and gets nothing (attack on the fixes, F4/F7).
      {"processes", "pid 4 named System with a long s", dkey, kService, {}, {}, u"SY\u017fTEM", 4},
      {"processes", "the AV service's folder with a long s", dkey, kService, {}, {},
       u"C:\\Program File\u017f\\Windows Defender\\MsMpEng.exe"},
      {"processes", "the AV service's name with a long s", dkey, kService, {}, {},
       u"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.1\\M\u017fMpEng.exe"},
      {"processes", "the AV image with a dotless i for I", set,
       u"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection", u"DisableRealtimeMonitoring", {},
       u"C:\\Program Files\\W\u0131ndows Defender\\MsMpEng.exe"},
  };
  return a;
}

class Bypass : public ::testing::TestWithParam<Attempt> {
 protected:
  static void SetUpTestSuite() {
    policy_ = test::default_policy().release();
    ASSERT_TRUE(policy_);
    view_ = &policy_->view;
  }
  static void TearDownTestSuite() { delete policy_; }
  static test::CompiledPolicy* policy_;
  static PolicyView* view_;
};
test::CompiledPolicy* Bypass::policy_ = nullptr;
PolicyView* Bypass::view_ = nullptr;

TEST_P(Bypass, IsClosed) {
  const Attempt& a = GetParam();
  auto scratch = std::make_unique<DecisionScratch>();
  const test::TextOperation op{.op = a.op,
                               .key = a.key,
                               .value = a.value,
                               .new_name = a.new_name,
                               .image = a.image,
                               .pid = a.pid,
                               .user_sid = a.user_sid};
  const PathStatus named = test::key_status(*view_, op);
  ASSERT_TRUE(named == PathStatus::kOk || named == PathStatus::kInvalidName) << a.what;
  const Decision d = test::decide_text(*view_, op, *scratch);
  switch (a.expect) {
    case Expect::kDenied:
      EXPECT_EQ(d.verdict, Verdict::kDeny) << a.route << ": " << a.what << " -> " << reason_name(d.reason);
      break;
    case Expect::kReported:
      EXPECT_NE(d.notify, NotifyMode::kNone) << a.route << ": " << a.what << " -> " << reason_name(d.reason);
      break;
    case Expect::kDistinct:
      EXPECT_EQ(d.verdict, Verdict::kAllow) << a.route << ": " << a.what << " -> " << reason_name(d.reason);
      EXPECT_EQ(d.reason, Reason::kNoMatch) << a.what;
      break;
  }
}

std::string name_of(const ::testing::TestParamInfo<Attempt>& info) {
  std::string n = std::to_string(info.index) + "_" + info.param.route;
  for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(DefaultPolicy, Bypass, ::testing::ValuesIn(attempts()), name_of);

TEST(BypassSuite, HasAtLeastSixtyAttempts) { EXPECT_GE(attempts().size(), 60u); }

// The attempts as data for a real Windows test machine (scripts/windows/bypass-on-windows.ps1,
// docs/WINDOWS.md "On a real machine"): operations.jsonl is rendered from attempts() above and
// expected.jsonl is what `hivewarden eval` (built-in default policy) decides for it. Both are
// checked in; these tests fail when either differs from what the code renders or decides now.
// HIVEWARDEN_REGENERATE=1 rewrites them.
namespace fs = std::filesystem;
const fs::path kBypassData = fs::path(HIVEWARDEN_SOURCE_DIR) / "tests" / "security" / "bypass";
// The built-in default policy is embedded from this file (src/policy/CMakeLists.txt).
const fs::path kDefaultPolicyFile = fs::path(HIVEWARDEN_SOURCE_DIR) / "policies" / "default.yaml";
constexpr const char* kRegenerate =
    "regenerate with: HIVEWARDEN_REGENERATE=1 ctest --test-dir build -R BypassData (or "
    "HIVEWARDEN_REGENERATE=1 build/tests/security/hivewarden_security_tests "
    "--gtest_filter='BypassData.*'), "
    "then review and commit the diff";

// The suite's stand-ins for "any process the policy gives nothing": the script's own processes
// (reg.exe, powershell.exe) play them on a machine.
std::vector<std::u16string_view> ordinary_images() {
  static const std::u16string kDefaultImage = Attempt{}.image;
  return {kDefaultImage, u"C:\\x.exe"};
}

const char* expect_name(Expect e) {
  return e == Expect::kDenied ? "denied" : e == Expect::kReported ? "reported" : "distinct";
}

test::bypass_data::AttemptFields fields_of(const Attempt& a, std::size_t id) {
  return {.id = id,
          .route = a.route,
          .what = a.what,
          .expect = expect_name(a.expect),
          .op = a.op,
          .key = a.key,
          .value = a.value,
          .new_name = a.new_name,
          .image = a.image,
          .pid = a.pid,
          .user_sid = a.user_sid};
}

std::string rendered_operations() {
  std::string out;
  const std::vector<Attempt> all = attempts();
  for (std::size_t i = 0; i < all.size(); ++i)
    out += test::bypass_data::render_line(fields_of(all[i], i + 1), ordinary_images()) + "\n";
  return out;
}

bool regenerating() {
  const char* v = std::getenv("HIVEWARDEN_REGENERATE");
  return v != nullptr && std::string(v) == "1";
}

// The 1-based number of the first line where `a` and `b` differ (0 when equal).
std::size_t first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string lx, ly;
  for (std::size_t n = 1;; ++n) {
    const bool gx = static_cast<bool>(std::getline(x, lx)),
               gy = static_cast<bool>(std::getline(y, ly));
    if (!gx && !gy) return 0;
    if (gx != gy || lx != ly) return n;
  }
}

void expect_file_is(const fs::path& file, const std::string& current) {
  if (regenerating()) {
    test::write_text(file, current);
    std::cout << "rewrote " << file << "\n";
    return;
  }
  const std::string checked_in = test::read_text(file);
  EXPECT_EQ(checked_in, current) << file
                                 << " differs from what the current code gives, first at line "
                                 << first_difference(checked_in, current) << "; " << kRegenerate;
}

TEST(BypassData, OperationsFileIsRenderedFromTheSuite) {
  expect_file_is(kBypassData / "operations.jsonl", rendered_operations());
}

TEST(BypassData, ExpectedFileIsWhatEvalDecidesWithTheDefaultPolicy) {
  const test::TempDir dir("bypass-data");
  const fs::path input = test::write_text(dir / "operations.jsonl", rendered_operations());
  const test::ChildRun r = test::run_hivewarden(
      {"eval", "--policy", kDefaultPolicyFile.string(), "--input", input.string()},
      {.stdout_path = (dir / "out").string(), .stderr_path = (dir / "err").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_file_is(kBypassData / "expected.jsonl", r.out);
  // Every decision agrees with what the suite expects of the attempt (through the CLI this time).
  std::istringstream lines(r.out);
  std::string line;
  const std::vector<Attempt> all = attempts();
  for (const Attempt& a : all) {
    ASSERT_TRUE(std::getline(lines, line)) << "eval wrote fewer lines than there are attempts";
    const bool denied = line.find("\"decision\":\"deny\"") != std::string::npos;
    const bool silent = line.find("\"notify\":\"none\"") != std::string::npos;
    if (a.expect == Expect::kDenied) {
      EXPECT_TRUE(denied) << a.what << ": " << line;
    } else if (a.expect == Expect::kReported) {
      EXPECT_FALSE(silent) << a.what << ": " << line;
    } else {
      EXPECT_NE(line.find("\"reason\":\"no-match\""), std::string::npos) << a.what << ": " << line;
    }
  }
  EXPECT_FALSE(std::getline(lines, line)) << "eval wrote more lines than there are attempts";
}

// On a machine the operation comes from reg.exe or powershell.exe, not from the suite's stand-in
// image: the expected decisions hold there only if the policy treats those images alike.
TEST(BypassData, TheScriptsOwnProcessesAreDecidedLikeTheStandIns) {
  auto policy = test::default_policy();
  ASSERT_TRUE(policy);
  auto scratch = std::make_unique<DecisionScratch>();
  const std::vector<Attempt> all = attempts();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Attempt& a = all[i];
    if (!test::bypass_data::machine_obstacle(fields_of(a, i + 1), ordinary_images()).empty())
      continue;
    test::TextOperation op{.op = a.op,
                           .key = a.key,
                           .value = a.value,
                           .new_name = a.new_name,
                           .image = a.image,
                           .pid = a.pid,
                           .user_sid = a.user_sid};
    const Decision as_stated = test::decide_text(policy->view, op, *scratch);
    for (const std::u16string_view image :
         {u"C:\\Windows\\System32\\reg.exe",
          u"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"}) {
      op.image = image;
      op.pid = 7777;
      const Decision on_machine = test::decide_text(policy->view, op, *scratch);
      EXPECT_EQ(on_machine.verdict, as_stated.verdict) << a.what;
      EXPECT_EQ(on_machine.reason, as_stated.reason) << a.what;
      EXPECT_EQ(on_machine.notify, as_stated.notify) << a.what;
    }
  }
}

// Unreproducible attempts stay in the data, marked; every kind the script can do is exercised.
TEST(BypassData, EveryOperationKindReg_exeCanDoHasReproducibleAttempts) {
  std::set<Operation> reproducible;
  std::size_t marked = 0;
  const std::vector<Attempt> all = attempts();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string why =
        test::bypass_data::machine_obstacle(fields_of(all[i], i + 1), ordinary_images());
    if (why.empty())
      reproducible.insert(all[i].op);
    else
      ++marked;
  }
  for (const Operation op :
       {Operation::kCreateKey, Operation::kDeleteKey, Operation::kSetValue, Operation::kDeleteValue,
        Operation::kRenameKey, Operation::kRestoreKey})
    EXPECT_TRUE(reproducible.count(op))
        << traits(op).name << " has no attempt reg.exe can reproduce";
  EXPECT_GT(marked, 0u);
  EXPECT_LT(marked, all.size() / 2) << "most attempts should be reproducible on a machine";
}

}  // namespace
}  // namespace hivewarden
