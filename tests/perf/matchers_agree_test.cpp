// The baselines are only a fair anchor if they answer what the engine answers: on generated
// policies and paths, every matcher must give the same rules.
#include <gtest/gtest.h>

#include "hivewarden/perf/matchers.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::perf {
namespace {

TEST(PerfMatchers, AllBaselinesAgreeWithTheEngine) {
  const NamePool names = load_name_pool(std::string(HIVEWARDEN_SHARED_DATA) +
                                        "/hives/exports/SYSTEM_WIN_10_1709.full.reg.gz");
  ASSERT_GT(names.paths.size(), 1000u);
  const GeneratedPolicy policy = generate_policy(2000, names, 7);
  ASSERT_EQ(policy.patterns.size(), 2000u);
  std::string error;
  auto engine = make_hivewarden(policy, error);
  ASSERT_TRUE(engine) << error;
  std::vector<std::unique_ptr<KeyMatcher>> others;
  others.push_back(make_naive(policy));
  others.push_back(make_writeup_tree(policy));
  auto re2 = make_re2_set(policy, error);
  ASSERT_TRUE(re2) << error;
  others.push_back(std::move(re2));
  auto hs = make_hyperscan(policy, error);
  ASSERT_TRUE(hs) << error;
  others.push_back(std::move(hs));

  const auto paths = generate_paths(policy, names, 3000, 0.3, 11);
  int matched = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const bool value_op = i % 2 == 1;
    // Value operations name a value of a random entry, so some of them hit.
    const std::u16string value = *utf8_to_utf16(policy.patterns[i % policy.patterns.size()].value);
    const std::uint32_t expected = engine->match(paths[i], value, value_op);
    matched += expected != 0 ? 1 : 0;
    for (auto& m : others) {
      ASSERT_EQ(m->match(paths[i], value, value_op), expected)
          << m->name() << " on " << utf16_to_utf8(paths[i])
          << (value_op ? " value " + utf16_to_utf8(value) : "");
    }
  }
  EXPECT_GT(matched, 100);  // the workload really exercises matches
}

// The bench's conditioned rows (SPEC §10) measure conditions only if the engine really evaluates
// them: entries elsewhere never change a decision on the generated paths, and conditions on
// every entry keep its rules exactly when they hold.
TEST(PerfConditions, ConditionedWorkloadsDecideAsThePlainPolicyWhenTheConditionsHold) {
  const NamePool names = load_name_pool(std::string(HIVEWARDEN_SHARED_DATA) +
                                        "/hives/exports/SYSTEM_WIN_10_1709.full.reg.gz");
  const GeneratedPolicy policy = generate_policy(2000, names, 7);
  GeneratedPolicy elsewhere = policy;
  add_conditions_elsewhere(elsewhere, 200);
  ASSERT_EQ(elsewhere.source.monitored.size(), 2200u);
  GeneratedPolicy every = policy;
  condition_every_entry(every);
  for (const policy::MonitoredEntry& entry : every.source.monitored) {
    ASSERT_EQ(entry.rules != 0, !entry.conditions.empty()) << entry.key;
    for (const policy::ValueRule& value : entry.values)
      ASSERT_FALSE(value.conditions.empty()) << entry.key;
  }

  std::string error;
  auto plain = make_hivewarden(policy, error);
  ASSERT_TRUE(plain) << error;
  auto with_elsewhere = make_hivewarden(elsewhere, error);
  ASSERT_TRUE(with_elsewhere) << error;
  auto conditioned = make_hivewarden(every, error);  // kBenchImage: the conditions hold
  ASSERT_TRUE(conditioned) << error;
  // `unless: image|endswith '\MsMpEng.exe'` holds, then `when: image|startswith 'C:\'` fails.
  auto from_defender =
      make_hivewarden(every, error, u"C:\\ProgramData\\Microsoft\\Windows Defender\\MsMpEng.exe");
  ASSERT_TRUE(from_defender) << error;
  auto from_other_drive = make_hivewarden(every, error, u"D:\\tools\\reg.exe");
  ASSERT_TRUE(from_other_drive) << error;

  const auto paths = generate_paths(policy, names, 3000, 0.3, 11);
  int matched = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    ASSERT_NE(
        utf16_to_utf8(paths[i]).rfind("\\REGISTRY\\MACHINE\\SOFTWARE\\ConditionedElsewhere", 0),
        0u);
    const bool value_op = i % 2 == 1;
    const std::u16string value = *utf8_to_utf16(policy.patterns[i % policy.patterns.size()].value);
    const std::uint32_t expected = plain->match(paths[i], value, value_op);
    matched += expected != 0 ? 1 : 0;
    const std::string where =
        utf16_to_utf8(paths[i]) + (value_op ? " value " + utf16_to_utf8(value) : "");
    ASSERT_EQ(with_elsewhere->match(paths[i], value, value_op), expected) << where;
    ASSERT_EQ(conditioned->match(paths[i], value, value_op), expected) << where;
    ASSERT_EQ(from_defender->match(paths[i], value, value_op), 0u) << where;
    ASSERT_EQ(from_other_drive->match(paths[i], value, value_op), 0u) << where;
  }
  EXPECT_GT(matched, 100);  // the conditions were evaluated on real matches
}

// The entries added elsewhere carry their conditions: a key entry applies to the bench's process
// only, a value entry (`when: data|dword: 1`) not to an operation without data.
TEST(PerfConditions, EntriesElsewhereCarryTheirConditions) {
  GeneratedPolicy policy = generate_policy(100, load_name_pool("/nonexistent.reg"), 3);
  add_conditions_elsewhere(policy, 10);
  std::string error;
  auto bench_process = make_hivewarden(policy, error);
  ASSERT_TRUE(bench_process) << error;
  auto other_drive = make_hivewarden(policy, error, u"D:\\tools\\reg.exe");
  ASSERT_TRUE(other_drive) << error;
  int key_entries = 0;
  for (std::size_t i = 100; i < policy.source.monitored.size(); ++i) {
    const policy::MonitoredEntry& entry = policy.source.monitored[i];
    ASSERT_EQ(entry.key.rfind("HKLM\\SOFTWARE\\ConditionedElsewhere\\", 0), 0u);
    const std::u16string path = *utf8_to_utf16("\\REGISTRY\\MACHINE" + entry.key.substr(4));
    if (entry.values.empty()) {
      ++key_entries;
      EXPECT_EQ(bench_process->match(path, u"", false), entry.rules) << entry.key;
      EXPECT_EQ(other_drive->match(path, u"", false), 0u) << entry.key;
    } else {
      const std::u16string value = *utf8_to_utf16(entry.values[0].name);
      EXPECT_EQ(bench_process->match(path, value, true), 0u) << entry.key;
    }
  }
  EXPECT_EQ(key_entries, 5);
}

TEST(PerfMatchers, RegexOfEachShape) {
  EXPECT_EQ(pattern_regex({{"HKLM", "SOFTWARE", "A.b"}, "", 1}),
            "^\\\\REGISTRY\\\\MACHINE\\\\SOFTWARE\\\\A\\.b$");
  EXPECT_EQ(pattern_regex({{"HKU", "*", "Run*"}, "", 1}),
            "^\\\\REGISTRY\\\\USER\\\\[^\\\\]+\\\\Run[^\\\\]*$");
  EXPECT_EQ(pattern_regex({{"HKLM", "X", "**"}, "V", 1}),
            "^\\\\REGISTRY\\\\MACHINE\\\\X(?:\\\\[^\\\\]+)*\\x1fV$");
}

}  // namespace
}  // namespace hivewarden::perf
