// The baselines are only a fair anchor if they answer what the engine answers: on generated
// policies and paths, every matcher must give the same rules.
#include <gtest/gtest.h>

#include "hivewarden/perf/matchers.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::perf {
namespace {

TEST(PerfMatchers, AllBaselinesAgreeWithTheEngine) {
  const NamePool names = load_name_pool(std::string(HIVEWARDEN_SHARED_DATA) + "/hives/exports/SYSTEM_WIN_10_1709.full.reg.gz");
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
          << m->name() << " on " << utf16_to_utf8(paths[i]) << (value_op ? " value " + utf16_to_utf8(value) : "");
    }
  }
  EXPECT_GT(matched, 100);  // the workload really exercises matches
}

TEST(PerfMatchers, RegexOfEachShape) {
  EXPECT_EQ(pattern_regex({{"HKLM", "SOFTWARE", "A.b"}, "", 1}), "^\\\\REGISTRY\\\\MACHINE\\\\SOFTWARE\\\\A\\.b$");
  EXPECT_EQ(pattern_regex({{"HKU", "*", "Run*"}, "", 1}), "^\\\\REGISTRY\\\\USER\\\\[^\\\\]+\\\\Run[^\\\\]*$");
  EXPECT_EQ(pattern_regex({{"HKLM", "X", "**"}, "V", 1}), "^\\\\REGISTRY\\\\MACHINE\\\\X(?:\\\\[^\\\\]+)*\\x1fV$");
}

}  // namespace
}  // namespace hivewarden::perf
