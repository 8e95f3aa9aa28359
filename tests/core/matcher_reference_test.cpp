// The matcher against a brute-force reference: thousands of generated policies and paths must
// give the same (entry, client) pairs and the same OR of rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "../support/test_policy.hpp"
#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

// Names that collide in case only, or share prefixes, so that matches are frequent.
const char* const kNames[] = {"a", "A", "b", "ab", "Ab", "abc", "Äx", "äX", "key", "KEY2"};
const char* const kGlobs[] = {"a*", "*b", "?b", "*", "k?y*", "ä*"};

std::u16string fold(std::u16string s) {
  for (char16_t& c : s) c = fold_unit(c);
  return s;
}

// Reference glob: plain recursion over folded text.
bool ref_glob(std::u16string_view p, std::u16string_view t) {
  if (p.empty()) return t.empty();
  if (p[0] == u'*') return ref_glob(p.substr(1), t) || (!t.empty() && ref_glob(p, t.substr(1)));
  if (t.empty()) return false;
  if (p[0] == u'?' || p[0] == t[0]) return ref_glob(p.substr(1), t.substr(1));
  return false;
}

struct RefComponent {
  int kind;  // 0 literal, 1 *, 2 *{N}, 3 **, 4 glob
  int n;
  std::u16string text;  // folded
};

// Reference matcher: backtracking over one entry's pattern.
bool ref_match(const std::vector<RefComponent>& pat, std::size_t pi,
               const std::vector<std::u16string>& path, std::size_t ti) {
  if (pi == pat.size()) return ti == path.size();
  const RefComponent& c = pat[pi];
  switch (c.kind) {
    case 0:
      return ti < path.size() && path[ti] == c.text && ref_match(pat, pi + 1, path, ti + 1);
    case 1:
      return ti < path.size() && ref_match(pat, pi + 1, path, ti + 1);
    case 2:
      return ti + c.n <= path.size() && ref_match(pat, pi + 1, path, ti + c.n);
    case 3:
      for (std::size_t k = ti; k <= path.size(); ++k) {
        if (ref_match(pat, pi + 1, path, k)) return true;
      }
      return false;
    default:
      return ti < path.size() && ref_glob(c.text, path[ti]) && ref_match(pat, pi + 1, path, ti + 1);
  }
}

struct GeneratedEntry {
  std::vector<RefComponent> pattern;  // after REGISTRY\MACHINE
  std::string client;
  Rules key_rules;
  std::vector<std::pair<std::u16string, Rules>> values;  // folded name or glob
};

constexpr Rules kSomeRules[] = {rule::kCreateKey,
                                rule::kDeleteKey,
                                rule::kDeleteDeny,
                                rule::kCreateKeyDeny | rule::kCreateKey,
                                rule::kRenameKey | rule::kTamperProtection,
                                rule::kRestoreKey};
constexpr Rules kSomeValueRules[] = {rule::kSetValue, rule::kSetValueDeny,
                                     rule::kDeleteValue | rule::kDeleteValueCapture,
                                     rule::kSetValue | rule::kSetValueCapture, rule::kDeleteDeny};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  GeneratedEntry entry() {
    GeneratedEntry e;
    const int depth = pick(5);
    std::string text;
    for (int i = 0; i < depth; ++i) {
      RefComponent c{};
      std::string written;
      const int r = pick(10);
      if (r < 5) {
        written = kNames[pick(10)];
        c = {0, 1, fold(*utf8_to_utf16(written))};
      } else if (r == 5) {
        written = "*";
        c = {1, 1, {}};
      } else if (r == 6) {
        const int n = 1 + pick(3);
        written = "*{" + std::to_string(n) + "}";
        c = {2, n, {}};
      } else if (r == 7) {
        written = "**";
        c = {3, 0, {}};
      } else {
        written = kGlobs[pick(6)];
        c = {written == "*" ? 1 : 4, 1, fold(*utf8_to_utf16(written))};
      }
      e.pattern.push_back(c);
      key_text_ += "\\" + written;
    }
    e.client = "client" + std::to_string(pick(4));
    e.key_rules = pick(3) == 0 ? 0 : kSomeRules[pick(6)];
    const int values = e.key_rules == 0 ? 1 + pick(2) : pick(3);
    for (int i = 0; i < values; ++i) {
      const bool glob = pick(3) == 0;
      const std::string name = glob ? kGlobs[pick(6)] : kNames[pick(10)];
      e.values.push_back({fold(*utf8_to_utf16(name)), kSomeValueRules[pick(5)]});
    }
    return e;
  }

  std::string take_key_text() {
    std::string t = "HKLM" + key_text_;
    key_text_.clear();
    return t;
  }

  std::vector<std::u16string> path(std::u16string& written) {
    const int depth = pick(6);
    std::vector<std::u16string> out;
    written = u"HKLM";
    for (int i = 0; i < depth; ++i) {
      std::u16string name = *utf8_to_utf16(kNames[pick(10)]);
      if (pick(4) == 0) name += u"x";
      written += u"\\" + name;
      out.push_back(fold(name));
    }
    return out;
  }

 private:
  std::mt19937 rng_;
  std::string key_text_;
};

// The value name patterns of the reference are folded; literal value entries compare equal.
bool ref_value_match(const std::u16string& pattern, const std::u16string& value) {
  if (pattern.find_first_of(u"*?") != std::u16string::npos) return ref_glob(pattern, value);
  return pattern == value;
}

using HitSet = std::set<std::tuple<std::uint32_t, std::uint32_t, Rules>>;

TEST(MatcherReference, SameHitsAsBruteForceOnGeneratedPolicies) {
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  std::uint64_t comparisons = 0, non_empty = 0;
  for (std::uint32_t seed = 1; seed <= 400; ++seed) {
    Generator gen(seed);
    policy::PolicySource source;
    source.file = "generated";
    std::vector<GeneratedEntry> entries;
    const int count = 1 + gen.pick(25);
    for (int i = 0; i < count; ++i) {
      GeneratedEntry e = gen.entry();
      policy::MonitoredEntry m;
      m.key = gen.take_key_text();
      m.client = e.client;
      m.rules = e.key_rules;
      for (const auto& [name, rules] : e.values)
        m.values.push_back({utf16_to_utf8(name), rules, {}, {}});
      source.monitored.push_back(m);
      entries.push_back(std::move(e));
    }
    auto compiled = test::compile_source(source);
    ASSERT_TRUE(compiled) << "seed " << seed;
    const PolicyView& view = compiled->view;
    // Entry indices as the compiler numbers them: the key rule first, then each value.
    std::vector<std::uint32_t> key_entry(entries.size()), first_value_entry(entries.size());
    std::uint32_t next = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      key_entry[i] = entries[i].key_rules != 0 ? next++ : ~0u;
      first_value_entry[i] = next;
      next += static_cast<std::uint32_t>(entries[i].values.size());
    }
    auto client_index = [&](const std::string& name) {
      for (std::uint32_t c = 0; c < view.clients().size; ++c) {
        if (utf16_to_utf8(view.str(view.clients()[c].name)) == name) return c;
      }
      return ~0u;
    };

    for (int p = 0; p < 40; ++p) {
      std::u16string written;
      const std::vector<std::u16string> components = gen.path(written);
      ASSERT_EQ(canonicalize_key(written, {1, {}}, *path), PathStatus::kOk);
      const bool value_op = gen.pick(2) == 0;
      const std::u16string value = fold(*utf8_to_utf16(kNames[gen.pick(10)]));
      const Operation op = value_op
                               ? (gen.pick(2) ? Operation::kSetValue : Operation::kDeleteValue)
                               : static_cast<Operation>(std::vector<int>{0, 1, 4, 5}[gen.pick(4)]);
      const Rules flag = traits(op).notify_bit | traits(op).deny_bit;

      HitSet expected;
      Rules expected_rules = 0;
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (!ref_match(entries[i].pattern, 0, components, 0)) continue;
        const std::uint32_t client = client_index(entries[i].client);
        if (!value_op) {
          if ((entries[i].key_rules & flag) == 0) continue;
          expected.insert({key_entry[i], client, entries[i].key_rules});
          expected_rules |= entries[i].key_rules;
          continue;
        }
        for (std::size_t v = 0; v < entries[i].values.size(); ++v) {
          const auto& [pattern, rules] = entries[i].values[v];
          if ((rules & flag) == 0 || !ref_value_match(pattern, value)) continue;
          expected.insert({first_value_entry[i] + static_cast<std::uint32_t>(v), client, rules});
          expected_rules |= rules;
        }
      }

      scratch->reset();
      const std::u16string_view value_view(value);
      const Rules got_rules =
          match_entries(view, *path, path->count, flag, value_op ? &value_view : nullptr, *scratch);
      ASSERT_FALSE(scratch->state_overflow);
      HitSet got;
      for (std::uint32_t h = 0; h < scratch->hit_count; ++h) {
        got.insert({scratch->hits[h].entry, scratch->hits[h].client, scratch->hits[h].rules});
      }
      ASSERT_EQ(got, expected) << "seed " << seed << " path " << utf16_to_utf8(written) << " op "
                               << traits(op).name;
      ASSERT_EQ(got_rules, expected_rules) << "seed " << seed;
      ++comparisons;
      non_empty += expected.empty() ? 0 : 1;
    }
  }
  // The generator must exercise real matches, not only misses.
  EXPECT_GT(non_empty, comparisons / 20) << non_empty << " of " << comparisons;
}

// Many globs at one key that share literal prefixes (the matcher searches them by prefix, policy
// format 6), against names that start with some of those prefixes, in any case and with a
// non-ASCII unit: the same hits as trying every glob.
TEST(MatcherReference, GlobsSearchedByPrefixGiveTheSameHitsAsTryingEveryGlob) {
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  const char16_t kUnits[] = {u'a', u'B', u'\u00E4', u'\u00C4', u'b'};
  std::uint64_t hits = 0;
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    auto word = [&](int max) {
      std::u16string w;
      for (int i = pick(max + 1); i > 0; --i) w += kUnits[pick(5)];
      return w;
    };
    std::set<std::u16string> globs;
    const int count = 1 + pick(300);
    while (static_cast<int>(globs.size()) < count) {
      static const char16_t* const kTails[] = {u"*", u"?", u"*b", u"?*", u"*?a", u"*a*"};
      globs.insert(word(4) + kTails[pick(6)] + word(2));
    }
    policy::PolicySource source;
    source.file = "generated";
    std::vector<std::u16string> folded;  // in entry order
    for (const std::u16string& g : globs) {
      policy::MonitoredEntry m;
      m.key = "HKLM\\K\\" + utf16_to_utf8(g);
      m.client = "c";
      m.rules = rule::kCreateKey;
      source.monitored.push_back(m);
      folded.push_back(fold(g));
    }
    auto compiled = test::compile_source(source);
    ASSERT_TRUE(compiled) << "seed " << seed;
    for (int p = 0; p < 60; ++p) {
      std::u16string name = word(7);
      if (name.empty()) name = u"a";
      ASSERT_EQ(canonicalize_key(u"HKLM\\K\\" + name, {1, {}}, *path), PathStatus::kOk);
      std::set<std::uint32_t> expected;
      for (std::uint32_t i = 0; i < folded.size(); ++i) {
        if (ref_glob(folded[i], fold(name))) expected.insert(i);
      }
      scratch->reset();
      match_entries(compiled->view, *path, path->count, rule::kCreateKey, nullptr, *scratch);
      ASSERT_FALSE(scratch->state_overflow);
      std::set<std::uint32_t> got;
      for (std::uint32_t h = 0; h < scratch->hit_count; ++h) got.insert(scratch->hits[h].entry);
      ASSERT_EQ(got, expected) << "seed " << seed << " name " << utf16_to_utf8(name);
      hits += expected.size();
    }
  }
  EXPECT_GT(hits, 1000u);  // the names must hit, not only miss
}

// 4096 entries HKLM\<12 of 'a' or '?'>*, every combination, each with `protection` (its YAML
// after the key): all of them match one long enough name.
std::string wide_wildcard_policy(const std::string& protection) {
  std::string yaml = "version: 1\nmonitored:\n";
  for (int bits = 0; bits < 4096; ++bits) {
    std::string glob;
    for (int i = 0; i < 12; ++i) glob += (bits >> i) & 1 ? '?' : 'a';
    yaml += "  - key: 'HKLM\\" + glob + "*'\n    " + protection + "\n";
  }
  return yaml;
}

TEST(MatcherReference, WideWildcardPolicyFailsClosedInsteadOfDroppingAlternatives) {
  // 4096 distinct globs that all match the same name keep 4096 alternatives alive at once: more
  // than the scratch holds. The matcher must say so (the engine then denies), never miss silently.
  auto compiled = test::compile_yaml(wide_wildcard_policy("rules: [delete-key]"));
  ASSERT_TRUE(compiled);
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  ASSERT_EQ(canonicalize_key(u"HKLM\\aaaaaaaaaaaaaaaa", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  match_entries(compiled->view, *path, path->count, rule::kDeleteKey, nullptr, *scratch);
  EXPECT_TRUE(scratch->state_overflow);
  // A name too short for any of them stays cheap and exact.
  ASSERT_EQ(canonicalize_key(u"HKLM\\aaaaaaaaaaa", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  EXPECT_EQ(match_entries(compiled->view, *path, path->count, rule::kDeleteKey, nullptr, *scratch),
            0u);
  EXPECT_FALSE(scratch->state_overflow);
}

TEST(MatcherReference, ValueEntriesOfAWideWildcardPolicyFailClosedToo) {
  // As above, with value entries only: what delete-key counts (SPEC 4.3) must not miss silently.
  auto compiled =
      test::compile_yaml(wide_wildcard_policy("values: [{name: V, rules: [set-value-deny]}]"));
  ASSERT_TRUE(compiled);
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  ASSERT_EQ(canonicalize_key(u"HKLM\\aaaaaaaaaaaaaaaa", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  value_entry_rules(compiled->view, *path, path->count, rule::kSetValueDeny, *scratch);
  EXPECT_TRUE(scratch->state_overflow);
  ASSERT_EQ(canonicalize_key(u"HKLM\\bbbbbbbbbbbb", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  EXPECT_EQ(value_entry_rules(compiled->view, *path, path->count, rule::kSetValueDeny, *scratch),
            rule::kSetValueDeny);
  EXPECT_FALSE(scratch->state_overflow);
  EXPECT_EQ(scratch->hit_count, 1u);  // only the all-`?` glob matches a name without `a`
}

TEST(MatcherReference, ValueEntryRulesCountOnlyFullMatchesAndTheFlag) {
  auto compiled = test::compile_yaml(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\K'
    client: a
    rules: [delete-key, delete-deny]
    values:
      - {name: One, rules: [set-value, set-value-deny]}
      - {name: 'T*', rules: [set-value, tamper-protection]}
      - {name: Note, rules: [set-value]}
  - key: 'HKLM\SOFTWARE\K\*'
    client: b
    values: [{name: X, rules: [delete-value, delete-deny]}]
  - key: 'HKLM\SOFTWARE\K\**'
    client: c
    values: [{name: Y, rules: [delete-value, delete-deny]}]
)");
  ASSERT_TRUE(compiled);
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  const Rules guard = rule::kDeleteDeny | rule::kSetValueDeny | rule::kTamperProtection;
  ASSERT_EQ(canonicalize_key(u"HKLM\\SOFTWARE\\K", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  // Key rules do not count (match_entries has them); the notify-only value brings nothing.
  EXPECT_EQ(
      value_entry_rules(compiled->view, *path, path->count, guard, *scratch) & guard,
      rule::kSetValueDeny | rule::kTamperProtection | rule::kDeleteDeny);  // c's `**` matches K too
  EXPECT_EQ(scratch->hit_count, 3u);
  ASSERT_EQ(canonicalize_key(u"HKLM\\SOFTWARE\\K\\Sub", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  EXPECT_EQ(value_entry_rules(compiled->view, *path, path->count, guard, *scratch) & guard,
            rule::kDeleteDeny);
  EXPECT_EQ(scratch->hit_count, 2u);  // b and c
  ASSERT_EQ(canonicalize_key(u"HKLM\\SOFTWARE", {1, {}}, *path), PathStatus::kOk);
  scratch->reset();
  EXPECT_EQ(value_entry_rules(compiled->view, *path, path->count, guard, *scratch), 0u);
}

}  // namespace
}  // namespace hivewarden
