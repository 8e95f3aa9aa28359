#include <gtest/gtest.h>

#include "condition.hpp"
#include "hivewarden/sigma/sigma_import.hpp"
#include "path_pattern.hpp"

namespace hivewarden::sigma {
namespace {

std::vector<std::string> dnf_text(const std::string& condition, const std::vector<std::string>& names) {
  Dnf dnf;
  std::string error;
  EXPECT_TRUE(condition_to_dnf(condition, names, dnf, error)) << error;
  std::vector<std::string> out;
  for (const Term& t : dnf) {
    std::string s;
    for (const Literal& l : t) s += (s.empty() ? "" : "&") + std::string(l.negated ? "!" : "") + l.selection;
    out.push_back(s);
  }
  return out;
}

TEST(SigmaCondition, CommonShapes) {
  const std::vector<std::string> names = {"selection", "filter_main_a", "filter_main_b", "filter_optional_c", "sel_1", "sel_2"};
  EXPECT_EQ(dnf_text("selection", names), (std::vector<std::string>{"selection"}));
  EXPECT_EQ(dnf_text("selection and not 1 of filter_main_*", names),
            (std::vector<std::string>{"selection&!filter_main_a&!filter_main_b"}));
  EXPECT_EQ(dnf_text("1 of sel_*", names), (std::vector<std::string>{"sel_1", "sel_2"}));
  EXPECT_EQ(dnf_text("all of sel_*", names), (std::vector<std::string>{"sel_1&sel_2"}));
  EXPECT_EQ(dnf_text("selection and (sel_1 or sel_2)", names), (std::vector<std::string>{"selection&sel_1", "selection&sel_2"}));
  EXPECT_EQ(dnf_text("not (sel_1 and sel_2)", names), (std::vector<std::string>{"!sel_1", "!sel_2"}));
}

// Attack on the fixes (F11): 20,000 nested parentheses (or `not (`) overflowed the stack.
TEST(SigmaCondition, DeepNestingIsAnErrorNotACrash) {
  Dnf out;
  std::string error;
  for (const std::string& open : {std::string("("), std::string("not (")}) {
    std::string deep;
    for (int i = 0; i < 20000; ++i) deep += open;
    deep += "selection" + std::string(20000, ')');
    EXPECT_FALSE(condition_to_dnf(deep, {"selection"}, out, error, 64));
    EXPECT_NE(error.find("nested deeper than"), std::string::npos) << error;
  }
  EXPECT_TRUE(condition_to_dnf("((not (selection)))", {"selection"}, out, error, 64)) << error;
}

TEST(SigmaCondition, ErrorsSayWhat) {
  Dnf dnf;
  std::string error;
  EXPECT_FALSE(condition_to_dnf("selection and", {"selection"}, dnf, error));
  EXPECT_FALSE(condition_to_dnf("nosuch", {"selection"}, dnf, error));
  EXPECT_NE(error.find("nosuch"), std::string::npos);
  EXPECT_FALSE(condition_to_dnf("selection | count() > 5", {"selection"}, dnf, error));
  EXPECT_FALSE(condition_to_dnf("(selection", {"selection"}, dnf, error));
}

TEST(SigmaPathPattern, ModifiersBecomeComponentPatterns) {
  std::vector<Components> out;
  std::vector<std::string> notes;
  ASSERT_TRUE(build_patterns({{Match::kEndsWith, "\\Image File Execution Options\\Debugger"}}, out, notes));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(join(out[0]), "\\REGISTRY\\**\\Image File Execution Options\\Debugger");
  out.clear();
  ASSERT_TRUE(build_patterns({{Match::kStartsWith, "HKLM\\System\\CurrentControlSet\\Services\\"},
                              {Match::kEndsWith, "\\Start"}}, out, notes));
  EXPECT_EQ(join(out[0]), "HKLM\\System\\ControlSet*\\Services\\**\\Start");  // the link, resolved
  for (const char* cut : {"\\CurrentControlSet", "CurrentControlSet\\Services\\", "currentcontrolset"}) {
    out.clear();
    ASSERT_TRUE(build_patterns({{Match::kContains, cut}}, out, notes)) << cut;
    EXPECT_NE(join(out[0]).find("ControlSet*"), std::string::npos) << cut << " -> " << join(out[0]);
    EXPECT_EQ(join(out[0]).find("CurrentControlSet"), std::string::npos) << cut << " -> " << join(out[0]);
  }
  out.clear();
  ASSERT_TRUE(build_patterns({{Match::kContains, "\\Run"}}, out, notes));
  EXPECT_EQ(join(out[0]), "\\REGISTRY\\**\\Run*\\**");
  out.clear();
  ASSERT_TRUE(build_patterns({{Match::kContains, "Defender"}}, out, notes));
  EXPECT_EQ(join(out[0]), "\\REGISTRY\\**\\*Defender*\\**");
  out.clear();
  ASSERT_TRUE(build_patterns({{Match::kContains, "\\A\\"}, {Match::kContains, "\\B\\"}}, out, notes));
  EXPECT_EQ(out.size(), 2u);  // both orders
  out.clear();
  EXPECT_FALSE(build_patterns({{Match::kStartsWith, "SOFTWARE\\X"}}, out, notes));
}

TEST(SigmaImport, RegistrySetRuleBecomesValueEntries) {
  const RuleImport r = import_rule_text(R"(title: Debugger
id: 1111
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|endswith: '\Image File Execution Options\sethc.exe\Debugger'
  condition: selection
)", "t.yml");
  EXPECT_EQ(r.status, ImportStatus::kWhole);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].key, "\\REGISTRY\\**\\Image File Execution Options\\sethc.exe");
  EXPECT_EQ(r.entries[0].value, "Debugger");
  EXPECT_EQ(r.entries[0].value_rules, std::vector<std::string>{"set-value"});
}

TEST(SigmaImport, UnexpressibleConditionsAreListedNotDropped) {
  const RuleImport r = import_rule_text(R"(title: T
id: 2222
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|contains: '\Windows Defender\'
    Details: 'DWORD (0x00000001)'
    Image|endswith: '\reg.exe'
  filter:
    TargetObject|contains: '\Exclusions'
  condition: selection and not filter
)", "t.yml");
  EXPECT_EQ(r.status, ImportStatus::kPartial);
  EXPECT_FALSE(r.entries.empty());
  bool details = false, image = false, filter = false;
  for (const std::string& n : r.notes) {
    details = details || n.find("Details") != std::string::npos;
    image = image || n.find("Image") != std::string::npos;
    filter = filter || n.find("not filter") != std::string::npos;
  }
  EXPECT_TRUE(details && image && filter);
}

TEST(SigmaImport, NonRegistryOrBrokenRulesImportNothingAndSayWhy) {
  EXPECT_EQ(import_rule_text("title: x\nlogsource: {category: process_creation}\ndetection: {sel: {Image: a}, condition: sel}\n", "p.yml").status,
            ImportStatus::kNone);
  const RuleImport broken = import_rule_text("title: [unclosed\n", "b.yml");
  EXPECT_EQ(broken.status, ImportStatus::kNone);
  ASSERT_FALSE(broken.notes.empty());
  EXPECT_NE(broken.notes[0].find("YAML"), std::string::npos);
}

TEST(SigmaImport, EscapedBackslashIsOneBackslash) {
  const RuleImport r = import_rule_text(R"(title: T
id: 3333
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|contains: '\PROTOCOLS\\Handler\rogue\CLSID'
  condition: selection
)", "t.yml");
  ASSERT_FALSE(r.entries.empty());
  for (const auto& e : r.entries) EXPECT_EQ(e.key.find("\\\\"), std::string::npos) << e.key;
}

// A rule is read within the policy reader's bounds: a repeated key (yaml-cpp kept the first and
// dropped the rest silently), alias bombs, deep nesting, a file over kMaxRuleFileBytes.
TEST(SigmaImport, RulesOutsideTheYamlBoundsAreNotReadAndSayWhy) {
  const std::string rule = R"(title: T
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|endswith: '\Run\x'
  selection:
    TargetObject|endswith: '\RunOnce\y'
  condition: selection
)";
  RuleImport r = import_rule_text(rule, "dup.yml");
  EXPECT_EQ(r.status, ImportStatus::kNone);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("dup.yml:6"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[0].find("duplicate key"), std::string::npos) << r.notes[0];

  std::string bomb = "title: T\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    bomb += "]\n";
  }
  r = import_rule_text(bomb + "detection: {sel: {TargetObject: *a8}, condition: sel}\n", "bomb.yml");
  EXPECT_EQ(r.status, ImportStatus::kNone);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("kMaxExpandedNodes"), std::string::npos) << r.notes[0];

  r = import_rule_text("title: T\ndetection: " + std::string(100000, '[') + std::string(100000, ']') + "\n", "deep.yml");
  EXPECT_EQ(r.status, ImportStatus::kNone);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("kMaxNestingDepth"), std::string::npos) << r.notes[0];

  r = import_rule_file("/dev/zero");
  EXPECT_EQ(r.status, ImportStatus::kNone);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("larger than"), std::string::npos) << r.notes[0];
}

}  // namespace
}  // namespace hivewarden::sigma
