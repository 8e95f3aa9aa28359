// import-sysmon: the XML reader's errors and bounds, the mapping of each condition onto §10
// tests, Sysmon's include/exclude semantics, and the sysmon-modular modules imported.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "../support/sysmon_event.hpp"
#include "hivewarden/sysmon/sysmon_import.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::sysmon {
namespace {

std::string config(const std::string& registry_events) {
  return "<Sysmon schemaversion=\"4.30\">\n<EventFiltering>\n" + registry_events +
         "\n</EventFiltering>\n</Sysmon>\n";
}

std::string first_problem(const std::string& xml) {
  Config c;
  std::vector<Problem> problems;
  if (read_config_text(xml, "cfg.xml", c, problems)) return "";
  return problems.empty() ? "(no problem)" : problems[0].to_string();
}

std::string policy_of(const std::string& xml) {
  Config c;
  std::vector<Problem> problems;
  EXPECT_TRUE(read_config_text(xml, "cfg.xml", c, problems));
  PolicyImport out;
  EXPECT_TRUE(build_policy(c, out, problems));
  return out.yaml;
}

TEST(SysmonReader, ErrorsNameFileLineAndElement) {
  EXPECT_EQ(
      first_problem(config("<RuleGroup groupRelation=\"or\">\n<RegistryEvent onmatch=\"include\">\n"
                           "<TargetObject condition=\"sounds like\">x</TargetObject>\n"
                           "</RegistryEvent></RuleGroup>")),
      "cfg.xml:5: <TargetObject>: unknown condition \"sounds like\"");
  EXPECT_EQ(first_problem(config(
                "<RegistryEvent onmatch=\"include\">\n<Colour>x</Colour>\n</RegistryEvent>")),
            "cfg.xml:4: <Colour>: unknown RegistryEvent field");
  EXPECT_EQ(first_problem(config("<RegistryEvent onmatch=\"maybe\"/>")),
            "cfg.xml:3: <RegistryEvent>: onmatch must be \"include\" or \"exclude\"");
  EXPECT_EQ(first_problem(config("<RuleGroup groupRelation=\"xor\"/>")),
            "cfg.xml:3: <RuleGroup>: groupRelation must be \"and\" or \"or\", not \"xor\"");
  EXPECT_EQ(first_problem(config("<Registry onmatch=\"include\"/>")),
            "cfg.xml:3: <Registry>: unknown event type");
  EXPECT_EQ(first_problem("<Sysmon>\n<EventFiltering>\n<RegistryEvent onmatch=\"include\">\n"),
            "cfg.xml:3: malformed XML: Start-end tags mismatch");
  EXPECT_EQ(first_problem("<Config/>"), "cfg.xml:1: <Config>: the root element must be <Sysmon>");
  EXPECT_EQ(first_problem(config("<RegistryEvent onmatch=\"include\"><Rule groupRelation=\"and\">\n"
                                 "<Rule groupRelation=\"and\"/></Rule></RegistryEvent>")),
            "cfg.xml:4: <Rule>: a Rule cannot hold a Rule");
  EXPECT_EQ(first_problem("<Sysmon>\xff</Sysmon>"), "cfg.xml:1: not valid UTF-8");
}

// pugixml skipped a DTD and left an undeclared entity as text: `&x;` became a filter on the
// literal "&x;" (an XML reader refuses it or expands it). Both are errors now; `&` in comments,
// CDATA and the five XML entities and character references still read.
TEST(SysmonReader, DtdAndUnknownEntitiesAreErrors) {
  EXPECT_EQ(first_problem("<?xml version=\"1.0\"?>\n<!DOCTYPE s [<!ENTITY x \"Run\">]>\n"
                          "<Sysmon><EventFiltering><RegistryEvent onmatch=\"include\">"
                          "<TargetObject condition=\"contains\">&x;</TargetObject>"
                          "</RegistryEvent></EventFiltering></Sysmon>"),
            "cfg.xml:2: a DOCTYPE or DTD declaration is not supported");
  EXPECT_EQ(first_problem(config("<RegistryEvent onmatch=\"include\">\n"
                                 "<TargetObject condition=\"contains\">\\&run;</TargetObject>\n"
                                 "</RegistryEvent>")),
            "cfg.xml:4: an entity reference other than &lt; &gt; &amp; &apos; &quot; or &#N;");
  EXPECT_EQ(first_problem(config("<RegistryEvent onmatch=\"include\">\n"
                                 "<TargetObject condition=\"contains\">a & b</TargetObject>\n"
                                 "</RegistryEvent>")),
            "cfg.xml:4: an entity reference other than &lt; &gt; &amp; &apos; &quot; or &#N;");
  EXPECT_EQ(first_problem(config("<!-- a & b <!x> -->\n<RegistryEvent onmatch=\"include\">"
                                 "<TargetObject condition=\"contains\"><![CDATA[&c;]]>&amp;&#65;"
                                 "&#x42;&lt;</TargetObject></RegistryEvent>")),
            "");
}

// Windows PowerShell 5 writes UTF-16LE files with a BOM; Sysmon reads them. Before: refused as
// "not valid UTF-8".
TEST(SysmonReader, Utf16FilesRead) {
  const std::string xml = config(
      "<RegistryEvent onmatch=\"include\">\n<TargetObject condition=\"contains\">"
      "\\Run\xC3\xBC</TargetObject>\n</RegistryEvent>");
  std::string utf16 = "\xFF\xFE";
  append_utf16le(utf16, *utf8_to_utf16(xml), false);
  Config c;
  std::vector<Problem> problems;
  ASSERT_TRUE(read_config_text(utf16, "cfg.xml", c, problems));
  ASSERT_EQ(c.include.size(), 1u);
  EXPECT_EQ(c.include[0].line, 4u);
  EXPECT_EQ(first_problem(utf16 + "x"), "cfg.xml:1: a UTF-16 file with an odd number of bytes");
  std::string lone = "\xFF\xFE";
  append_utf16le(lone, u"<Sysmon>\n\xD800</Sysmon>", false);
  EXPECT_EQ(first_problem(lone), "cfg.xml:2: a lone UTF-16 surrogate: not valid text");
}

TEST(SysmonReader, BoundsAreErrorsNotWork) {
  EXPECT_NE(first_problem(std::string(kMaxConfigFileBytes + 1, ' ')).find("larger than"),
            std::string::npos);
  std::string many;
  for (std::size_t i = 0; i <= kMaxRules; ++i) many += "<TargetObject>x</TargetObject>";
  EXPECT_NE(first_problem(config("<RegistryEvent onmatch=\"include\">" + many + "</RegistryEvent>"))
                .find("more than 20000 rules"),
            std::string::npos);
  std::string filters;
  for (std::size_t i = 0; i <= kMaxFiltersPerRule; ++i) filters += "<Image>x</Image>";
  EXPECT_NE(first_problem(config("<RegistryEvent onmatch=\"include\"><Rule groupRelation=\"and\">" +
                                 filters + "</Rule></RegistryEvent>"))
                .find("filters in one rule"),
            std::string::npos);
  EXPECT_NE(first_problem(config("<RegistryEvent onmatch=\"include\"><Image>" +
                                 std::string(5000, 'a') + "</Image></RegistryEvent>"))
                .find("value longer than"),
            std::string::npos);
  // Deep nesting is parsed without recursion and refused by the fixed structure.
  std::string deep = "<Sysmon><EventFiltering><RegistryEvent onmatch=\"include\"><Image>";
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  for (int i = 0; i < 100000; ++i) deep += "</a>";
  deep += "</Image></RegistryEvent></EventFiltering></Sysmon>";
  EXPECT_NE(first_problem(deep).find("a filter holds text only"), std::string::npos);
}

TEST(SysmonPolicy, GeneratedPolicyIsBounded) {
  // Many include rules each with a negated filter: every entry writes the whole exclude list.
  Config c;
  for (int i = 0; i < 4000; ++i) {
    c.include.push_back(Rule{
        {Filter{Field::kImage, Condition::kIsNot, "a" + std::to_string(i), 1}}, "f.xml", 1, ""});
    c.exclude.push_back(
        Rule{{Filter{Field::kImage, Condition::kIs, "b" + std::to_string(i), 1}}, "f.xml", 2, ""});
  }
  c.has_include_element = c.has_exclude_element = true;
  PolicyImport out;
  std::vector<Problem> problems;
  EXPECT_FALSE(build_policy(c, out, problems));
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].to_string().find("larger than 16777216 bytes"), std::string::npos);
}

TEST(SysmonPolicy, ConditionsMapOntoWhenAndUnless) {
  const std::string yaml = policy_of(
      config("<RuleGroup groupRelation=\"or\"><RegistryEvent onmatch=\"include\">\n"
             "<TargetObject condition=\"begin "
             "with\">HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run</TargetObject>\n"
             "<Rule groupRelation=\"and\"><TargetObject condition=\"contains "
             "all\">\\Office;\\Addins</TargetObject>"
             "<Image condition=\"is not\">C:\\x.exe</Image><Details condition=\"excludes "
             "any\">a;b</Details></Rule>\n"
             "<Image condition=\"image\">reg.exe</Image>\n"
             "</RegistryEvent></RuleGroup>"));
  EXPECT_NE(yaml.find("- key: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\**'"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("when: {target_object|startswith: "
                      "'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run'}"),
            std::string::npos);
  // The compound rule: Details only exists on SetValue, so only set-value is reported. A value
  // entry's map needs a value operation: a key's deletion counts its value entries (SPEC §4.3),
  // and Sysmon logs that as a DeleteKey this rule does not match.
  EXPECT_NE(yaml.find("rules: [set-value]\n        when: {target_object|contains|all: ['\\Office', "
                      "'\\Addins'], value: '*'}\n"
                      "        unless:\n          - {image: 'C:\\x.exe'}\n          - "
                      "{details|contains|all: ['a', 'b']}"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("when: {image: ['reg.exe', '*\\reg.exe']}"), std::string::npos);
}

// A rule on SetValue events reports a key's deletion only if Sysmon would log it: the engine
// counts a key's value entries when the key is deleted (SPEC §4.3), Sysmon logs a DeleteKey.
TEST(SysmonPolicy, ARuleOnValuesDoesNotReportDeletingTheirKey) {
  const std::string yaml =
      policy_of(config("<RegistryEvent onmatch=\"include\"><Rule groupRelation=\"and\">"
                       "<EventType>SetValue</EventType><Image condition=\"end with\">\\reg.exe"
                       "</Image></Rule></RegistryEvent>"));
  const char* reg = "C:\\Windows\\System32\\reg.exe";
  EXPECT_TRUE(test::policy_reports(
      yaml, test::sysmon_event("SetValue", "HKLM\\SOFTWARE\\X\\V", "DWORD (0x00000001)", reg)));
  EXPECT_FALSE(
      test::policy_reports(yaml, test::sysmon_event("DeleteKey", "HKLM\\SOFTWARE\\X", "", reg)));
}

TEST(SysmonPolicy, ExcludesJoinUnlessAndEventTypeIsDecidedPerOperation) {
  const std::string yaml =
      policy_of(config("<RegistryEvent onmatch=\"include\"><TargetObject "
                       "condition=\"contains\">\\Run</TargetObject></RegistryEvent>\n"
                       "<RegistryEvent onmatch=\"exclude\"><EventType>CreateKey</EventType>"
                       "<Image condition=\"end with\">\\svchost.exe</Image></RegistryEvent>"));
  EXPECT_EQ(yaml.find("create-key"), std::string::npos) << yaml;  // every CreateKey is excluded
  EXPECT_NE(yaml.find("rules: [delete-key, rename-key]"), std::string::npos);
  EXPECT_NE(yaml.find("{image|endswith: '\\svchost.exe'}"), std::string::npos);
}

TEST(SysmonPolicy, ExcludeOnlyReportsEverythingNotExcludedAndNoFiltersReportNothing) {
  const std::string excl =
      policy_of(config("<RegistryEvent onmatch=\"exclude\"><Image>System</Image></RegistryEvent>"));
  EXPECT_NE(excl.find("- key: '\\REGISTRY\\**'"), std::string::npos) << excl;
  EXPECT_NE(excl.find("{image: 'System'}"), std::string::npos);
  const std::string none = policy_of(config("<ProcessCreate onmatch=\"include\"/>"));
  EXPECT_NE(none.find("monitored: []"), std::string::npos) << none;
  const std::string empty_include =
      policy_of(config("<RegistryEvent onmatch=\"include\"/><RegistryEvent onmatch=\"exclude\"/>"));
  EXPECT_NE(empty_include.find("monitored: []"), std::string::npos) << empty_include;
}

TEST(SysmonPolicy, WhatCannotBeExpressedWidensIncludesAndDropsExcludes) {
  Config c;
  std::vector<Problem> problems;
  ASSERT_TRUE(read_config_text(
      config(
          "<RegistryEvent onmatch=\"include\"><Rule groupRelation=\"and\"><TargetObject "
          "condition=\"contains\">\\Run</TargetObject>"
          "<User>NT AUTHORITY\\SYSTEM</User></Rule></RegistryEvent>"
          "<RegistryEvent onmatch=\"exclude\"><Rule groupRelation=\"and\"><Image>a.exe</Image>"
          "<TargetObject condition=\"not begin with\">HKLM</TargetObject></Rule></RegistryEvent>"),
      "cfg.xml", c, problems));
  PolicyImport out;
  ASSERT_TRUE(build_policy(c, out, problems));
  EXPECT_FALSE(out.whole());
  ASSERT_EQ(out.notes.size(), 2u);
  EXPECT_NE(out.notes[0].find("a negated filter in an exclude rule"), std::string::npos);
  EXPECT_NE(out.notes[1].find("User"), std::string::npos);
  EXPECT_EQ(out.yaml.find("a.exe"), std::string::npos);  // the exclude is left out: reports more
  EXPECT_EQ(out.yaml.find("SYSTEM'"), std::string::npos);
}

TEST(SysmonPolicy, AnyValueTextRoundTripsThroughTheYaml) {
  const std::string odd = "it's \"quoted\" \\ back\ttab \xc3\xa9 # not a comment: [x] {y} &a *b";
  const std::string yaml =
      policy_of(config("<RegistryEvent onmatch=\"include\"><TargetObject condition=\"contains\">" +
                       std::string("it&apos;s &quot;quoted&quot; \\ back&#9;tab \xc3\xa9 # not a "
                                   "comment: [x] {y} &amp;a *b") +
                       "</TargetObject></RegistryEvent>"));
  const YAML::Node policy = YAML::Load(yaml);
  EXPECT_EQ(policy["monitored"][0]["when"]["target_object|contains"].as<std::string>(), odd)
      << yaml;
}

TEST(SysmonModular, EveryModuleImportsAloneAndAllTogether) {
  const std::filesystem::path dir =
      std::filesystem::path(HIVEWARDEN_SHARED_DATA) / "sysmon-modular" / "12_13_14_registry_event";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " is absent";
  Config all;
  std::size_t modules = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".xml") continue;
    ++modules;
    Config alone;
    std::vector<Problem> problems;
    ASSERT_TRUE(read_config_file(entry.path().string(), alone, problems))
        << problems[0].to_string();
    ASSERT_TRUE(read_config_file(entry.path().string(), all, problems));
    PolicyImport out;
    ASSERT_TRUE(build_policy(alone, out, problems)) << entry.path();
    EXPECT_TRUE(out.whole()) << entry.path() << ": " << out.notes[0];
    if (!alone.include.empty()) {
      EXPECT_GT(out.entries, 0u) << entry.path();
    }
  }
  EXPECT_EQ(modules, 75u);
  std::vector<Problem> problems;
  PolicyImport out;
  ASSERT_TRUE(build_policy(all, out, problems));
  EXPECT_EQ(all.include.size(), 246u);
  EXPECT_EQ(all.exclude.size(), 99u);
  EXPECT_TRUE(out.whole());
  EXPECT_GT(out.entries, 246u);
}

}  // namespace
}  // namespace hivewarden::sysmon
