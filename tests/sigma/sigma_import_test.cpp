#include <gtest/gtest.h>

#include "condition.hpp"
#include "hivewarden/sigma/sigma_import.hpp"
#include "path_pattern.hpp"

namespace hivewarden::sigma {
namespace {

std::vector<std::string> dnf_text(const std::string& condition,
                                  const std::vector<std::string>& names) {
  Dnf dnf;
  std::string error;
  EXPECT_TRUE(condition_to_dnf(condition, names, dnf, error)) << error;
  std::vector<std::string> out;
  for (const Term& t : dnf) {
    std::string s;
    for (const Literal& l : t)
      s += (s.empty() ? "" : "&") + std::string(l.negated ? "!" : "") + l.selection;
    out.push_back(s);
  }
  return out;
}

TEST(SigmaCondition, CommonShapes) {
  const std::vector<std::string> names = {"selection",         "filter_main_a", "filter_main_b",
                                          "filter_optional_c", "sel_1",         "sel_2"};
  EXPECT_EQ(dnf_text("selection", names), (std::vector<std::string>{"selection"}));
  EXPECT_EQ(dnf_text("selection and not 1 of filter_main_*", names),
            (std::vector<std::string>{"selection&!filter_main_a&!filter_main_b"}));
  EXPECT_EQ(dnf_text("1 of sel_*", names), (std::vector<std::string>{"sel_1", "sel_2"}));
  EXPECT_EQ(dnf_text("all of sel_*", names), (std::vector<std::string>{"sel_1&sel_2"}));
  EXPECT_EQ(dnf_text("selection and (sel_1 or sel_2)", names),
            (std::vector<std::string>{"selection&sel_1", "selection&sel_2"}));
  EXPECT_EQ(dnf_text("not (sel_1 and sel_2)", names),
            (std::vector<std::string>{"!sel_1", "!sel_2"}));
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

std::string pattern(Match m, const std::string& text, bool* exact = nullptr) {
  const IndexPattern p = index_pattern(m, text);
  if (exact != nullptr) *exact = p.exact;
  return p.usable ? join(p.components) : "(none)";
}

TEST(SigmaPathPattern, TargetObjectTestsBecomeTreePatterns) {
  bool exact = false;
  EXPECT_EQ(pattern(Match::kEndsWith, "\\Image File Execution Options\\Debugger", &exact),
            "\\REGISTRY\\**\\Image File Execution Options\\Debugger");
  EXPECT_TRUE(exact);
  EXPECT_EQ(pattern(Match::kEndsWith, "Debugger", &exact), "\\REGISTRY\\**\\*Debugger");
  EXPECT_TRUE(exact);
  EXPECT_EQ(pattern(Match::kStartsWith, "HKLM\\System\\CurrentControlSet\\Services\\", &exact),
            "HKLM\\System\\ControlSet*\\Services\\*\\**");  // the link, resolved: wider
  EXPECT_FALSE(exact);
  // Deeper than HKLM\SYSTEM a key may itself be named CurrentControlSet (Sysmon writes it as is).
  EXPECT_EQ(pattern(Match::kEndsWith, "\\CurrentControlSet\\Services", &exact),
            "\\REGISTRY\\**\\*ControlSet*\\Services");
  EXPECT_FALSE(exact);
  EXPECT_EQ(pattern(Match::kStartsWith, "HKLM\\Software\\Foo", &exact), "HKLM\\Software\\Foo*\\**");
  EXPECT_TRUE(exact);
  EXPECT_EQ(pattern(Match::kEquals, "HKU\\S-1-5-18\\X", &exact), "HKU\\S-1-5-18\\X");
  EXPECT_TRUE(exact);
  EXPECT_EQ(pattern(Match::kContains, "\\Services\\", &exact), "\\REGISTRY\\**\\Services\\*\\**");
  EXPECT_TRUE(exact);
  EXPECT_EQ(pattern(Match::kContains, "\\Run", &exact), "\\REGISTRY\\**\\Run*\\**");
  EXPECT_EQ(pattern(Match::kContains, "Defender", &exact), "\\REGISTRY\\**\\*Defender*\\**");
  EXPECT_TRUE(exact);
  for (const char* cut :
       {"\\CurrentControlSet", "CurrentControlSet\\Services\\", "currentcontrolset"}) {
    const std::string p = pattern(Match::kContains, cut, &exact);
    EXPECT_EQ(p.find("CurrentControlSet"), std::string::npos) << cut << " -> " << p;
    EXPECT_FALSE(exact) << cut;
  }
  // A piece of a root name differs between Sysmon's text (HKLM) and the tree (MACHINE): the tree
  // must not be narrowed by it.
  EXPECT_EQ(pattern(Match::kContains, "KLM\\Software\\X", &exact),
            "\\REGISTRY\\**\\Software\\X*\\**");
  EXPECT_FALSE(exact);
  EXPECT_EQ(pattern(Match::kContains, "HKLM", &exact), "\\REGISTRY\\**");
  // The tree sees `SOFTWARE\Classes` and the active `ControlSet001` where Sysmon writes HKCR and
  // CurrentControlSet: the pattern holds, but the text test must stay (before: dropped as exact,
  // so MsMpEng's HKCR writes were reported by `TargetObject|contains: '\Software\Classes'`).
  EXPECT_EQ(pattern(Match::kContains, "\\Software\\Classes", &exact),
            "\\REGISTRY\\**\\Software\\Classes*\\**");
  EXPECT_FALSE(exact);
  EXPECT_EQ(pattern(Match::kStartsWith, "HKLM\\SYSTEM\\ControlSet001\\Services", &exact),
            "HKLM\\SYSTEM\\ControlSet001\\Services*\\**");
  EXPECT_FALSE(exact);
  pattern(Match::kContains, "\\Software\\Class", &exact);
  EXPECT_FALSE(exact);
  // Sigma's wildcard crosses `\`, a relative startswith has no root: no tree pattern.
  EXPECT_EQ(pattern(Match::kContains, "\\Run\\*\\x"), "(none)");
  EXPECT_EQ(pattern(Match::kStartsWith, "SOFTWARE\\X"), "(none)");
  EXPECT_EQ(pattern(Match::kEndsWith, "\\X\\"), "(none)");
}

TEST(SigmaImport, RegistrySetRuleBecomesValueEntries) {
  const RuleImport r = import_rule_text(R"(title: Debugger
id: 1111
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|endswith: '\Image File Execution Options\sethc.exe\Debugger'
  condition: selection
)",
                                        "t.yml");
  EXPECT_EQ(r.status, ImportStatus::kWhole);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].key, "\\REGISTRY\\**\\Image File Execution Options\\sethc.exe");
  EXPECT_EQ(r.entries[0].value, "Debugger");
  EXPECT_EQ(r.entries[0].value_rules, std::vector<std::string>{"set-value"});
}

// The policy text of one rule.
std::string policy_of(const std::string& rule) {
  return render_policy({import_rule_text(rule, "t.yml")});
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(SigmaImport, DetailsImageAndFiltersBecomeConditions) {
  const std::string rule = R"(title: T
id: 2222
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|contains: '\Windows Defender\'
    Details: 'DWORD (0x00000001)'
    Image|endswith: ['\reg.exe', '\powershell.exe']
  filter:
    TargetObject|contains: '\Exclusions'
  filter_null:
    Details: null
  condition: selection and not filter and not filter_null
)";
  const RuleImport r = import_rule_text(rule, "t.yml");
  EXPECT_EQ(r.status, ImportStatus::kWhole) << (r.notes.empty() ? "" : r.notes[0]);
  const std::string yaml = policy_of(rule);
  EXPECT_TRUE(has_line(yaml, "  - key: '\\REGISTRY\\**\\Windows Defender\\*\\**'")) << yaml;
  EXPECT_TRUE(has_line(yaml, "      - name: '*'")) << yaml;
  // The tree says the whole contains test: only Details and Image remain; `Details: null` never
  // holds on a set-value (it always has data), so that filter is gone.
  EXPECT_TRUE(
      has_line(yaml,
               "        when: [{details: 'DWORD (0x00000001)', image|endswith: ['\\reg.exe', "
               "'\\powershell.exe']}]"))
      << yaml;
  EXPECT_TRUE(has_line(yaml, "        unless: [{target_object|contains: '\\Exclusions'}]")) << yaml;
}

TEST(SigmaImport, ConditionShapesBecomeEntriesAndConditions) {
  // `1 of selection_*`: one alternative each; EventType picks the operations; `all`.
  const std::string rule = R"(title: T
id: 4444
logsource: {category: registry_event, product: windows}
detection:
  selection_a:
    EventType: CreateKey
    TargetObject|endswith: '\Foo'
  selection_b:
    TargetObject|contains|all: ['\Bar\', 'Baz']
    NewName|endswith: '\x'
  condition: 1 of selection_*
)";
  const RuleImport r = import_rule_text(rule, "t.yml");
  EXPECT_EQ(r.status, ImportStatus::kWhole);
  const std::string yaml = policy_of(rule);
  EXPECT_TRUE(has_line(
      yaml, "  - key: '\\REGISTRY\\**\\Foo'\n    client: 'sigma:4444'\n    rules: [create-key]"))
      << yaml;
  // NewName exists only on a rename: selection_b is a rename-key entry alone.
  EXPECT_TRUE(has_line(
      yaml,
      "    rules: [rename-key]\n    when: [{target_object|contains|all: ['\\Bar\\', 'Baz'], "
      "new_target_object|endswith: '\\x'}]"))
      << yaml;
  EXPECT_EQ(yaml.find("set-value"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("delete-key"), std::string::npos) << yaml;
}

TEST(SigmaImport, WhatTheEngineLacksIsPartialWithTheReason) {
  const RuleImport r = import_rule_text(R"(title: T
id: 5555
logsource: {category: registry_set, product: windows}
detection:
  selection:
    TargetObject|endswith: '\Foo'
    Details|re: '^a.*b$'
  filter:
    User|contains: 'AUTHORI'
  condition: selection and not filter
)",
                                        "t.yml");
  EXPECT_EQ(r.status, ImportStatus::kPartial);
  bool re = false, user = false;
  for (const std::string& n : r.notes) {
    re = re || n.find("regular expression") != std::string::npos;
    user = user || n.find("User") != std::string::npos;
  }
  EXPECT_TRUE(re && user);
  // Reports more, never less: no condition from the rule (only the value-operation test every
  // value entry carries, so that a key's deletion does not count it), no exclusion.
  ASSERT_EQ(r.entries.size(), 1u);
  ASSERT_EQ(r.entries[0].when.size(), 1u);
  ASSERT_EQ(r.entries[0].when[0].size(), 1u);
  EXPECT_EQ(r.entries[0].when[0][0].key, "value");
  EXPECT_TRUE(r.entries[0].unless.empty());
}

TEST(SigmaImport, TwoOrTestsOnOneFieldMultiplyOut) {
  const std::string rule = R"(title: T
id: 6666
logsource: {category: registry_set, product: windows}
detection:
  sel1:
    Details|contains: ['a', 'b']
  sel2:
    Details|contains: ['c', 'd']
  condition: sel1 and sel2
)";
  const std::string yaml = policy_of(rule);
  EXPECT_TRUE(has_line(yaml,
                       "        when: [{details|contains: ['a', 'b'], details|contains|all: 'c'}, "
                       "{details|contains: ['a', 'b'], details|contains|all: 'd'}]"))
      << yaml;
}

TEST(SigmaImport, NonRegistryOrBrokenRulesImportNothingAndSayWhy) {
  EXPECT_EQ(import_rule_text("title: x\nlogsource: {category: process_creation}\ndetection: {sel: "
                             "{Image: a}, condition: sel}\n",
                             "p.yml")
                .status,
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
)",
                                        "t.yml");
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
  r = import_rule_text(bomb + "detection: {sel: {TargetObject: *a8}, condition: sel}\n",
                       "bomb.yml");
  EXPECT_EQ(r.status, ImportStatus::kNone);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("kMaxExpandedNodes"), std::string::npos) << r.notes[0];

  r = import_rule_text(
      "title: T\ndetection: " + std::string(100000, '[') + std::string(100000, ']') + "\n",
      "deep.yml");
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
