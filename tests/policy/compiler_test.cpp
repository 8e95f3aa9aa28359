// The policy compiler (src/policy): YAML -> checked source -> blob, read back through the public
// PolicyView only. Key patterns (SPEC §6), HKCR's three places, CurrentControlSet, hardened keys,
// processes, values, errors naming file/line/field, the dump, .hwp files and the built-in policy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/files.hpp"

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/util/bit_names.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

namespace fs = std::filesystem;
using policy::ComponentKind;

// A compiled policy in 8-byte aligned memory, validated; or the problems that refused it.
struct Compiled {
  bool ok = false;
  std::vector<policy::PolicyProblem> problems;
  policy::Blob blob;
  std::vector<std::uint64_t> storage;
  PolicyView view;

  std::string problem_text() const {
    std::string s;
    for (const auto& p : problems) s += p.to_string() + "\n";
    return s;
  }
};

std::unique_ptr<Compiled> compile(const std::string& yaml, const std::string& file = "t.yaml") {
  auto c = std::make_unique<Compiled>();
  policy::PolicySource source;
  if (!policy::parse_policy_yaml(yaml, file, source, c->problems)) return c;
  if (!policy::compile_policy(source, c->blob, c->problems)) return c;
  c->storage.assign((c->blob.size() + 7) / 8, 0);
  std::memcpy(c->storage.data(), c->blob.data(), c->blob.size());
  PolicyError error;
  c->ok = validate_policy(c->storage.data(), c->blob.size(), c->view, error);
  EXPECT_TRUE(c->ok) << "compiled blob rejected: " << error.what << " at " << error.offset;
  return c;
}

std::unique_ptr<Compiled> compile_ok(const std::string& yaml) {
  auto c = compile(yaml);
  EXPECT_TRUE(c->ok) << c->problem_text();
  return c;
}

// Every rule the blob holds, one line each, found by walking the tree through PolicyView:
//   "<path> key <client> 0x<rules> line <n>"  or  "<path> value '<folded name>'[ glob] <client>
//   ..."
// where path components are display names (literal) or `*`, `*{N}`, `**`, the folded glob.
class RuleLister {
 public:
  explicit RuleLister(const PolicyView& view) : view_(view) {}

  std::set<std::string> all() {
    walk(0, "");
    return out_;
  }

 private:
  void walk(std::uint32_t index, const std::string& path) {
    for (const blob::ClientRule& c : view_.node_key_clients(index))
      out_.insert(path + " key " + client(c));
    for (const blob::ValuePattern& v : view_.node_values(index)) {
      for (const blob::ClientRule& c : view_.value_clients(v.clients)) {
        out_.insert(path + " value '" + utf16_to_utf8(view_.str(v.folded)) + "'" +
                    (v.is_glob ? " glob " : " ") + client(c));
      }
    }
    const std::uint32_t first = view_.literal_first(index);
    for (std::uint32_t i = 0; i < view_.literal_edges(index).size; ++i) {
      walk(view_.literal_edge(first + i).child,
           path + "\\" + utf16_to_utf8(view_.edge_display(first + i)));
    }
    for (const blob::PatternEdge& e : view_.pattern_edges(index))
      walk(e.child, path + "\\" + policy::pattern_edge_text(view_, e));
  }

  std::string client(const blob::ClientRule& c) {
    char rules[16];
    std::snprintf(rules, sizeof rules, "0x%06x", c.rules);
    return utf16_to_utf8(view_.str(view_.clients()[c.client].name)) + " " + rules + " line " +
           std::to_string(view_.entries()[c.entry].line);
  }

  const PolicyView& view_;
  std::set<std::string> out_;
};

std::set<std::string> rules_of(const std::string& yaml) {
  auto c = compile_ok(yaml);
  if (!c->ok) return {};
  return RuleLister(c->view).all();
}

// A key pattern as "Literal|*|*{N}|**|glob:text" components joined by `\`.
std::string pattern_text(const policy::KeyPattern& p) {
  std::string s;
  for (const auto& c : p.components) {
    s += "\\";
    switch (c.kind) {
      case ComponentKind::kLiteral:
        s += utf16_to_utf8(c.text);
        break;
      case ComponentKind::kAnyOne:
        s += "*";
        break;
      case ComponentKind::kAnyN:
        s += "*{" + std::to_string(c.count) + "}";
        break;
      case ComponentKind::kAnyDeep:
        s += "**";
        break;
      case ComponentKind::kGlob:
        s += "glob:" + utf16_to_utf8(c.text);
        break;
    }
  }
  return s;
}

std::string parsed(const std::string& key, std::uint32_t control_set = 1) {
  policy::KeyPattern p;
  std::string error;
  if (!policy::parse_key_pattern(key, control_set, p, error)) return "error: " + error;
  return pattern_text(p) + (p.classes_root ? " (HKCR)" : "");
}

std::string parse_error(const std::string& key, std::uint32_t control_set = 1) {
  policy::KeyPattern p;
  std::string error;
  if (policy::parse_key_pattern(key, control_set, p, error)) return "accepted: " + pattern_text(p);
  EXPECT_FALSE(error.empty()) << key;
  return error;
}

// ---- Key patterns (SPEC §6) ----

TEST(KeyPattern, EveryRootFormReachesTheKernelForm) {
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\X"), "\\REGISTRY\\MACHINE\\SOFTWARE\\X");
  EXPECT_EQ(parsed("HKEY_LOCAL_MACHINE\\SOFTWARE\\X"), "\\REGISTRY\\MACHINE\\SOFTWARE\\X");
  EXPECT_EQ(parsed("\\REGISTRY\\MACHINE\\SOFTWARE\\X"), "\\REGISTRY\\MACHINE\\SOFTWARE\\X");
  EXPECT_EQ(parsed("\\registry\\machine\\SOFTWARE\\X"), "\\REGISTRY\\machine\\SOFTWARE\\X");
  EXPECT_EQ(parsed("HKU\\S-1-5-18\\X"), "\\REGISTRY\\USER\\S-1-5-18\\X");
  EXPECT_EQ(parsed("HKEY_USERS\\.DEFAULT"), "\\REGISTRY\\USER\\.DEFAULT");
  // HKCU in a policy means every user's hive.
  EXPECT_EQ(parsed("HKCU\\Software\\Run"), "\\REGISTRY\\USER\\*\\Software\\Run");
  EXPECT_EQ(parsed("HKEY_CURRENT_USER\\Software\\Run"), "\\REGISTRY\\USER\\*\\Software\\Run");
  EXPECT_EQ(parsed("HKCR\\CLSID"), "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\CLSID (HKCR)");
  EXPECT_EQ(parsed("HKEY_CLASSES_ROOT\\.exe"),
            "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\.exe (HKCR)");
  // HKCC holds CurrentControlSet, resolved like any other.
  EXPECT_EQ(parsed("HKCC\\Software", 3),
            "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet003\\Hardware Profiles\\Current\\Software");
  // Root keys alone are patterns too; a trailing `\` is not a component.
  EXPECT_EQ(parsed("HKLM"), "\\REGISTRY\\MACHINE");
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\"), "\\REGISTRY\\MACHINE\\SOFTWARE");
}

TEST(KeyPattern, WildcardComponents) {
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\*\\X"), "\\REGISTRY\\MACHINE\\SOFTWARE\\*\\X");
  EXPECT_EQ(parsed("HKU\\*{2}\\Run"), "\\REGISTRY\\USER\\*{2}\\Run");
  EXPECT_EQ(parsed("HKU\\*{1}\\Run"), "\\REGISTRY\\USER\\*{1}\\Run");
  EXPECT_EQ(parsed("HKU\\*{510}"), "\\REGISTRY\\USER\\*{510}");
  EXPECT_EQ(parsed("HKU\\*{511}").substr(0, 7), "error: ");  // 513 levels: deeper than the registry
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\**"), "\\REGISTRY\\MACHINE\\SOFTWARE\\**");
  EXPECT_EQ(parsed("HKLM\\**\\Run"), "\\REGISTRY\\MACHINE\\**\\Run");
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\Run?"), "\\REGISTRY\\MACHINE\\SOFTWARE\\glob:Run?");
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\Win*ows"), "\\REGISTRY\\MACHINE\\SOFTWARE\\glob:Win*ows");
  EXPECT_EQ(parsed("HKLM\\SOFTWARE\\*x"), "\\REGISTRY\\MACHINE\\SOFTWARE\\glob:*x");
}

TEST(KeyPattern, MalformedPatternsAreRefusedWithAReason) {
  EXPECT_NE(parse_error("HKU\\*{0}\\Run").find("`*{N}` needs N from 1 to 512"), std::string::npos);
  EXPECT_NE(parse_error("HKU\\*{513}\\Run").find("`*{N}` needs N from 1 to 512"),
            std::string::npos);
  EXPECT_NE(parse_error("HKLM\\SOFTWARE\\a**b").find("`**` must be a whole component"),
            std::string::npos);
  EXPECT_NE(parse_error("HKLM\\SOFTWARE\\**x").find("`**` must be a whole component"),
            std::string::npos);
  EXPECT_NE(parse_error("HKLM\\SOFTWARE\\\\X").find("empty component"), std::string::npos);
  EXPECT_NE(parse_error("").find("empty key"), std::string::npos);
  EXPECT_NE(parse_error("HKXX\\SOFTWARE").find("unknown root key 'HKXX'"), std::string::npos);
  EXPECT_NE(parse_error("*\\SOFTWARE").find("root key must be written out"), std::string::npos);
  EXPECT_NE(parse_error("HK?M\\SOFTWARE").find("root key must be written out"), std::string::npos);
  EXPECT_NE(parse_error(std::string("HKLM\\A\0B", 8)).find("NUL"), std::string::npos);
  EXPECT_NE(parse_error("HKLM\\\xff\xfe").find("UTF-8"), std::string::npos);
  EXPECT_NE(parse_error("HKLM\\" + std::string(256, 'a')).find("255"), std::string::npos);
  EXPECT_EQ(parse_error("HKLM\\" + std::string(255, 'a')).substr(0, 9), "accepted:");
}

TEST(KeyPattern, CurrentControlSetIsResolvedOnlyRightBelowSystem) {
  EXPECT_EQ(parsed("HKLM\\SYSTEM\\CurrentControlSet\\Services\\X", 1),
            "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\X");
  EXPECT_EQ(parsed("HKLM\\SYSTEM\\currentcontrolset\\Services", 2),
            "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services");
  EXPECT_EQ(parsed("\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet", 17),
            "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet017");
  EXPECT_EQ(parsed("HKLM\\SYSTEM\\CurrentControlSet", 999),
            "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet999");
  // A glob that means every control set stays a glob.
  EXPECT_EQ(parsed("HKLM\\SYSTEM\\ControlSet*\\Services"),
            "\\REGISTRY\\MACHINE\\SYSTEM\\glob:ControlSet*\\Services");
  for (const char* key :
       {"HKLM\\SOFTWARE\\CurrentControlSet", "HKLM\\*\\CurrentControlSet",
        "HKLM\\**\\CurrentControlSet", "HKLM\\SYSTEM\\ControlSet001\\CurrentControlSet",
        "HKU\\*\\CurrentControlSet", "HKLM\\SYSTEM\\Current*\\Services",
        "HKLM\\SYSTEM\\*ControlSet"}) {
    EXPECT_NE(parse_error(key).find("CurrentControlSet"), std::string::npos) << key;
  }
}

TEST(KeyPattern, ClassesRootStandsForThreePlaces) {
  policy::KeyPattern p;
  std::string error;
  ASSERT_TRUE(policy::parse_key_pattern("HKCR\\CLSID\\*\\InprocServer32", 1, p, error)) << error;
  std::vector<policy::KeyPattern> places;
  policy::classes_root_user_places(p, places);
  ASSERT_EQ(places.size(), 2u);
  std::set<std::string> texts;
  for (const auto& place : places) texts.insert(pattern_text(place));
  EXPECT_EQ(texts, (std::set<std::string>{
                       "\\REGISTRY\\USER\\*\\Software\\Classes\\CLSID\\*\\InprocServer32",
                       "\\REGISTRY\\USER\\glob:*_Classes\\CLSID\\*\\InprocServer32"}));
  // The output is replaced, not appended to.
  ASSERT_TRUE(policy::parse_key_pattern("HKLM\\SOFTWARE\\Classes\\CLSID", 1, p, error));
  policy::classes_root_user_places(p, places);
  EXPECT_TRUE(places.empty());
}

TEST(KeyPattern, HardenedKeysTakeNamesOnly) {
  policy::KeyPattern p;
  std::string error;
  for (const char* key : {"HKLM\\SOFTWARE\\*\\X", "HKLM\\SOFTWARE\\**", "HKU\\*{2}\\X"}) {
    EXPECT_FALSE(policy::parse_literal_key(key, 1, p, error)) << key;
    EXPECT_NE(error.find("hardened key is a path of names"), std::string::npos) << error;
  }
  ASSERT_TRUE(
      policy::parse_literal_key("HKLM\\SYSTEM\\ControlSet*\\Services\\WinDefend", 1, p, error))
      << error;
  EXPECT_EQ(pattern_text(p), "\\REGISTRY\\MACHINE\\SYSTEM\\glob:ControlSet*\\Services\\WinDefend");
  ASSERT_TRUE(policy::parse_literal_key("HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend", 4,
                                        p, error));
  EXPECT_EQ(pattern_text(p), "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet004\\Services\\WinDefend");
  EXPECT_FALSE(policy::parse_literal_key("HKLM\\SOFTWARE\\CurrentControlSet", 1, p, error));
  EXPECT_NE(error.find("CurrentControlSet"), std::string::npos);
}

// ---- YAML -> blob ----

const char* const kPolicy = R"(version: 1
legacy_hardening: true
control_set: 2
hardened_keys:
  - 'HKLM\SYSTEM\CurrentControlSet\Services\WinDefend'
  - 'HKCR\CLSID\{AAAA}'
processes:
  - image: 'C:\Program Files\AV\*\Engine.exe'
    flags: [av-service, friendly]
  - image: 'C:\Tools\backup.exe'
    rules: [allow-all-registry, notify-sync]
  - image: 'C:\Sec\*'
    flags: [seces, service-sid, excluded, system]
monitored:
  - key: 'HKLM\SOFTWARE\Guarded'
    client: guard
    rules: [create-key, delete-key, delete-deny]
    values:
      - name: 'Set*'
        rules: [set-value, set-value-deny, set-value-capture]
      - name: ''
        rules: [delete-value, delete-value-capture]
  - key: 'HKU\*{2}\Run?'
    client: two
    rules: [rename-key, rename-key-deny, tamper-protection]
  - key: 'HKLM\SOFTWARE\**\Deep'
    client: three
    rules: [restore-key, restore-key-deny, replace-key, replace-key-deny]
  - key: 'HKLM\SYSTEM\CurrentControlSet\Services\*'
    client: guard
    rules: [create-key-deny]
  - key: 'HKCR\CLSID\*\InprocServer32'
    client: com
    values:
      - name: ''
        rules: [set-value]
)";

TEST(PolicyCompile, EveryEntryLandsWhereItsPatternSays) {
  const std::set<std::string> want = {
      "\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded key guard 0x040011 line 15",
      "\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded value 'SET*' glob guard 0x080500 line 19",
      "\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded value '' guard 0x002800 line 21",
      "\\REGISTRY\\USER\\*{2}\\run? key two 0x420004 line 23",
      "\\REGISTRY\\MACHINE\\SOFTWARE\\**\\Deep key three 0x30c000 line 26",
      "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services\\* key guard 0x010000 line 29",
      // HKCR: one YAML entry, three places, one explanation line.
      "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\CLSID\\*\\InprocServer32 value '' com 0x000100 line "
      "35",
      "\\REGISTRY\\USER\\*\\Software\\Classes\\CLSID\\*\\InprocServer32 value '' com 0x000100 line "
      "35",
      "\\REGISTRY\\USER\\*_classes\\CLSID\\*\\InprocServer32 value '' com 0x000100 line 35",
  };
  std::set<std::string> got = rules_of(kPolicy);
  // Globs are stored folded; compare them case-insensitively by folding our expectation's globs.
  std::set<std::string> got_folded, want_folded;
  auto fold_ascii = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
  };
  for (const auto& s : got) got_folded.insert(fold_ascii(s));
  for (const auto& s : want) want_folded.insert(fold_ascii(s));
  EXPECT_EQ(got_folded, want_folded);
}

TEST(PolicyCompile, HeaderHoldsTheSettingsAndTheRuleUnion) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  EXPECT_EQ(std::memcmp(c->view.header().magic, blob::kMagic, sizeof blob::kMagic), 0);
  EXPECT_EQ(c->view.header().version, blob::kPolicyFormatVersion);
  EXPECT_EQ(c->view.header().total_size, c->blob.size());
  EXPECT_EQ(c->view.control_set(), 2u);
  EXPECT_TRUE(c->view.legacy_hardening());
  EXPECT_EQ(c->view.rule_union(),
            0x040011u | 0x080500u | 0x002800u | 0x420004u | 0x30c000u | 0x010000u | 0x000100u);
  // One explanation entry per YAML rule (key rules and each value rule), whatever its places.
  EXPECT_EQ(c->view.entry_count(), 7u);
  auto off = compile_ok("version: 1\nmonitored: [{key: 'HKLM\\X', rules: [create-key]}]\n");
  EXPECT_FALSE(off->view.legacy_hardening());
  EXPECT_EQ(off->view.control_set(), 1u);  // the default
  EXPECT_EQ(off->view.rule_union(), rule::kCreateKey);
}

TEST(PolicyCompile, ClientsAreSharedAndCarryTheirNameHash) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  std::set<std::string> names;
  for (const blob::Client& client : c->view.clients()) {
    const std::string name = utf16_to_utf8(c->view.str(client.name));
    EXPECT_TRUE(names.insert(name).second) << "client twice: " << name;
    const ClientHash h = client_hash(name);
    EXPECT_EQ(std::memcmp(client.hash, h.bytes, 16), 0) << name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"guard", "two", "three", "com"}));
  // Without `client`, an entry's client is `default`.
  auto d = compile_ok("version: 1\nmonitored: [{key: 'HKLM\\X', rules: [create-key]}]\n");
  ASSERT_EQ(d->view.clients().size, 1u);
  EXPECT_EQ(utf16_to_utf8(d->view.str(d->view.clients()[0].name)), "default");
}

TEST(PolicyCompile, ValuePatternsAreFoldedHashedAndMarkedAsGlobs) {
  auto c = compile_ok(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\V'
    values:
      - {name: 'DisableAntiSpyware', rules: [set-value]}
      - {name: 'Run*', rules: [set-value]}
      - {name: 'a?c', rules: [delete-value]}
      - {name: 'straße', rules: [delete-value]}
)");
  ASSERT_TRUE(c->ok);
  int literal = 0, glob = 0;
  for (std::uint32_t n = 0; n < c->view.nodes().size; ++n) {
    for (const blob::ValuePattern& v : c->view.node_values(n)) {
      const std::u16string_view f = c->view.str(v.folded);
      std::u16string refolded(f.size(), u'\0');
      fold_units(f, refolded.data());
      EXPECT_EQ(std::u16string(f), refolded) << "stored value names are folded";
      if (v.is_glob) {
        ++glob;
        EXPECT_NE(f.find_first_of(u"*?"), std::u16string_view::npos);
      } else {
        ++literal;
        EXPECT_EQ(v.hash, component_hash(f)) << utf16_to_utf8(f);
      }
    }
  }
  EXPECT_EQ(literal, 2);
  EXPECT_EQ(glob, 2);
}

TEST(PolicyCompile, LiteralEdgesAreFoldedHashedAndSorted) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  for (std::uint32_t n = 0; n < c->view.nodes().size; ++n) {
    const std::uint32_t first = c->view.literal_first(n);
    std::uint64_t last = 0;
    for (std::uint32_t i = 0; i < c->view.literal_edges(n).size; ++i) {
      const blob::LiteralEdge& e = c->view.literal_edge(first + i);
      const std::u16string_view f = c->view.edge_name(e);
      EXPECT_EQ(e.hash, static_cast<std::uint32_t>(component_hash(f)));
      EXPECT_EQ(e.hash_high, static_cast<std::uint16_t>(component_hash(f) >> 32));
      EXPECT_TRUE(equal_folded(f, c->view.edge_display(first + i)));
      EXPECT_GE(e.hash, last);  // small nodes: sorted by hash for the scan
      last = e.hash;
    }
  }
}

TEST(PolicyCompile, HardenedKeysAreFoldedPartsAndHkcrHasThreePlaces) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  std::set<std::string> keys;
  for (const blob::Range& key : c->view.hardened_keys()) {
    std::string path;
    for (const blob::StrRef& part : c->view.hardened_parts(key))
      path += "\\" + utf16_to_utf8(c->view.str(part));
    keys.insert(path);
  }
  EXPECT_EQ(keys, (std::set<std::string>{
                      "\\REGISTRY\\MACHINE\\SYSTEM\\CONTROLSET002\\SERVICES\\WINDEFEND",
                      "\\REGISTRY\\MACHINE\\SOFTWARE\\CLASSES\\CLSID\\{AAAA}",
                      "\\REGISTRY\\USER\\*\\SOFTWARE\\CLASSES\\CLSID\\{AAAA}",
                      "\\REGISTRY\\USER\\*_CLASSES\\CLSID\\{AAAA}"}));
}

TEST(PolicyCompile, ProcessesKeepTheirOrderFlagsAndRules) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  const auto procs = c->view.processes();
  ASSERT_EQ(procs.size, 3u);
  EXPECT_EQ(utf16_to_utf8(c->view.str(procs[0].display)), "C:\\Program Files\\AV\\*\\Engine.exe");
  EXPECT_EQ(utf16_to_utf8(c->view.str(procs[0].image)), "C:\\PROGRAM FILES\\AV\\*\\ENGINE.EXE");
  EXPECT_EQ(procs[0].flags, process_flag::kAvService | process_flag::kFriendly);
  EXPECT_EQ(procs[0].rules, 0u);
  EXPECT_EQ(procs[1].flags, 0u);
  EXPECT_EQ(procs[1].rules, process_rule::kAllowAllRegistry | process_rule::kNotifySync);
  EXPECT_EQ(procs[1].rules, 0x400u | 0x200000u);  // SPEC §3's bits
  EXPECT_EQ(procs[2].flags, process_flag::kSeces | process_flag::kServiceSid |
                                process_flag::kExcluded | process_flag::kSystem);
  EXPECT_EQ(process_flag_names(procs[0].flags), "av-service|friendly");
  EXPECT_EQ(process_rule_names(procs[1].rules), "allow-all-registry|notify-sync");
}

TEST(PolicyCompile, RuleBitsAndNamesAreThoseOfTheSpec) {
  const std::pair<const char*, std::uint32_t> kBits[] = {
      {"create-key", 0x000001},      {"rename-key", 0x000004},  {"delete-key", 0x000010},
      {"restore-key", 0x004000},     {"replace-key", 0x008000}, {"create-key-deny", 0x010000},
      {"rename-key-deny", 0x020000}, {"delete-deny", 0x040000}, {"replace-key-deny", 0x100000},
      {"restore-key-deny", 0x200000}};
  for (const auto& [name, bit] : kBits) {
    auto c = compile_ok(std::string("version: 1\nmonitored: [{key: 'HKLM\\X', rules: [") + name +
                        "]}]\n");
    ASSERT_TRUE(c->ok) << name;
    EXPECT_EQ(c->view.rule_union(), bit) << name;
    EXPECT_EQ(rule_names(bit), name);
  }
  // Capture bits only ride along with their operation: each is compiled beside set-value.
  const std::pair<const char*, std::uint32_t> kValueBits[] = {{"set-value", 0x000100},
                                                              {"set-value-capture", 0x000400},
                                                              {"delete-value", 0x000800},
                                                              {"delete-value-capture", 0x002000},
                                                              {"set-value-deny", 0x080000}};
  for (const auto& [name, bit] : kValueBits) {
    auto c = compile_ok(
        std::string(
            "version: 1\nmonitored: [{key: 'HKLM\\X', values: [{name: v, rules: [set-value, ") +
        name + "]}]}]\n");
    ASSERT_TRUE(c->ok) << name;
    EXPECT_EQ(c->view.rule_union(), bit | rule::kSetValue) << name;
    EXPECT_EQ(rule_names(bit), name);
  }
  // tamper-protection (like capture) only rides along with an operation bit; alone it is refused.
  auto tp = compile_ok(
      "version: 1\nmonitored: [{key: 'HKLM\\X', rules: [create-key, tamper-protection]}]\n");
  ASSERT_TRUE(tp->ok);
  EXPECT_EQ(tp->view.rule_union(), 0x400001u);
  EXPECT_EQ(rule_names(0x400000), "tamper-protection");
  EXPECT_FALSE(
      compile("version: 1\nmonitored: [{key: 'HKLM\\X', rules: [tamper-protection]}]\n")->ok);
  EXPECT_FALSE(compile("version: 1\nmonitored: [{key: 'HKLM\\X', values: [{name: v, rules: "
                       "[set-value-capture]}]}]\n")
                   ->ok);
  EXPECT_EQ(rule_names(0), "none");
  EXPECT_EQ(rule_names(0x010001), "create-key|create-key-deny");
}

TEST(PolicyCompile, SeveralEntriesForOneKeyKeepEveryClient) {
  const auto rules = rules_of(R"(version: 1
monitored:
  - {key: 'HKLM\SOFTWARE\X', client: a, rules: [create-key]}
  - {key: 'hklm\software\x', client: b, rules: [delete-key]}
  - {key: 'HKEY_LOCAL_MACHINE\SOFTWARE\X', client: a, rules: [delete-deny]}
)");
  // One node (case-insensitive names), three client rules with their own lines.
  EXPECT_EQ(rules,
            (std::set<std::string>{"\\REGISTRY\\MACHINE\\SOFTWARE\\X key a 0x000001 line 3",
                                   "\\REGISTRY\\MACHINE\\SOFTWARE\\X key b 0x000010 line 4",
                                   "\\REGISTRY\\MACHINE\\SOFTWARE\\X key a 0x040000 line 5"}));
}

// ---- Problems name the file, the line and the field ----

struct Problem {
  std::uint32_t line;
  std::string field;
  std::string words;
};

void expect_problems(const std::string& yaml, const std::vector<Problem>& want) {
  auto c = compile(yaml, "dir/p.yaml");
  ASSERT_FALSE(c->ok) << yaml;
  ASSERT_EQ(c->problems.size(), want.size()) << c->problem_text();
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& p = c->problems[i];
    EXPECT_EQ(p.file, "dir/p.yaml");
    EXPECT_EQ(p.where.line, want[i].line) << c->problem_text();
    EXPECT_EQ(p.field, want[i].field) << c->problem_text();
    EXPECT_NE(p.message.find(want[i].words), std::string::npos) << c->problem_text();
    // The printed form carries all of them.
    const std::string s = p.to_string();
    EXPECT_EQ(s.rfind("dir/p.yaml:" + std::to_string(want[i].line) + ":", 0), 0u) << s;
    EXPECT_NE(s.find(want[i].field + ": "), std::string::npos) << s;
  }
}

TEST(PolicyProblems, TopLevel) {
  expect_problems("monitored: []\n", {{1, "version", "missing"}});
  expect_problems("version: 2\n", {{1, "version", "unsupported policy version '2'"}});
  expect_problems("version: 1\ncolour: red\n", {{2, "colour", "unknown field"}});
  expect_problems("version: 1\nlegacy_hardening: maybe\n",
                  {{2, "legacy_hardening", "true or false"}});
  expect_problems("version: 1\ncontrol_set: 0\n", {{2, "control_set", "from 1 to 999"}});
  expect_problems("version: 1\ncontrol_set: 1000\n", {{2, "control_set", "from 1 to 999"}});
  expect_problems("- a\n- b\n", {{1, "(document)", "a policy is a mapping"}});
  expect_problems("version: 1\nmonitored: {key: x}\n", {{2, "monitored", "must be a list"}});
}

TEST(PolicyProblems, MonitoredEntriesAndValues) {
  expect_problems("version: 1\nmonitored:\n  - client: c\n    rules: [create-key]\n",
                  {{3, "monitored[0].key", "missing"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [create-key, launch-missiles]\n",
      {{4, "monitored[0].rules[1]", "unknown rule 'launch-missiles'"}});
  expect_problems("version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [set-value]\n",
                  {{4, "monitored[0].rules", "set-value is a value rule: put it under `values`"},
                   {4, "monitored[0].rules", "names no key operations"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    values:\n      - name: v\n        rules: "
      "[create-key]\n",
      {{6, "monitored[0].values[0].rules", "create-key is a key rule: put it on the entry"},
       {6, "monitored[0].values[0].rules", "names no value operations"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    values:\n      - name: 'a**'\n        "
      "rules: [set-value]\n",
      {{5, "monitored[0].values[0].name", "`**` has no meaning"}});
  expect_problems("version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    client: c\n",
                  {{3, "monitored[0]", "matches nothing"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [create-key]\n    colour: red\n",
      {{5, "monitored[0].colour", "unknown field"}});
  expect_problems("version: 1\nmonitored:\n  - key: [a]\n    rules: [create-key]\n",
                  {{3, "monitored[0].key", "must be a string"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    client: ''\n    rules: [create-key]\n",
      {{4, "monitored[0].client", "empty client name"}});
  // Problems in several entries are all reported, each at its own line.
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKXX\\X'\n    rules: [create-key]\n"
      "  - key: 'HKLM\\A\\\\B'\n    rules: [create-key]\n"
      "  - key: 'HKU\\*{0}'\n    rules: [create-key]\n",
      {{3, "monitored[0].key", "unknown root key"},
       {5, "monitored[1].key", "empty component"},
       {7, "monitored[2].key", "`*{N}` needs N"}});
}

TEST(PolicyProblems, HardenedKeysAndProcesses) {
  expect_problems("version: 1\nhardened_keys:\n  - 'HKLM\\SOFTWARE\\*'\n",
                  {{3, "hardened_keys[0]", "path of names"}});
  expect_problems(
      "version: 1\nhardened_keys:\n  - 'HKLM\\A'\n  - 'HKLM\\SOFTWARE\\CurrentControlSet'\n",
      {{4, "hardened_keys[1]", "CurrentControlSet"}});
  expect_problems("version: 1\nhardened_keys:\n  - {a: b}\n",
                  {{3, "hardened_keys[0]", "key path string"}});
  expect_problems(
      "version: 1\nprocesses:\n  - image: 'C:\\a.exe'\n    flags: [superuser]\n",
      {{4, "processes[0].flags[0]", "unknown process flag 'superuser' (known: system, av-service"},
       {3, "processes[0]", "neither flags nor rules"}});
  expect_problems("version: 1\nprocesses:\n  - image: 'C:\\a.exe'\n    rules: [allow-everything]\n",
                  {{4, "processes[0].rules[0]",
                    "unknown process rule 'allow-everything' (known: allow-all-registry"},
                   {3, "processes[0]", "neither flags nor rules"}});
  expect_problems("version: 1\nprocesses:\n  - image: 'C:\\a.exe'\n",
                  {{3, "processes[0]", "neither flags nor rules"}});
  expect_problems("version: 1\nprocesses:\n  - image: ''\n    flags: [friendly]\n",
                  {{3, "processes[0].image", "empty image pattern"}});
  expect_problems("version: 1\nprocesses:\n  - flags: [friendly]\n",
                  {{3, "processes[0].image", "missing"}});
}

TEST(PolicyProblems, DuplicatesAreRefusedWhereverTheyAre) {
  expect_problems("version: 1\ncontrol_set: 1\ncontrol_set: 2\n",
                  {{3, "control_set", "duplicate key"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\A'\n    rules: [create-key]\n    client: a\n    "
      "client: b\n",
      {{6, "monitored[0].client", "duplicate key `client`"}});
  expect_problems(
      "version: 1\nprocesses:\n  - image: a.exe\n    image: b.exe\n    flags: [friendly]\n",
      {{4, "processes[0].image", "duplicate key `image`"}});
}

TEST(PolicyProblems, ASourceBuiltInMemoryIsCheckedByTheCompiler) {
  policy::PolicySource source;
  source.file = "mem.yaml";
  source.monitored.push_back({"HKXX\\A", "c", rule::kCreateKey, {}, {11, 3}, {}});
  source.hardened_keys.push_back({"HKLM\\**", {12, 3}});
  source.processes.push_back({std::string("C:\\\xff.exe"), process_flag::kFriendly, 0, {13, 3}});
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  EXPECT_FALSE(policy::compile_policy(source, blob, problems));
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].field, "monitored[0].key");
  EXPECT_EQ(problems[0].where.line, 11u);
  EXPECT_EQ(problems[1].field, "hardened_keys[0]");
  EXPECT_EQ(problems[1].where.line, 12u);
  EXPECT_EQ(problems[2].field, "processes[0].image");
  EXPECT_EQ(problems[2].where.line, 13u);
  EXPECT_EQ(problems[0].to_string().rfind("mem.yaml:11:3: monitored[0].key: ", 0), 0u)
      << problems[0].to_string();
}

// ---- Determinism, the dump, .hwp files ----

TEST(PolicyDump, SamePolicyWrittenTwoWaysCompilesToTheSameBytesAndDump) {
  const std::string block = R"(version: 1
hardened_keys: ['HKLM\SOFTWARE\Hard']
monitored:
  - key: 'HKLM\SOFTWARE\A\*'
    client: a
    rules: [create-key]
)";
  const std::string flow =
      "version: 1\nhardened_keys:\n  - "
      "\"\\\\REGISTRY\\\\MACHINE\\\\SOFTWARE\\\\Hard\"\nmonitored:\n"
      "  - {key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\*', client: a,\n     rules: [create-key]}\n";
  auto one = compile_ok(block);
  auto two = compile_ok(flow);
  auto again = compile_ok(block);
  ASSERT_TRUE(one->ok && two->ok && again->ok);
  EXPECT_EQ(one->blob, again->blob);  // deterministic
  // The YAML text differs (entry key as written, its line), so compare the dumps' structure only.
  const std::string d1 = policy::dump_policy(one->storage.data(), one->blob.size());
  const std::string d2 = policy::dump_policy(two->storage.data(), two->blob.size());
  EXPECT_NE(d1.find("  key \\REGISTRY\\MACHINE\\SOFTWARE\\A\\*\n"), std::string::npos) << d1;
  EXPECT_NE(d2.find("  key \\REGISTRY\\MACHINE\\SOFTWARE\\A\\*\n"), std::string::npos) << d2;
  EXPECT_NE(d1.find("\\REGISTRY\\MACHINE\\SOFTWARE\\HARD\n"), std::string::npos) << d1;
  EXPECT_NE(d2.find("\\REGISTRY\\MACHINE\\SOFTWARE\\HARD\n"), std::string::npos) << d2;
}

TEST(PolicyDump, ShowsEveryPartOfThePolicy) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  const std::string dump = policy::dump_policy(c->storage.data(), c->blob.size());
  const std::string guard_hash = [] {
    const ClientHash h = client_hash("guard");
    static const char* const kHex = "0123456789abcdef";
    std::string s;
    for (unsigned char b : h.bytes) {
      s += kHex[b >> 4];
      s += kHex[b & 15];
    }
    return s;
  }();
  for (const std::string& part : std::vector<std::string>{
           "hivewarden policy, format " + std::to_string(blob::kPolicyFormatVersion) + ", " +
               std::to_string(c->blob.size()) + " bytes\n",
           "  control set 2, legacy hardening on\n",
           "hardened keys (4):\n",
           "  \\REGISTRY\\MACHINE\\SYSTEM\\CONTROLSET002\\SERVICES\\WINDEFEND\n",
           "processes (3, first match wins):\n",
           "  C:\\Program Files\\AV\\*\\Engine.exe  flags av-service|friendly  rules none\n",
           "  C:\\Tools\\backup.exe  flags none  rules allow-all-registry|notify-sync\n",
           "  key \\REGISTRY\\MACHINE\\SOFTWARE\\Guarded\n",
           "    client guard [" + guard_hash +
               "] rules create-key|delete-key|delete-deny (0x040011) line 15\n",
           "    value 'SET*' (glob)\n",
           "      client guard [" + guard_hash +
               "] rules set-value|set-value-capture|set-value-deny (0x080500) line 19\n",
           "    value ''\n",
           "  key \\REGISTRY\\USER\\*{2}\\RUN?\n",
           "  key \\REGISTRY\\MACHINE\\SOFTWARE\\**\\Deep\n",
           "  key \\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services\\*\n",
           "  key \\REGISTRY\\USER\\*_CLASSES\\CLSID\\*\\InprocServer32\n",
       }) {
    EXPECT_NE(dump.find(part), std::string::npos) << "missing: " << part << "\nin:\n" << dump;
  }
  EXPECT_EQ(policy::dump_policy(c->storage.data(), c->blob.size() - 8).rfind("invalid policy: ", 0),
            0u);
}

class PolicyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hw-policy-files-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const void* data, std::size_t size) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary)
        .write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return p.string();
  }
  fs::path dir_;
};

TEST_F(PolicyFiles, CompiledBlobRoundTripsThroughAnHwpFile) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  const std::string yaml = write("p.yaml", kPolicy, std::strlen(kPolicy));
  const std::string hwp = write("p.hwp", c->blob.data(), c->blob.size());
  policy::Blob from_yaml, from_hwp;
  std::vector<policy::PolicyProblem> problems;
  ASSERT_TRUE(policy::load_policy_file(yaml, from_yaml, problems));
  ASSERT_TRUE(policy::load_policy_file(hwp, from_hwp, problems));
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(from_yaml, c->blob);
  EXPECT_EQ(from_hwp, c->blob);
  // The dump of what came back is the dump of what went in.
  std::vector<std::uint64_t> aligned((from_hwp.size() + 7) / 8);
  std::memcpy(aligned.data(), from_hwp.data(), from_hwp.size());
  EXPECT_EQ(policy::dump_policy(aligned.data(), from_hwp.size()),
            policy::dump_policy(c->storage.data(), c->blob.size()));
}

TEST_F(PolicyFiles, DamagedHwpAndMissingFilesAreNamed) {
  auto c = compile_ok(kPolicy);
  ASSERT_TRUE(c->ok);
  policy::Blob bytes = c->blob;
  bytes.back() ^= 0x55;
  const std::string hwp = write("bad.hwp", bytes.data(), bytes.size());
  policy::Blob out;
  std::vector<policy::PolicyProblem> problems;
  EXPECT_FALSE(policy::load_policy_file(hwp, out, problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, hwp);
  EXPECT_EQ(problems[0].field, "(blob)");
  EXPECT_NE(problems[0].message.find("checksum"), std::string::npos) << problems[0].message;

  problems.clear();
  EXPECT_FALSE(policy::load_policy_file((dir_ / "absent.yaml").string(), out, problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, (dir_ / "absent.yaml").string());
  EXPECT_EQ(problems[0].field, "(file)");

  problems.clear();
  const std::string bad_yaml =
      "version: 1\nmonitored:\n  - key: 'HKXX\\A'\n    rules: [create-key]\n";
  const std::string yaml = write("bad.yaml", bad_yaml.data(), bad_yaml.size());
  EXPECT_FALSE(policy::load_policy_file(yaml, out, problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, yaml);
  EXPECT_EQ(problems[0].where.line, 3u);
  EXPECT_EQ(problems[0].field, "monitored[0].key");
}

// ---- The built-in default policy ----

TEST(BuiltinPolicy, IsPoliciesDefaultYamlAndCompilesToAValidBlob) {
  const std::string_view text = policy::builtin_default_policy_yaml();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(std::string(text),
            test::read_text(fs::path(HIVEWARDEN_SOURCE_DIR) / "policies" / "default.yaml"))
      << "the embedded policy is policies/default.yaml";

  auto c = compile_ok(std::string(text));
  ASSERT_TRUE(c->ok);
  EXPECT_GT(c->view.entry_count(), 10u);
  EXPECT_GT(c->view.hardened_keys().size, 0u);
  EXPECT_GT(c->view.processes().size, 0u);
  // It protects what SPEC §8 shows: Defender's service key is hardened.
  bool windefend = false;
  for (const blob::Range& key : c->view.hardened_keys()) {
    std::string path;
    for (const blob::StrRef& part : c->view.hardened_parts(key))
      path += "\\" + utf16_to_utf8(c->view.str(part));
    if (path.find("\\SERVICES\\WINDEFEND") != std::string::npos) windefend = true;
  }
  EXPECT_TRUE(windefend);
  const std::string dump = policy::dump_policy(c->storage.data(), c->blob.size());
  EXPECT_EQ(dump.find("invalid policy"), std::string::npos);
}

}  // namespace
}  // namespace hivewarden

namespace hivewarden {
namespace {

// SPEC §10: conditions' problems name file, line and field.
TEST(PolicyProblems, Conditions) {
  const std::string head =
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    values:\n      - name: v\n"
      "        rules: [set-value]\n";
  expect_problems(head + "        when: {colour: red}\n",
                  {{7, "monitored[0].values[0].when.colour", "unknown field 'colour'"}});
  // The error lists every field the compiler knows (one table: a new field cannot be missed).
  expect_problems(head + "        when: {colour: red}\n",
                  {{7, "monitored[0].values[0].when.colour",
                    "(known: image, key, target_object, value, new_name, user, data, details, "
                    "new_target_object)"}});
  expect_problems(head + "        when: {image|sounds: x}\n",
                  {{7, "monitored[0].values[0].when.image|sounds", "unknown modifier 'sounds'"}});
  expect_problems(head + "        when: {image|re: '.*'}\n",
                  {{7, "monitored[0].values[0].when.image|re", "regular expressions"}});
  expect_problems(head + "        when: []\n", {{7, "monitored[0].values[0].when", "empty list"}});
  expect_problems(head + "        when: {}\n",
                  {{7, "monitored[0].values[0].when", "empty condition"}});
  expect_problems(head + "        unless: {image: []}\n",
                  {{7, "monitored[0].values[0].unless.image", "non-empty list"}});
  expect_problems(head + "        unless: {image: ~}\n",
                  {{7, "monitored[0].values[0].unless.image", "non-empty list"}});
  expect_problems(head + "        when: {data|dword: 0x1FFFFFFFF}\n",
                  {{7, "monitored[0].values[0].when.data|dword", "not a number"}});
  expect_problems(head + "        when: {data|dword: one}\n",
                  {{7, "monitored[0].values[0].when.data|dword", "not a number"}});
  // `key` is the kernel form: `HKLM\...` (as an entry's key may say) would never hold, silently
  // turning a deny off.
  expect_problems(head + "        when: {key|startswith: 'HKLM\\X'}\n",
                  {{7, "monitored[0].values[0].when.key|startswith", "can never match"}});
  expect_problems(head + "        unless: {key: ['\\REGISTRY\\MACHINE\\X', 'HKU\\*']}\n",
                  {{7, "monitored[0].values[0].unless.key", "kernel form"}});
  EXPECT_TRUE(compile(head +
                          "        when: {key|startswith: '\\REGISTRY\\MACHINE\\X', key: '*\\X', "
                          "key|endswith: 'HKLM\\X'}\n",
                      "dir/p.yaml")
                  ->ok);
  expect_problems(head + "        when: {data|qword|gt: -1}\n",
                  {{7, "monitored[0].values[0].when.data|qword|gt", "not a number"}});
  expect_problems(head + "        when: {data|type: text}\n",
                  {{7, "monitored[0].values[0].when.data|type", "unknown value type"}});
  expect_problems(head + "        when: {image|dword: 1}\n",
                  {{7, "monitored[0].values[0].when.image|dword", "applies to `data` only"}});
  expect_problems(head + "        when: {image|gt: 1}\n",
                  {{7, "monitored[0].values[0].when.image|gt", "compares numbers"}});
  expect_problems(head + "        when: {image|contains|endswith: a}\n",
                  {{7, "monitored[0].values[0].when.image|contains|endswith", "two comparisons"}});
  expect_problems(head + "        when: {data|dword|contains: 1}\n",
                  {{7, "monitored[0].values[0].when.data|dword|contains", "does not go with it"}});
  expect_problems(head + "        when: [{image: a}, 7]\n",
                  {{7, "monitored[0].values[0].when[1]", "must be a mapping"}});
  expect_problems(head + "        when: {image: {a: b}}\n",
                  {{7, "monitored[0].values[0].when.image", "not a mapping"}});
  expect_problems(head + "        when: {image: ['" + std::string(4097, 'a') + "']}\n",
                  {{7, "monitored[0].values[0].when.image[0]", "kMaxConditionValueUnits"}});
  // On the entry: its key operations, and only the fields they have.
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [create-key]\n    when: {data: x}\n",
      {{5, "monitored[0]", "`data` is a value's"}});
  expect_problems(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    when: {image: x}\n    values:\n      - "
      "name: "
      "v\n        rules: [set-value]\n",
      {{3, "monitored[0]", "apply to the entry's key operations"}});
}

TEST(PolicyProblems, ConditionLimits) {
  std::string values;
  for (std::size_t i = 0; i <= policy::limits::kMaxValuesPerTest; ++i) values += "a,";
  const std::string head =
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    values:\n      - name: v\n"
      "        rules: [set-value]\n";
  expect_problems(head + "        when: {image: [" + values + "]}\n",
                  {{7, "monitored[0].values[0].when.image", "kMaxValuesPerTest"}});
  std::string list;
  for (std::size_t i = 0; i <= policy::limits::kMaxConditionsPerList; ++i) list += "{image: a},";
  expect_problems(head + "        unless: [" + list + "]\n",
                  {{7,
                    "monitored[0].values[0].unless[" +
                        std::to_string(policy::limits::kMaxConditionsPerList) + "]",
                    "kMaxConditionsPerList"}});
}

TEST(PolicyCompile, ConditionsAreCompiledIntoTheirSections) {
  auto c = compile(
      "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [create-key]\n"
      "    when: [{image|endswith: '\\reg.exe', key|contains: Run}, {user: S-1-5-18}]\n"
      "    values:\n      - name: v\n        rules: [set-value]\n"
      "        unless: {data|dword|gt: 0x10, details: ['a*', b]}\n",
      "p.yaml");
  ASSERT_TRUE(c->ok) << c->problem_text();
  const PolicyView& view = c->view;
  ASSERT_TRUE(view.has_conditions());
  const blob::Entry& key_entry = view.entries()[0];
  ASSERT_EQ(key_entry.when.count, 2u);
  EXPECT_EQ(key_entry.unless.count, 0u);
  EXPECT_EQ(policy::condition_group_text(view, view.condition_groups(key_entry.when)[0]),
            "image|endswith '\\REG.EXE' and key|contains 'RUN'");
  const blob::Entry& value_entry = view.entries()[1];
  EXPECT_EQ(policy::entry_conditions_text(view, value_entry),
            "unless (data|dword|gt 0x10 and details ['A*', 'B'])");
  const auto tests = view.condition_tests(view.condition_groups(value_entry.unless)[0]);
  EXPECT_EQ(tests[1].match, blob::kMatchGlob) << "a wildcard in any value makes the test a glob";
}

}  // namespace
}  // namespace hivewarden
