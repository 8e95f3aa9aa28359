// compile_policy on several threads (issue 14: a million entries in under 3 s): the entries are
// parsed on every thread and go into the tree in policy order on one, so the blob, and every
// problem with its line and field, must be the same whatever the number of threads. The policies
// here have several batches of entries (a batch is 2,048), spread over every root or all under
// one, with duplicates and case variants far apart and problems in the second half.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/core/rules.hpp"
#include "hivewarden/policy/compile.hpp"

namespace hivewarden {
namespace {

policy::MonitoredEntry entry(std::string key, std::uint32_t line, std::size_t client) {
  policy::MonitoredEntry e;
  e.key = std::move(key);
  e.client = "client" + std::to_string(client);
  e.rules = rule::kCreateKey | rule::kDeleteKey;
  e.where = {line, 5};
  return e;
}

// Entries under every root: literal keys, HKCU (every user), HKCR (three places), `**`, `*{N}`,
// globs, values and value globs; every seventh entry repeats an earlier one in other case, and
// the second half repeats the first (so a name's first spelling is in another batch).
policy::PolicySource spread_policy(std::size_t n) {
  policy::PolicySource s;
  s.file = "spread.yaml";
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = i % (n / 2);
    const std::string k = std::to_string(j);
    std::string key;
    switch (j % 7) {
      case 0:
        key = "HKLM\\SOFTWARE\\Vendor" + std::to_string(j % 50) + "\\App" + k;
        break;
      case 1:
        key = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Svc" + std::to_string(j % 300) +
              "\\Parameters";
        break;
      case 2:
        key = "HKCU\\Software\\Run" + std::to_string(j % 40) + "\\*";
        break;
      case 3:
        key = "HKCR\\CLSID\\{" + k + "}\\InprocServer32";
        break;
      case 4:
        key = "HKU\\**\\Policies" + std::to_string(j % 9);
        break;
      case 5:
        key = "HKLM\\SOFTWARE\\Glob*" + std::to_string(j % 13) + "\\*{2}\\Leaf";
        break;
      default:
        key = "\\REGISTRY\\MACHINE\\software\\VENDOR" + std::to_string((j - 6) % 50) + "\\app" +
              std::to_string(j - 6);
        break;
    }
    policy::MonitoredEntry e = entry(key, static_cast<std::uint32_t>(10 + 4 * i), i % 3);
    if (i % 5 == 0)
      e.values.push_back({"Name" + std::to_string(i % 11),
                          rule::kSetValue,
                          {11 + 4 * static_cast<std::uint32_t>(i), 9},
                          {}});
    if (i % 13 == 0)
      e.values.push_back(
          {"Val*", rule::kDeleteValue, {12 + 4 * static_cast<std::uint32_t>(i), 9}, {}});
    s.monitored.push_back(std::move(e));
  }
  s.hardened_keys.push_back({"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender", {3, 3}});
  return s;
}

struct Result {
  bool ok = false;
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  policy::CompilePhases phases;
};

Result compile_with(const policy::PolicySource& source, unsigned threads) {
  Result r;
  policy::CompileOptions options;
  options.threads = threads;
  options.phases = &r.phases;
  r.ok = policy::compile_policy(source, r.blob, r.problems, options);
  return r;
}

bool valid(const policy::Blob& blob) {
  std::vector<std::uint64_t> storage((blob.size() + 7) / 8);
  std::memcpy(storage.data(), blob.data(), blob.size());
  PolicyView view;
  PolicyError error;
  return validate_policy(storage.data(), blob.size(), view, error);
}

void expect_same_blob_with_any_threads(const policy::PolicySource& source) {
  const Result one = compile_with(source, 1);
  ASSERT_TRUE(one.ok);
  EXPECT_EQ(one.phases.threads, 1u);
  EXPECT_TRUE(valid(one.blob));
  for (const unsigned threads : {2u, 3u, 8u}) {
    const Result many = compile_with(source, threads);
    ASSERT_TRUE(many.ok) << threads;
    EXPECT_EQ(many.phases.threads, threads);
    ASSERT_EQ(many.blob.size(), one.blob.size()) << threads << " threads";
    EXPECT_TRUE(many.blob == one.blob) << threads << " threads gave other bytes";
  }
  policy::Blob by_default;
  std::vector<policy::PolicyProblem> problems;
  ASSERT_TRUE(policy::compile_policy(source, by_default, problems));
  EXPECT_TRUE(by_default == one.blob);
}

TEST(PolicyCompileThreads, EntriesSpreadOverEveryRootGiveTheSameBytes) {
  expect_same_blob_with_any_threads(spread_policy(14000));
}

TEST(PolicyCompileThreads, EntriesAllUnderOneRootGiveTheSameBytes) {
  policy::PolicySource s;
  s.file = "one.yaml";
  for (std::size_t i = 0; i < 9000; ++i) {
    s.monitored.push_back(entry("HKLM\\SOFTWARE\\One\\K" + std::to_string(i % 4000) + "\\Sub",
                                static_cast<std::uint32_t>(i + 1), i % 2));
  }
  expect_same_blob_with_any_threads(s);
}

TEST(PolicyCompileThreads, FewerEntriesThanABatchGiveTheSameBytes) {
  expect_same_blob_with_any_threads(spread_policy(30));
}

// Problems found while entries are parsed on other threads keep the policy's order, their line
// and field, and the text they have when the entry is compiled alone.
TEST(PolicyCompileThreads, ProblemsInTheSecondHalfKeepTheirOrderLineAndField) {
  policy::PolicySource s = spread_policy(9000);
  s.monitored[5000].key = "HKXX\\A";
  s.monitored[7001].key = "HKLM\\SYSTEM\\*\\CurrentControlSet\\X";
  s.monitored[8999].values.push_back({std::string("bad\xff"), rule::kSetValue, {77777, 11}, {}});
  s.monitored[2049].key = "HKLM\\A\\\\B";  // the first entry of the second batch
  policy::PolicySource alone;
  alone.file = s.file;
  for (const std::size_t i : {2049u, 5000u, 7001u}) alone.monitored.push_back(s.monitored[i]);
  const Result reference = compile_with(alone, 1);
  ASSERT_EQ(reference.problems.size(), 3u);

  std::vector<std::string> first;
  for (const unsigned threads : {1u, 2u, 4u}) {
    const Result r = compile_with(s, threads);
    EXPECT_FALSE(r.ok);
    ASSERT_EQ(r.problems.size(), 4u) << threads;
    EXPECT_EQ(r.problems[0].field, "monitored[2049].key");
    EXPECT_EQ(r.problems[1].field, "monitored[5000].key");
    EXPECT_EQ(r.problems[2].field, "monitored[7001].key");
    EXPECT_EQ(r.problems[3].field, "monitored[8999].values");
    EXPECT_EQ(r.problems[0].where.line, 10u + 4 * 2049);
    EXPECT_EQ(r.problems[3].where.line, 77777u);
    EXPECT_EQ(r.problems[3].message, "value name is not valid UTF-8");
    for (std::size_t p = 0; p < 3; ++p)
      EXPECT_EQ(r.problems[p].message, reference.problems[p].message);
    std::vector<std::string> texts;
    for (const auto& p : r.problems) texts.push_back(p.to_string());
    if (first.empty()) first = texts;
    EXPECT_EQ(texts, first) << threads << " threads";
  }
}

}  // namespace
}  // namespace hivewarden
