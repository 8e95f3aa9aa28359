// Sigma's own regression pairs (a rule and a real event it must match): every rule that imports
// must report its event when the event is decided under the imported policy.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "../support/sysmon_event.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/replay/event.hpp"
#include "hivewarden/sigma/sigma_import.hpp"

namespace hivewarden::sigma {
namespace {

namespace fs = std::filesystem;
const fs::path kSigma = fs::path(HIVEWARDEN_SHARED_DATA) / "sigma";

std::vector<fs::path> rule_files() {
  std::vector<fs::path> out;
  for (const char* dir :
       {"rules", "rules-emerging-threats", "rules-threat-hunting", "deprecated"}) {
    if (!fs::exists(kSigma / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(kSigma / dir)) {
      if (e.path().extension() == ".yml") out.push_back(e.path());
    }
  }
  return out;
}

// A Sysmon registry event (evtx_dump JSON) as replay reads it: the operation it records is made by
// the replay's own mapping, so set-value's data reaches the engine the way `replay` gives it.
bool registry_event(const nlohmann::json& event, replay::RegistryEvent& out) {
  const nlohmann::json& d = event["Event"]["EventData"];
  auto text = [&](const char* name) {
    return d.contains(name) && d[name].is_string() ? d[name].get<std::string>() : std::string();
  };
  out = {};
  out.event_type = text("EventType");
  if (out.event_type.empty()) return false;
  out.event_id = event["Event"]["System"].value("EventID", 0u);
  out.target_object = text("TargetObject");
  out.details = text("Details");
  out.new_name_path = text("NewName");
  out.image = text("Image");
  if (d.contains("ProcessId") && d["ProcessId"].is_number_unsigned())
    out.pid = d["ProcessId"].get<std::uint32_t>();
  return true;
}

TEST(SigmaRegression, ShareOfRulesImportedWhole) {
  const auto files = rule_files();
  if (files.empty()) GTEST_SKIP() << "no Sigma rules under " << kSigma;
  std::size_t whole = 0, partial = 0, none = 0;
  for (const auto& f : files) {
    const RuleImport r = import_rule_file(f.string());
    (r.status == ImportStatus::kWhole     ? whole
     : r.status == ImportStatus::kPartial ? partial
                                          : none)++;
    // Never silently dropped: anything short of whole says why.
    if (r.status != ImportStatus::kWhole) {
      EXPECT_FALSE(r.notes.empty()) << f;
    }
  }
  EXPECT_EQ(files.size(), 289u);
  std::printf("[ sigma ] %zu rules: %zu imported whole (%.1f%%), %zu in part, %zu not at all\n",
              files.size(), whole,
              100.0 * static_cast<double>(whole) / static_cast<double>(files.size()), partial,
              none);
  EXPECT_GE(whole * 10, files.size() * 9);  // the issue: at least 90% whole
  const std::string policy_yaml = render_policy([&] {
    std::vector<RuleImport> all;
    for (const auto& f : files) all.push_back(import_rule_file(f.string()));
    return all;
  }());
  // Valid YAML in plan13's shape even before the compiler reads conditions: each `when`/`unless`
  // a list of maps of `field|modifiers` to a string or a list of strings.
  std::size_t conditioned = 0;
  for (const YAML::Node& entry : YAML::Load(policy_yaml)["monitored"]) {
    std::vector<YAML::Node> holders = {entry};
    for (const YAML::Node& v : entry["values"]) holders.push_back(v);
    for (const YAML::Node& h : holders) {
      for (const char* name : {"when", "unless"}) {
        if (!h[name]) continue;
        ++conditioned;
        ASSERT_TRUE(h[name].IsSequence()) << name;
        for (const YAML::Node& m : h[name]) {
          ASSERT_TRUE(m.IsMap());
          for (const auto& test : m) {
            EXPECT_TRUE(test.second.IsScalar() || test.second.IsSequence()) << test.first.Scalar();
          }
        }
      }
    }
  }
  EXPECT_GT(conditioned, 100u);
  ASSERT_TRUE(test::compile_yaml(policy_yaml, "sigma.yaml"));
}

// Whether `rule`, imported, reports one Sysmon event.
bool reports(const std::string& rule, const replay::RegistryEvent& event) {
  return test::policy_reports(render_policy({import_rule_text(rule, "t.yml")}), event);
}

// The engine counts a key's value entries when the key is deleted (SPEC §4.3); Sysmon logs that as
// the key's DeleteKey, which a rule on a value never matches. Before: every delete-key anywhere
// was reported by a rule on `\EulaAccepted` (1,751 false reports per such rule over OTRF).
TEST(SigmaImportDecides, ARuleOnAValueDoesNotReportDeletingAnyKey) {
  for (const char* category : {"registry_set", "registry_event"}) {
    const std::string rule = std::string("title: Eula\nid: 25ffa65d\nlogsource: {category: ") +
                             category +
                             ", product: windows}\ndetection:\n  selection:\n"
                             "    TargetObject|endswith: '\\EulaAccepted'\n"
                             "  condition: selection\n";
    EXPECT_TRUE(reports(rule, test::sysmon_event("SetValue",
                                                 "HKU\\S-1-5-21-1\\Software\\Sysinternals\\"
                                                 "PsExec\\EulaAccepted",
                                                 "DWORD (0x00000001)")))
        << category;
    EXPECT_FALSE(reports(
        rule,
        test::sysmon_event("DeleteKey", "HKU\\S-1-5-21-1\\Software\\Sysinternals\\PsExec", "")))
        << category;
  }
}

// Sigma's NewName is the new key's whole path (before: mapped onto new_name, the last component,
// so the MiniNt rule could never match the rename it exists for). Asserted on the rules the entry
// itself matched: a rename also counts what lies below the key (SPEC §4.3), which a `**` entry
// always may.
TEST(SigmaImportDecides, NewNameIsTheWholeNewPath) {
  const std::string rule =
      "title: MiniNt\nid: 919f2ef0\nlogsource: {category: registry_event, product: windows}\n"
      "detection:\n  selection:\n    NewName|endswith: '\\Control\\MiniNt'\n"
      "  condition: selection\n";
  const std::string policy = render_policy({import_rule_text(rule, "t.yml")});
  replay::RegistryEvent rename =
      test::sysmon_event("RenameKey", "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Staged", "");
  rename.new_name_path = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\MiniNt";
  EXPECT_NE(test::decide_event(policy, rename).rules & rule::kRenameKey, 0u) << policy;
  rename.new_name_path = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Other";
  EXPECT_EQ(test::decide_event(policy, rename).rules & rule::kRenameKey, 0u);
}

// A log says only `Binary Data` for binary data: `Details: 'Binary Data'` must still hold (the
// rule for new root certificates missed its OTRF event: the replayed operation had no details).
TEST(SigmaImportDecides, BinaryDataInALogMeetsDetailsBinaryData) {
  const std::string rule =
      "title: Cert\nid: d223b46b\nlogsource: {category: registry_set, product: windows}\n"
      "detection:\n  selection:\n"
      "    TargetObject|contains: '\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\"
      "Certificates\\'\n"
      "    TargetObject|endswith: '\\Blob'\n    Details: 'Binary Data'\n"
      "  condition: selection\n";
  const char* blob =
      "HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates\\AD7E\\Blob";
  EXPECT_TRUE(reports(rule, test::sysmon_event("SetValue", blob, "Binary Data")));
  EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", blob, "DWORD (0x00000001)")));
  EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", blob, "(Empty)")));
}

// Sigma's `*` and `?` are wildcards with contains/startswith/endswith too; the engine's
// modifiers compare literally. Before: such a rule imported "whole" and never reported.
TEST(SigmaImportDecides, WildcardsHoldWithEveryModifier) {
  const std::string rule =
      "title: Wild\nid: 5a1d0c0d\nlogsource: {category: registry_set, product: windows}\n"
      "detection:\n  selection:\n    TargetObject|endswith: '\\Software\\Evil\\Run'\n"
      "    Details|contains: '\\Users\\b*b\\AppData'\n"
      "    Image|startswith: 'C:\\Users\\b?b\\'\n"
      "  filter:\n    Details|endswith: '.d?l'\n"
      "  condition: selection and not filter\n";
  const char* key = "HKLM\\Software\\Evil\\Run";
  const char* bob = "C:\\Users\\bob\\AppData\\x.exe";
  EXPECT_TRUE(reports(rule, test::sysmon_event("SetValue", key, bob, "C:\\Users\\bob\\a.exe")));
  EXPECT_TRUE(reports(rule, test::sysmon_event("SetValue", key, "C:\\USERS\\BOXXB\\APPDATA\\x",
                                               "c:\\users\\bab\\a.exe")));
  EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", key, "C:\\Users\\bob\\AppData\\x.dll",
                                                "C:\\Users\\bob\\a.exe")));  // the filter
  EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", key, "C:\\Users\\ann\\AppData\\x",
                                                "C:\\Users\\bob\\a.exe")));
  EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", key, bob, "C:\\Users\\bo\\a.exe")));
  EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", key, bob, "D:\\Users\\bob\\a.exe")));
  const auto imported = import_rule_text(rule, "t.yml");
  EXPECT_EQ(imported.status, ImportStatus::kWhole);
}

// A TargetObject test naming CurrentControlSet holds for the active set (the engine sees
// ControlSet00N) and for a key that is itself named CurrentControlSet deeper down (Sysmon writes
// it as is). Before: the tree pattern said `ControlSet*` everywhere and missed the second.
TEST(SigmaImportDecides, CurrentControlSetAsAKeysOwnName) {
  const std::string rule =
      "title: CCS\nid: 0cc5e7a1\nlogsource: {category: registry_set, product: windows}\n"
      "detection:\n  selection:\n    TargetObject|endswith: '\\CurrentControlSet\\Services'\n"
      "  condition: selection\n";
  EXPECT_TRUE(
      reports(rule, test::sysmon_event("SetValue", "HKLM\\System\\CurrentControlSet\\Services",
                                       "DWORD (0x00000001)")));
  EXPECT_TRUE(reports(
      rule, test::sysmon_event("SetValue", "HKLM\\SOFTWARE\\Vendor\\CurrentControlSet\\Services",
                               "DWORD (0x00000001)")));
  EXPECT_FALSE(reports(
      rule, test::sysmon_event("SetValue", "HKLM\\SOFTWARE\\Vendor\\ControlSet001\\Services",
                               "DWORD (0x00000001)")));
}

// HKCR is a key (SOFTWARE\Classes), so a value sits right below it: `HKCR\Name` is the value
// Name of the classes root. Before: no entry for it (a value needed a root and a key).
TEST(SigmaImportDecides, AValueRightBelowHkcr) {
  for (const char* test : {"TargetObject|startswith: 'hkcr\\'", "TargetObject: 'HKCR\\Evil'"}) {
    const std::string rule =
        std::string(
            "title: HKCR\nid: 0c1a55e5\nlogsource: {category: registry_set, product: "
            "windows}\ndetection:\n  selection:\n    ") +
        test + "\n  condition: selection\n";
    EXPECT_TRUE(reports(rule, test::sysmon_event("SetValue", "HKCR\\Evil", "abc"))) << test;
    EXPECT_FALSE(reports(rule, test::sysmon_event("SetValue", "HKLM\\SOFTWARE\\Evil", "abc")))
        << test;
  }
}

// Sysmon writes the unnamed value as `\(Default)`, and Sigma compares without case: `(default)`
// or a wildcard over it names the unnamed value too (before: only `(Default)` spelt so did).
TEST(SigmaImportDecides, DefaultValueInAnyCaseOrPattern) {
  for (const char* test :
       {"TargetObject: 'HKLM\\SOFTWARE\\Evil\\(default)'",
        "TargetObject|endswith: '\\Evil\\(DEFAULT)'", "TargetObject|contains: '\\Evil\\(Def'"}) {
    const std::string rule =
        std::string(
            "title: Default\nid: 0defa017\nlogsource: {category: registry_set, product: "
            "windows}\ndetection:\n  selection:\n    ") +
        test + "\n  condition: selection\n";
    EXPECT_TRUE(
        reports(rule, test::sysmon_event("SetValue", "HKLM\\SOFTWARE\\Evil\\(Default)", "abc")))
        << test;
    EXPECT_FALSE(
        reports(rule, test::sysmon_event("SetValue", "HKLM\\SOFTWARE\\Evil\\Other", "abc")))
        << test;
  }
}

// Sigma compares EventType as any string: without case and with wildcards (before: only the
// exact spelling held, so `setvalue` or `Delete*` imported nothing).
TEST(SigmaImportDecides, EventTypeWithoutCaseAndWithWildcards) {
  const auto rule = [](const char* event_type) {
    return std::string(
               "title: ET\nid: 0e7e0001\nlogsource: {category: registry_event, product: "
               "windows}\ndetection:\n  selection:\n    EventType: ") +
           event_type + "\n    TargetObject|endswith: '\\Evil\\X'\n  condition: selection\n";
  };
  const char* target = "HKLM\\SOFTWARE\\Evil\\X";
  EXPECT_TRUE(reports(rule("setvalue"), test::sysmon_event("SetValue", target, "abc")));
  EXPECT_TRUE(reports(rule("'Delete*'"), test::sysmon_event("DeleteValue", target, "")));
  EXPECT_TRUE(reports(rule("'Delete*'"), test::sysmon_event("DeleteKey", target, "")));
  EXPECT_FALSE(reports(rule("'Delete*'"), test::sysmon_event("SetValue", target, "abc")));
  EXPECT_FALSE(reports(rule("[SetValue, CreateKey]"), test::sysmon_event("DeleteKey", target, "")));
}

TEST(SigmaRegression, EveryImportedRuleReportsItsRegressionEvent) {
  const fs::path regression = kSigma / "regression_data";
  if (!fs::exists(regression)) GTEST_SKIP() << "no regression data under " << regression;
  const auto files = rule_files();
  int pairs = 0, imported = 0, reported = 0;
  for (const auto& e : fs::recursive_directory_iterator(regression)) {
    if (e.path().filename() != "info.yml") continue;
    const YAML::Node info = YAML::LoadFile(e.path().string());
    const std::string rule_id = info["rule_metadata"][0]["id"].as<std::string>();
    fs::path rule_file;
    for (const auto& f : files) {
      if (f.stem() == e.path().parent_path().filename()) rule_file = f;
    }
    ASSERT_FALSE(rule_file.empty()) << "no rule for " << e.path();
    for (const auto& j : fs::directory_iterator(e.path().parent_path())) {
      if (j.path().extension() != ".json") continue;
      ++pairs;
      const RuleImport r = import_rule_file(rule_file.string());
      if (r.status == ImportStatus::kNone) continue;
      ++imported;
      EXPECT_EQ(r.id, rule_id) << rule_file;
      const fs::path policy_file =
          fs::temp_directory_path() / ("sigma-regression-" + rule_id + ".yaml");
      std::ofstream(policy_file) << render_policy({r});
      auto session = cli::open_policy_session(policy_file.string());
      fs::remove(policy_file);
      ASSERT_TRUE(session) << rule_file;
      // The file holds the rule's events one after another; at least match_count must be reported.
      const int expected = info["regression_tests_info"][0]["match_count"].as<int>(1);
      std::ifstream in(j.path());
      int events = 0, reports = 0;
      std::string missed;
      while ((in >> std::ws) && in.peek() != EOF) {
        nlohmann::json event;
        in >> event;
        ++events;
        replay::RegistryEvent sysmon;
        if (!registry_event(event, sysmon)) continue;
        std::string why;
        auto mapped = replay::map_event(sysmon, why);
        ASSERT_TRUE(mapped) << j.path() << ": " << why;
        cli::OperationInput input;
        input.operation = std::move(*mapped);
        const cli::DecidedOperation d = cli::decide_operation(*session, input);
        ASSERT_EQ(d.key_status, PathStatus::kOk) << j.path();
        if (d.decision.notify != NotifyMode::kNone) {
          ++reports;
        } else {
          missed += "\n    " + sysmon.target_object + " = " + sysmon.details + " by " +
                    sysmon.image + " -> " + reason_name(d.decision.reason);
        }
      }
      ASSERT_GT(events, 0) << j.path();
      reported += reports >= expected ? 1 : 0;
      EXPECT_GE(reports, expected)
          << rule_file.filename() << " reported " << reports << " of " << events << missed;
    }
  }
  EXPECT_EQ(pairs, 32);
  std::printf("[ sigma ] %d regression pairs, %d rules imported, %d pairs reported\n", pairs,
              imported, reported);
}

}  // namespace
}  // namespace hivewarden::sigma
