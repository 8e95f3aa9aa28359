// Policy YAML: every problem named by file, line and field; every reader limit stated and hit
// with a clear error; the worst inputs compiled by the CLI in bounded memory and time.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/util/utf.hpp"

namespace {

using namespace hivewarden;

struct Loaded {
  bool ok = false;
  std::vector<policy::PolicyProblem> problems;
  std::string text() const {
    std::string s;
    for (const auto& p : problems) s += p.to_string() + "\n";
    return s;
  }
};

Loaded load(const std::string& yaml) {
  Loaded r;
  policy::PolicySource source;
  r.ok = policy::parse_policy_yaml(yaml, "t.yaml", source, r.problems);
  return r;
}

// The one problem of a refused policy, checked for line, field and a word of the message.
void expect_problem(const std::string& yaml, std::uint32_t line, const std::string& field,
                    const std::string& words) {
  const Loaded r = load(yaml);
  ASSERT_FALSE(r.ok) << yaml.substr(0, 200);
  ASSERT_FALSE(r.problems.empty());
  const auto& p = r.problems.front();
  EXPECT_EQ(p.file, "t.yaml");
  EXPECT_EQ(p.where.line, line) << r.text();
  EXPECT_EQ(p.field, field) << r.text();
  EXPECT_NE(p.message.find(words), std::string::npos) << r.text();
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(PolicyYaml, DuplicateKeyIsAnErrorAtEveryLevel) {
  expect_problem(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\A'\n    rules: [create-key]\n"
      "monitored:\n  - key: 'HKLM\\SOFTWARE\\B'\n    rules: [delete-key]\n",
      5, "monitored", "duplicate key `monitored` (first at line 2)");
  expect_problem(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\A'\n    rules: [create-key]\n"
      "    key: 'HKLM\\SOFTWARE\\B'\n",
      5, "monitored[0].key", "duplicate key `key`");
  expect_problem("version: 1\nmonitored:\n  - {key: 'HKLM\\A', rules: [create-key], rules: []}\n",
                 3, "monitored[0].rules", "duplicate key");
  expect_problem(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\A'\n    values:\n"
      "      - name: a\n        rules: [set-value]\n        name: b\n",
      7, "monitored[0].values[0].name", "duplicate key `name`");
  expect_problem(
      "version: 1\nprocesses:\n  - image: a.exe\n    flags: [av-service]\n"
      "    flags: []\n",
      5, "processes[0].flags", "duplicate key `flags`");
  expect_problem("version: 1\nversion: 1\n", 2, "version", "duplicate key");
  // Spelled differently, the same key.
  expect_problem("version: 1\n\"version\": 2\n", 2, "version", "duplicate key");
  // Through an alias.
  expect_problem("&v version: 1\nhardened_keys: []\n*v : 2\n", 3, "version", "duplicate key");
  // Empty and null keys are one key too.
  expect_problem("version: 1\n\"\": a\n: b\n", 3, "", "duplicate key");
}

TEST(PolicyYaml, SecondDocumentIsAnError) {
  expect_problem("version: 1\nhardened_keys: ['HKLM\\SOFTWARE\\A']\n---\nversion: 1\n", 3,
                 "(document)", "second YAML document");
}

TEST(PolicyYaml, InvalidUtf8AnywhereNamesLineAndField) {
  expect_problem(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\X'\n    client: \"\xff\xfe\"\n"
      "    rules: [create-key]\n",
      4, "monitored[0].client", "invalid UTF-8 (byte 0xFF)");
  expect_problem(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\X\xc3'\n    rules: [create-key]\n", 3,
      "monitored[0].key", "invalid UTF-8 (byte 0xC3)");
  // In a comment too: the whole text is checked, the column is the bad byte's.
  const Loaded r = load("version: 1 # caf\xe9\nhardened_keys: []\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.problems.front().where.line, 1u);
  EXPECT_EQ(r.problems.front().where.column, 17u) << r.text();
  // Overlong encodings and surrogates are not UTF-8 either.
  EXPECT_FALSE(load("version: 1\nmonitored: [{key: 'HKLM\\A\xc0\xaf', rules: [create-key]}]\n").ok);
  EXPECT_FALSE(
      load("version: 1\nmonitored: [{key: 'HKLM\\A\xed\xa0\x80', rules: [create-key]}]\n").ok);
}

std::string value_policy(const std::string& name) {
  return "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\X'\n    values:\n      - name: '" +
         name + "'\n        rules: [set-value]\n";
}

// A valid policy with one non-ASCII character (in a value name).
const std::string kSmallPolicy =
    "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\X'\n    client: c1\n    values:\n"
    "      - name: 'V\xc3\xa9'\n        rules: [set-value]\n";

// `utf8` in UTF-16 or UTF-32 (4 bytes a unit), little or big endian, as an editor saves it.
std::string encode_wide(const std::string& utf8, std::size_t unit_bytes, bool big_endian) {
  std::u32string chars;
  for (std::size_t i = 0; i < utf8.size();) {  // the test text is BMP only: 1 to 3 bytes
    const auto b = static_cast<unsigned char>(utf8[i]);
    const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : 3;
    char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : (b & 0x0F);
    for (std::size_t k = 1; k < n; ++k)
      c = (c << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    chars += c;
    i += n;
  }
  std::string out;
  for (char32_t c : chars) {
    for (std::size_t k = 0; k < unit_bytes; ++k) {
      const std::size_t shift = 8 * (big_endian ? unit_bytes - 1 - k : k);
      out += static_cast<char>((c >> shift) & 0xFF);
    }
  }
  return out;
}

TEST(PolicyYaml, Utf16AndUtf32AreRefusedWithOrWithoutByteOrderMark) {
  ASSERT_TRUE(load(kSmallPolicy).ok) << load(kSmallPolicy).text();
  struct Encoding {
    std::size_t unit_bytes;
    bool big_endian;
    std::string name;
  };
  for (const Encoding& e : std::vector<Encoding>{{2, false, "UTF-16LE"},
                                                 {2, true, "UTF-16BE"},
                                                 {4, false, "UTF-32LE"},
                                                 {4, true, "UTF-32BE"}}) {
    // yaml-cpp decodes these by their NUL bytes: they compiled before (and the é was reported as
    // invalid UTF-8 at a byte offset of the raw text, in the wrong field).
    const std::string ascii_only = encode_wide("version: 1\nhardened_keys: ['HKLM\\SOFTWARE\\X']\n",
                                               e.unit_bytes, e.big_endian);
    for (const std::string& text :
         {ascii_only, encode_wide(kSmallPolicy, e.unit_bytes, e.big_endian)}) {
      const Loaded r = load(text);
      ASSERT_FALSE(r.ok) << e.name;
      ASSERT_EQ(r.problems.size(), 1u) << r.text();
      EXPECT_EQ(r.problems.front().where.line, 1u) << r.text();
      EXPECT_EQ(r.problems.front().where.column, e.big_endian ? 1u : 2u) << r.text();
      EXPECT_NE(r.problems.front().message.find("looks like " + e.name + "; save it as UTF-8"),
                std::string::npos)
          << r.text();
    }
    // With a byte order mark.
    const std::string bom = encode_wide("\xef\xbb\xbf", e.unit_bytes, e.big_endian);
    const Loaded r = load(bom + encode_wide(kSmallPolicy, e.unit_bytes, e.big_endian));
    ASSERT_FALSE(r.ok) << e.name;
    EXPECT_EQ(r.problems.front().where.line, 1u) << r.text();
    EXPECT_NE(r.problems.front().message.find("a " + e.name + " byte order mark"),
              std::string::npos)
        << r.text();
    EXPECT_NE(r.problems.front().message.find("save it as UTF-8"), std::string::npos) << r.text();
  }
}

TEST(PolicyYaml, NulByteAnywhereIsAnErrorAtItsPlace) {
  using namespace std::string_literals;
  // A stray NUL in UTF-8 text: its line, column and field.
  const Loaded r = load(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\X'\n    client: 'c\0'\n"
      "    rules: [create-key]\n"s);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.problems.front().where.line, 4u) << r.text();
  EXPECT_EQ(r.problems.front().where.column, 15u) << r.text();
  EXPECT_EQ(r.problems.front().field, "monitored[0].client") << r.text();
  EXPECT_NE(r.problems.front().message.find("a NUL byte"), std::string::npos) << r.text();
  // In a comment and at the very end too.
  expect_problem("version: 1 # \0\nhardened_keys: []\n"s, 1, "version", "NUL byte");
  const Loaded at_end = load("version: 1\nhardened_keys: []\n\0"s);
  ASSERT_FALSE(at_end.ok);
  EXPECT_EQ(at_end.problems.front().where.line, 3u) << at_end.text();
  EXPECT_NE(at_end.problems.front().message.find("NUL byte"), std::string::npos) << at_end.text();
  // A NUL in a value name is still written as an escape, and allowed.
  EXPECT_TRUE(load(value_policy("x") + "      - name: \"a\\0b\"\n        rules: [set-value]\n").ok);
}

TEST(PolicyYaml, Utf8ByteOrderMarkIsAllowedAndNotAColumn) {
  const std::string bom = "\xef\xbb\xbf";
  EXPECT_TRUE(load(bom + kSmallPolicy).ok) << load(bom + kSmallPolicy).text();
  const Loaded r = load(bom + "version: 1 # caf\xe9\nhardened_keys: []\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.problems.front().where.column, 17u) << r.text();
  const Loaded nul = load(bom + std::string("version: 1\0\n", 12));
  ASSERT_FALSE(nul.ok);
  EXPECT_EQ(nul.problems.front().where.column, 11u) << nul.text();
}

const std::string kEntry = "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\A'\n";

TEST(PolicyYaml, TagsAreAnErrorWithFileLineAndField) {
  // Each of these compiled, the tag silently dropped: `!!binary YzE=` gave the client "YzE=".
  expect_problem(kEntry + "    client: !!binary YzE=\n    rules: [create-key]\n", 4,
                 "monitored[0].client", "a YAML tag (`!!binary`): tags are not supported");
  expect_problem(kEntry + "    values:\n      - name: !!binary /w==\n        rules: [set-value]\n",
                 5, "monitored[0].values[0].name", "`!!binary`");
  expect_problem(kEntry + "    client: !!int 5\n    rules: [create-key]\n", 4,
                 "monitored[0].client", "`!!int`");
  expect_problem(kEntry + "    client: !foo c1\n    rules: [create-key]\n", 4,
                 "monitored[0].client", "`!foo`");
  expect_problem(kEntry + "    rules: !!map [create-key]\n", 4, "monitored[0].rules", "`!!map`");
  expect_problem(kEntry + "    rules: [!!null create-key]\n", 4, "monitored[0].rules[0]",
                 "`!!null`");
  expect_problem(kEntry + "    !!binary a2V5: x\n", 4, "monitored[0]", "`!!binary`");
  expect_problem(kEntry + "    client: !<tag:yaml.org,2002:binary> YzE=\n", 4,
                 "monitored[0].client", "`!!binary`");
  // `!!str` that a directive makes mean something else.
  expect_problem("%TAG !! tag:example.com,2000:\n---\n" + kEntry + "    client: !!str c\n", 6,
                 "monitored[0].client", "tags are not supported");
  // On an empty node at the end of the text (yaml-cpp reports a plain null there).
  expect_problem(kEntry + "    rules: [create-key]\n    client: !!binary", 5, "monitored[0].client",
                 "`!!binary`");
  expect_problem("--- !foo\n", 1, "(document)", "`!foo`");
}

TEST(PolicyYaml, ControlSetIsDecimalAndANullClientIsNoSilentDefault) {
  // Attack 2 (minor): yaml-cpp read `control_set: 0x2` as 2 (while refusing 0o2), and
  // `client: ~` became the client `default` without a word.
  const std::string hardened = "hardened_keys: ['HKLM\\SYSTEM\\CurrentControlSet\\A']\n";
  for (const std::string& bad : {"0x2", "0o2", "+2", "2.0", "0", "1000", "1e2"}) {
    expect_problem("version: 1\ncontrol_set: " + bad + "\n" + hardened, 2, "control_set",
                   "must be a number from 1 to 999");
  }
  for (const std::string& good : {"2", "'2'", "002", "999"}) {
    EXPECT_TRUE(load("version: 1\ncontrol_set: " + good + "\n" + hardened).ok) << good;
  }
  for (const std::string& null : {"~", "null", ""}) {
    const Loaded r = load(kEntry + "    client: " + null + "\n    rules: [create-key]\n");
    ASSERT_FALSE(r.ok) << null;
    ASSERT_EQ(r.problems.size(), 1u) << r.text();
    EXPECT_EQ(r.problems.front().field, "monitored[0].client") << r.text();
    EXPECT_NE(r.problems.front().message.find("leave `client` out"), std::string::npos) << r.text();
  }
  EXPECT_TRUE(load(kEntry + "    rules: [create-key]\n").ok);  // left out: the default client
}

TEST(PolicyYaml, TagsThatSayWhatTheLoaderDoesAnywayAreAllowed) {
  for (const std::string& yaml : {
           "version: !!str 1\n!!str monitored: !!seq\n  - !!map\n    key: ! 'HKLM\\SOFTWARE\\A'\n"
           "    rules: [! create-key]\n",
           "%TAG ! tag:yaml.org,2002:\n---\nversion: 1\nmonitored:\n  - key: !str 'HKLM\\X'\n"
           "    rules: [create-key]\n",
           // An empty value followed by a tagged key: the tag is the key's.
           "version: 1\nhardened_keys:\n!!str processes: []\n",
       }) {
    const Loaded r = load(yaml);
    EXPECT_TRUE(r.ok) << yaml << "\n" << r.text();
  }
}

TEST(PolicyYaml, ValueNameLimitIsCountedInUtf16Units) {
  const std::string e_acute = "\xc3\xa9";  // one UTF-16 unit, two bytes
  EXPECT_TRUE(load(value_policy(repeat(e_acute, 16383))).ok);
  expect_problem(value_policy(repeat(e_acute, 16384)), 5, "monitored[0].values[0].name",
                 "16,383 UTF-16 units");
  expect_problem(value_policy(repeat(e_acute, 20000)), 5, "monitored[0].values[0].name",
                 "can never match");
  // A character outside the BMP is two units: 8,192 of them are 16,384 units.
  expect_problem(value_policy(repeat("\xf0\x9f\x98\x80", 8192)), 5, "monitored[0].values[0].name",
                 "16,383");
  // `*` matches any number of units, even none: it does not count.
  EXPECT_TRUE(load(value_policy(repeat(e_acute, 16383) + "*")).ok);
}

TEST(PolicyYaml, KeyPathLongerThanWindowsAllowsIsAnError) {
  std::string key = "HKLM\\SOFTWARE";
  for (int i = 0; i < 140; ++i) key += "\\" + std::string(250, 'k');  // 35,000 units
  expect_problem("version: 1\nhardened_keys:\n  - '" + key + "'\n", 3, "hardened_keys[0]",
                 "32,767 UTF-16 units");
  expect_problem("version: 1\nmonitored:\n  - key: '" + key + "'\n    rules: [create-key]\n", 3,
                 "monitored[0].key", "32,767 UTF-16 units");
}

// A key path of `units` UTF-16 units under `prefix`, in names of at most 255 units.
std::string key_of_units(const std::string& prefix, std::size_t units) {
  std::string key = prefix;
  while (key.size() < units) {
    std::size_t name = std::min<std::size_t>(255, units - key.size() - 1);
    if (units - key.size() - 1 - name == 1) name -= 2;  // no empty last name
    key += "\\" + std::string(name, 'b');
  }
  return key;
}

bool engine_accepts(const std::string& key) {
  std::unique_ptr<KeyPath> path(new KeyPath);
  return canonicalize_key(*utf8_to_utf16(key), CanonicalOptions{1, {}}, *path) == PathStatus::kOk;
}

std::string delete_key_policy(const std::string& key) {
  return "version: 1\nmonitored:\n  - key: '" + key + "'\n    rules: [delete-key, delete-deny]\n";
}

TEST(PolicyYaml, KeyLimitsAreCountedAsTheEngineCountsThem) {
  // Attack 2 F14: up to 32,899 units (separators left out) and 513 levels compiled, and the
  // engine refuses every such operation as invalid-name, so the entry could never match.
  const std::string kernel = "\\REGISTRY\\MACHINE\\SOFTWARE";
  for (const std::size_t units : {32767u, 32768u, 32899u}) {
    const std::string key = key_of_units(kernel, units);
    ASSERT_EQ(key.size(), units);
    EXPECT_EQ(load(delete_key_policy(key)).ok, engine_accepts(key)) << units;
    EXPECT_EQ(engine_accepts(key), units <= 32767) << units;
  }
  expect_problem(delete_key_policy(key_of_units(kernel, 32768)), 3, "monitored[0].key",
                 "32,767 UTF-16 units");
  // Written as HKLM\..., 14 units shorter: the kernel form is what counts.
  const std::string written = "HKLM\\SOFTWARE" + key_of_units(kernel, 32768).substr(kernel.size());
  expect_problem(delete_key_policy(written), 3, "monitored[0].key", "32,767 UTF-16 units");
  expect_problem("version: 1\nhardened_keys: ['" + written + "']\n", 2, "hardened_keys[0]",
                 "32,767 UTF-16 units");
  // Depth: \REGISTRY\MACHINE\SOFTWARE and 509 more levels is the registry's 512.
  for (const std::size_t more : {509u, 510u}) {
    const std::string key = kernel + repeat("\\a", more);
    EXPECT_EQ(load(delete_key_policy(key)).ok, engine_accepts(key)) << more;
    EXPECT_EQ(engine_accepts(key), more == 509) << more;
  }
  expect_problem(delete_key_policy(kernel + repeat("\\a", 510)), 3, "monitored[0].key",
                 "deeper than the registry allows (513 levels");
  // `**` may match no level; `*{N}` is N levels of at least one unit each.
  EXPECT_TRUE(load(delete_key_policy(kernel + "\\**" + repeat("\\a", 509))).ok);
  expect_problem(delete_key_policy(kernel + "\\*{510}"), 3, "monitored[0].key", "513 levels");
  expect_problem(delete_key_policy(kernel + repeat("\\*{2}", 8192)), 3, "monitored[0].key",
                 "levels");  // the parser's own bound on the pattern's size
  // HKCR\X also stands for \REGISTRY\USER\*_Classes\X, one level shorter than the machine's.
  EXPECT_TRUE(load(delete_key_policy("HKCR" + repeat("\\a", 509))).ok);
  expect_problem(delete_key_policy("HKCR" + repeat("\\a", 510)), 3, "monitored[0].key",
                 "deeper than the registry allows");
}

TEST(PolicyYaml, HkcrNearTheDepthLimitCompilesToAValidBlob) {
  // HKCR\X stands for three places of different depths. At 509 levels below HKCR the machine's
  // place (513 levels) and \REGISTRY\USER\*\Software\Classes\X (514) cannot exist: the compiler
  // wrote them anyway and the validator refused the blob ("max depth over the registry's limit").
  // test::compile_yaml also fails the test with each problem, or with the validator's refusal.
  for (const std::size_t more : {508u, 509u}) {
    EXPECT_TRUE(test::compile_yaml(delete_key_policy("HKCR" + repeat("\\a", more)))) << more;
    EXPECT_TRUE(
        test::compile_yaml("version: 1\nhardened_keys: ['HKCR" + repeat("\\a", more) + "']\n"))
        << more;
  }
  // A place that fits the registry by its levels but not the blob's 513 components (many `**`).
  expect_problem(delete_key_policy("HKCR" + repeat("\\**\\a", 254) + "\\**"), 3, "monitored[0].key",
                 "more than 513 components");
  EXPECT_TRUE(test::compile_yaml(delete_key_policy("HKCR" + repeat("\\**\\a", 254))));
}

TEST(PolicyYaml, DeepNestingIsRefusedWithItsLine) {
  const std::size_t deep = 100000;
  for (const auto& [open, close] : std::vector<std::pair<std::string, std::string>>{
           {"[", "]"}, {"{a: ", "}"}, {"[{a: ", "}]"}}) {
    const std::string yaml =
        "version: 1\nmonitored: " + repeat(open, deep) + repeat(close, deep) + "\n";
    const Loaded r = load(yaml);
    ASSERT_FALSE(r.ok) << open;
    EXPECT_EQ(r.problems.front().where.line, 2u) << r.text().substr(0, 300);
    EXPECT_EQ(r.problems.front().field.rfind("monitored", 0), 0u) << r.text().substr(0, 300);
    EXPECT_NE(r.problems.front().message.find("kMaxNestingDepth"), std::string::npos)
        << r.text().substr(0, 300);
  }
  // Block nesting: `- - - x` and indentation.
  const Loaded dashes = load("version: 1\nmonitored:\n" + repeat("- ", deep) + "x\n");
  ASSERT_FALSE(dashes.ok);
  EXPECT_EQ(dashes.problems.front().where.line, 3u) << dashes.text().substr(0, 300);
  EXPECT_NE(dashes.problems.front().message.find("kMaxNestingDepth"), std::string::npos);
  std::string indented = "version: 1\nmonitored:\n";
  for (int i = 1; i < 200; ++i) indented += std::string(i, ' ') + "a:\n";
  const Loaded block = load(indented);
  ASSERT_FALSE(block.ok);
  EXPECT_EQ(block.problems.front().where.line, 2u + policy::limits::kMaxNestingDepth)
      << block.text().substr(0, 300);
  EXPECT_NE(block.problems.front().message.find("kMaxNestingDepth"), std::string::npos);
  // Brackets inside quotes, plain scalars and comments are not nesting.
  const std::string brackets = repeat("[", 100);
  EXPECT_TRUE(load("version: 1 # " + brackets +
                   "\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\X'\n    values:\n"
                   "      - name: '" +
                   brackets + "'\n        rules: [set-value]\n      - name: a" + brackets +
                   "\n        rules: [set-value]\n")
                  .ok);
}

std::string alias_bomb(int entries, int values) {
  std::string yaml =
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\A0'\n    client: c\n    values: &V\n";
  for (int i = 0; i < values; ++i)
    yaml += "      - {name: 'v" + std::to_string(i) + "*', rules: [set-value]}\n";
  for (int k = 1; k < entries; ++k)
    yaml += "  - {key: 'HKLM\\SOFTWARE\\A" + std::to_string(k) + "', client: c, values: *V}\n";
  return yaml;
}

TEST(PolicyYaml, AliasExpansionIsBounded) {
  const Loaded r = load(alias_bomb(3000, 3000));
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.problems.front().message.find("kMaxExpandedNodes"), std::string::npos) << r.text();
  EXPECT_EQ(r.problems.front().field.rfind("monitored[", 0), 0u) << r.text();
  EXPECT_GT(r.problems.front().where.line, 3000u);
  // Modest reuse stays fine.
  EXPECT_TRUE(load(alias_bomb(10, 10)).ok);
  // Nested aliases (the classic "billion laughs").
  std::string laughs =
      "version: 1\nhardened_keys: &l0 ['HKLM\\SOFTWARE\\A']\nprocesses: &l1 [*l0, *l0, *l0, *l0, "
      "*l0, *l0, *l0, *l0, *l0, *l0]\n";
  for (int i = 2; i < 12; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    laughs += "x" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + repeat(prev + ", ", 9) +
              prev + "]\n";
  }
  const Loaded lol = load(laughs);
  ASSERT_FALSE(lol.ok);
  EXPECT_NE(lol.problems.front().message.find("kMaxExpandedNodes"), std::string::npos)
      << lol.text();
}

std::string long_string_bomb() {
  std::string yaml = "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\A'\n    client: &c '" +
                     std::string(1 << 20, 'c') + "'\n    rules: [create-key]\n";
  for (int i = 0; i < 5000; ++i)
    yaml += "  - {key: 'HKLM\\SOFTWARE\\A', client: *c, rules: [create-key]}\n";
  return yaml;
}

TEST(PolicyYaml, AliasExpansionOfLongTextIsBounded) {
  // Few nodes, but each alias would copy a megabyte into an entry: 5 GB.
  const Loaded r = load(long_string_bomb());
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.problems.front().message.find("kMaxExpandedTextBytes"), std::string::npos)
      << r.text().substr(0, 300);
  EXPECT_EQ(r.problems.front().field.rfind("monitored[", 0), 0u) << r.text().substr(0, 300);
}

TEST(PolicyYaml, ImagePatternLongerThanAnyPathIsAnError) {
  expect_problem("version: 1\nprocesses:\n  - image: '" + std::string(40000, 'x') +
                     "'\n    flags: [av-service]\n",
                 3, "processes[0].image", "32,767 UTF-16 units");
}

TEST(PolicyYaml, AliasCycleIsAnError) {
  expect_problem("version: 1\nmonitored: &a [*a]\n", 2, "monitored[0]", "cycle");
}

TEST(PolicyYaml, EntryCountsAreBoundedAfterExpansion) {
  const std::string entries =
      "version: 1\nmonitored:\n  - &e {key: 'HKLM\\SOFTWARE\\K', rules: [create-key]}\n" +
      repeat("  - *e\n", policy::limits::kMaxMonitoredEntries);
  const Loaded r = load(entries);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.problems.front().field,
            "monitored[" + std::to_string(policy::limits::kMaxMonitoredEntries) + "]");
  EXPECT_NE(r.problems.front().message.find("kMaxMonitoredEntries"), std::string::npos) << r.text();
  const std::string values =
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\K'\n    values:\n"
      "      - &v {name: a, rules: [set-value]}\n" +
      repeat("      - *v\n", policy::limits::kMaxValueRules);
  const Loaded v = load(values);
  ASSERT_FALSE(v.ok);
  EXPECT_NE(v.problems.front().message.find("kMaxValueRules"), std::string::npos) << v.text();
}

TEST(PolicyYaml, DocumentNodeCountIsBounded) {
  const Loaded r = load("version: 1\nhardened_keys: [" +
                        repeat("a,", policy::limits::kMaxDocumentNodes) + "a]\n");
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.problems.front().message.find("kMaxDocumentNodes"), std::string::npos)
      << r.problems.front().to_string();
}

TEST(PolicyYaml, ReportedProblemsAreBounded) {
  const Loaded r = load("version: 1\nhardened_keys: [" + repeat("a,", 5000) + "a]\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.problems.size(), policy::limits::kMaxReportedProblems + 1);
  EXPECT_NE(r.problems.back().message.find("more problems not shown"), std::string::npos);
}

TEST(PolicyYaml, OversizedTextIsRefusedBeforeParsing) {
  const std::string yaml = "version: 1\n#" + std::string(policy::limits::kMaxPolicyFileBytes, 'x');
  const Loaded r = load(yaml);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.problems.front().field, "(file)");
  EXPECT_NE(r.problems.front().message.find("kMaxPolicyFileBytes"), std::string::npos);
}

// --- The CLI on the worst inputs: exit code 2, named limit, < 256 MB and < 10 s each. ---

using test::ChildRun;

// Runs the CLI with stderr kept (in the scratch directory) and stdout discarded.
ChildRun run_cli(const std::vector<std::string>& args, const test::TempDir& dir) {
  return test::run_hivewarden(args, {.stderr_path = (dir / "cli.err").string()});
}

TEST(PolicyYamlCli, WorstInputsStayUnder256MbAnd10Seconds) {
  // 1 MB of distinct monitored entries (accepted: the limits leave room for real policies).
  std::string entries = "version: 1\nmonitored:\n";
  for (int i = 0; entries.size() < (1u << 20); ++i)
    entries += "  - {key: 'HKLM\\S\\K" + std::to_string(i) + "\\*\\x*y', rules: [create-key]}\n";
  std::string values = "version: 1\nmonitored:\n  - key: 'HKLM\\S'\n    values:\n";
  for (int i = 0; values.size() < (1u << 20); ++i)
    values += "      - {name: v" + std::to_string(i) + ", rules: [set-value]}\n";
  struct Case {
    std::string name, yaml, expect;
  };
  const std::vector<Case> cases = {
      {"alias_bomb", alias_bomb(3000, 3000), "kMaxExpandedNodes"},
      {"long_string_bomb", long_string_bomb(), "kMaxExpandedTextBytes"},
      {"deep_flow", "version: 1\nmonitored: " + repeat("[", 500000) + repeat("]", 500000) + "\n",
       "kMaxNestingDepth"},
      {"deep_map", "version: 1\nmonitored: " + repeat("{a: ", 200000) + repeat("}", 200000) + "\n",
       "kMaxNestingDepth"},
      {"flat_nodes", "version: 1\nhardened_keys: [" + repeat("a,", 500000) + "a]\n",
       "kMaxDocumentNodes"},
      // Just under kMaxDocumentNodes: yaml-cpp builds its whole graph (~150 MB).
      {"nodes_below_limit",
       "version: 1\nmonitored: [" + repeat("{},", policy::limits::kMaxDocumentNodes - 10) + "{}]\n",
       "monitored[0]"},
      {"entries_1mb", entries, ""},
      {"values_1mb", values, ""},
  };
  const test::TempDir dir("yaml-limits");
  for (const Case& c : cases) {
    const std::string path = dir.write(c.name + ".yaml", c.yaml);
    const std::string out = dir.write(c.name + ".hwp", "");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"compile", path, "-o", out},
             {"dump", path},
             {"check", "--policy", path, "--op", "delete-key", "--key", "HKLM\\SOFTWARE\\X"}}) {
      const ChildRun r = run_cli(args, dir);
      if (!test::kSanitizedBuild) {  // sanitizers multiply memory and time; they check the rest
        EXPECT_LT(r.max_rss_kb, 256 * 1024) << c.name << " " << args[0];
        EXPECT_LT(r.seconds, 10.0) << c.name << " " << args[0];
      }
      if (c.expect.empty()) {
        EXPECT_NE(r.exit_code, 2) << c.name << " " << args[0] << ": " << r.err.substr(0, 300);
      } else {
        EXPECT_EQ(r.exit_code, 2) << c.name << " " << args[0];
        EXPECT_NE(r.err.find(c.expect), std::string::npos)
            << c.name << " " << args[0] << ": " << r.err.substr(0, 300);
        EXPECT_NE(r.err.find(path + ":"), std::string::npos) << r.err.substr(0, 300);
      }
    }
    std::remove(path.c_str());
    std::remove(out.c_str());
  }
}

TEST(PolicyYamlCli, ReproducersFromTheAdversarialPassAreRefused) {
  const test::TempDir dir("yaml-repro");
  for (const auto& [file, expect] : std::vector<std::pair<std::string, std::string>>{
           {"B4_dup_monitored.yaml", "duplicate key `monitored`"},
           {"invalid_utf8_client.yaml", "monitored[0].client: invalid UTF-8"},
           // Attack 2: UTF-16/32 without a byte order mark compiled; tags were dropped silently.
           {"utf16le_nobom.yaml", ":1:2: (document): a NUL byte: the file looks like UTF-16LE"},
           {"nobom_nonascii.yaml", "looks like UTF-16LE; save it as UTF-8"},
           {"utf32be_nobom.yaml", ":1:1: (document): a NUL byte: the file looks like UTF-32BE"},
           {"tag_binary.yaml", ":5:13: monitored[0].client: a YAML tag (`!!binary`)"},
           {"tag_map_on_seq.yaml", ":6:12: monitored[0].rules: a YAML tag (`!!map`)"}}) {
    const std::string path = std::string(HIVEWARDEN_SOURCE_DIR) + "/tests/policy/data/" + file;
    const ChildRun r = run_cli({"compile", path, "-o", (dir / "repro.hwp").string()}, dir);
    EXPECT_EQ(r.exit_code, 2) << file;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
  }
}

}  // namespace
