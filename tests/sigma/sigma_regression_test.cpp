// Sigma's own regression pairs (a rule and a real event it must match): every rule that imports
// must report its event when the event is decided under the imported policy.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "../support/decide_text.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/sigma/sigma_import.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::sigma {
namespace {

namespace fs = std::filesystem;
const fs::path kSigma = fs::path(HIVEWARDEN_SHARED_DATA) / "sigma";

std::vector<fs::path> rule_files() {
  std::vector<fs::path> out;
  for (const char* dir : {"rules", "rules-emerging-threats", "rules-threat-hunting", "deprecated"}) {
    if (!fs::exists(kSigma / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(kSigma / dir)) {
      if (e.path().extension() == ".yml") out.push_back(e.path());
    }
  }
  return out;
}

// A Sysmon registry event (evtx_dump JSON) as the operation it records.
struct EventOp {
  Operation op;
  std::u16string key, value, new_name, image;
  std::uint32_t pid = 0;
};

bool event_op(const nlohmann::json& event, EventOp& out) {
  const nlohmann::json& d = event["Event"]["EventData"];
  const std::string type = d.value("EventType", "");
  const std::string target = d.value("TargetObject", "");
  static const std::map<std::string, std::string> kOps = {{"SetValue", "set-value"}, {"DeleteValue", "delete-value"},
                                                         {"CreateKey", "create-key"}, {"DeleteKey", "delete-key"},
                                                         {"RenameKey", "rename-key"}};
  const auto it = kOps.find(type);
  if (it == kOps.end() || !operation_by_name(it->second, out.op)) return false;
  std::string key = target;
  if (out.op == Operation::kSetValue || out.op == Operation::kDeleteValue) {
    const std::size_t cut = target.rfind('\\');
    key = target.substr(0, cut);
    const std::string value = target.substr(cut + 1);
    out.value = value == "(Default)" ? u"" : *utf8_to_utf16(value);  // Sysmon's name for the default value
  }
  out.key = *utf8_to_utf16(key);
  if (out.op == Operation::kRenameKey) {
    const std::string n = d.value("NewName", "");
    out.new_name = *utf8_to_utf16(n.substr(n.rfind('\\') + 1));
  }
  out.image = *utf8_to_utf16(d.value("Image", ""));
  if (d.contains("ProcessId") && d["ProcessId"].is_number_unsigned()) {
    out.pid = d["ProcessId"].get<std::uint32_t>();
  }
  return true;
}

TEST(SigmaRegression, ShareOfRulesImportedWhole) {
  const auto files = rule_files();
  if (files.empty()) GTEST_SKIP() << "no Sigma rules under " << kSigma;
  std::size_t whole = 0, partial = 0, none = 0;
  for (const auto& f : files) {
    const RuleImport r = import_rule_file(f.string());
    (r.status == ImportStatus::kWhole ? whole : r.status == ImportStatus::kPartial ? partial : none)++;
    // Never silently dropped: anything short of whole says why.
    if (r.status != ImportStatus::kWhole) {
      EXPECT_FALSE(r.notes.empty()) << f;
    }
  }
  EXPECT_EQ(files.size(), 289u);
  std::printf("[ sigma ] %zu rules: %zu imported whole (%.1f%%), %zu in part, %zu not at all\n", files.size(), whole,
              100.0 * static_cast<double>(whole) / static_cast<double>(files.size()), partial, none);
  const std::string policy_yaml = render_policy([&] {
    std::vector<RuleImport> all;
    for (const auto& f : files) all.push_back(import_rule_file(f.string()));
    return all;
  }());
  ASSERT_TRUE(test::compile_yaml(policy_yaml, "sigma.yaml"));
}

TEST(SigmaRegression, EveryImportedRuleReportsItsRegressionEvent) {
  const fs::path regression = kSigma / "regression_data";
  if (!fs::exists(regression)) GTEST_SKIP() << "no regression data under " << regression;
  const auto files = rule_files();
  auto scratch = std::make_unique<DecisionScratch>();
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
      const auto compiled = test::compile_yaml(render_policy({r}), "one.yaml");
      ASSERT_TRUE(compiled) << rule_file;
      // The file holds the rule's events one after another; at least match_count must be reported.
      const int expected = info["regression_tests_info"][0]["match_count"].as<int>(1);
      std::ifstream in(j.path());
      int events = 0, reports = 0;
      std::string missed;
      while ((in >> std::ws) && in.peek() != EOF) {
        nlohmann::json event;
        in >> event;
        ++events;
        EventOp op;
        if (!event_op(event, op)) continue;
        const test::TextOperation text{.op = op.op,
                                       .key = op.key,
                                       .value = op.value,
                                       .new_name = op.new_name,
                                       .image = op.image,
                                       .pid = op.pid};
        ASSERT_EQ(test::key_status(compiled->view, text), PathStatus::kOk) << j.path();
        const Decision d = test::decide_text(compiled->view, text, *scratch);
        if (d.notify != NotifyMode::kNone) {
          ++reports;
        } else {
          missed += "\n    " + utf16_to_utf8(op.key) + " : " + utf16_to_utf8(op.value) + " -> " + reason_name(d.reason);
        }
      }
      ASSERT_GT(events, 0) << j.path();
      reported += reports >= expected ? 1 : 0;
      EXPECT_GE(reports, expected) << rule_file.filename() << " reported " << reports << " of " << events << missed;
    }
  }
  EXPECT_EQ(pairs, 32);
  std::printf("[ sigma ] %d regression pairs, %d rules imported, %d pairs reported\n", pairs, imported, reported);
}

}  // namespace
}  // namespace hivewarden::sigma
