// `hivewarden replay --jobs N` prints byte for byte what --jobs 1 prints: the event lines, the
// error lines, the totals, the summary file and the exit code; and refuses a number of jobs it
// cannot use, clearly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/sysmon_logs.hpp"

namespace {

namespace fs = std::filesystem;
namespace test = hivewarden::test;

struct Printed {
  int exit_code = -1;
  std::string out, err, summary;
};

Printed replay(const test::TempDir& dir, std::vector<std::string> args, unsigned jobs) {
  const std::string tag = std::to_string(jobs);
  const fs::path summary = dir / ("summary" + tag + ".json");
  args.insert(args.begin(),
              {"replay", "--no-progress", "--jobs", tag, "--summary", summary.string()});
  const test::ChildRun run =
      test::run_hivewarden(args, {.stdout_path = (dir / ("out" + tag)).string(),
                                  .stderr_path = (dir / ("err" + tag)).string()});
  return {run.exit_code, run.out, run.err, test::read_text(summary)};
}

void expect_same_at_any_jobs(const test::TempDir& dir, const std::vector<std::string>& args) {
  const Printed one = replay(dir, args, 1);
  ASSERT_FALSE(one.summary.empty()) << one.err;
  for (unsigned jobs : {2u, 3u}) {
    const Printed many = replay(dir, args, jobs);
    EXPECT_EQ(many.exit_code, one.exit_code) << "jobs " << jobs;
    EXPECT_TRUE(many.out == one.out) << "jobs " << jobs << ": stdout differs";
    EXPECT_EQ(many.err, one.err) << "jobs " << jobs;
    EXPECT_EQ(many.summary, one.summary) << "jobs " << jobs;
  }
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(ReplayJobs, EveryKindOfLogPrintsTheSameAtAnyJobs) {
  const test::TempDir dir("replay-jobs");
  // Smaller under a sanitizer (still several batches and runs), whose threads run 10x slower.
  std::vector<std::string> args = test::jobs_test_logs(dir, test::kSanitizedBuild ? 2500 : 6000);
  args.push_back(fs::path(HIVEWARDEN_SOURCE_DIR) / "tests/replay/regressions/B9_truncated.evtx");
  // The inputs say what the test claims: several runs of decisions, errors in the middle.
  const Printed one = replay(dir, args, 1);
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_EQ(lines(one.err), 8u) << one.err;  // seven damaged logs and the totals
  expect_same_at_any_jobs(dir, args);
  args.insert(args.begin(), "--all");
  const Printed all = replay(dir, args, 1);
  EXPECT_GT(lines(all.out), 4u * 1024) << "several runs of decisions";
  expect_same_at_any_jobs(dir, args);
}

TEST(ReplayJobs, WhatIfPrintsTheSameAtAnyJobs) {
  const test::TempDir dir("replay-jobs-what-if");
  const fs::path other = dir.write("other.yaml",
                                   "version: 1\n"
                                   "monitored:\n"
                                   "  - key: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion"
                                   "\\Run'\n"
                                   "    client: run-keys\n"
                                   "    values:\n"
                                   "      - name: '*'\n"
                                   "        rules: [set-value, delete-value]\n");
  std::vector<std::string> args = {"--what-if", other.string(),
                                   dir.write("a.jsonl", test::sysmon_json_lines(3, 5000)).string()};
  const Printed one = replay(dir, args, 1);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_GT(lines(one.out), 100u);
  expect_same_at_any_jobs(dir, args);
}

TEST(ReplayJobs, AFailedWriteStopsAndCountsAsAtOneJob) {
  // On a full disk deciding in turn stops at the line whose write failed: so must every job count,
  // however far the other threads had decided.
  const test::TempDir dir("replay-jobs-full");
  const std::string log = dir.write("a.jsonl", test::sysmon_json_lines(4, 6000)).string();
  std::vector<std::string> seen;
  for (unsigned jobs : {1u, 2u, 3u}) {
    const fs::path summary = dir / ("summary" + std::to_string(jobs));
    const test::ChildRun run =
        test::run_hivewarden({"replay", "--no-progress", "--all", "--jobs", std::to_string(jobs),
                              "--summary", summary.string(), log},
                             {.stdout_path = "/dev/full", .stderr_path = (dir / "err").string()});
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("writing the output failed"), std::string::npos) << run.err;
    seen.push_back(run.err + test::read_text(summary));
  }
  EXPECT_EQ(seen[1], seen[0]);
  EXPECT_EQ(seen[2], seen[0]);
}

TEST(ReplayJobs, ALargeLogIsNotHeldBetweenTheThreads) {
  // 96 MB of records replay does not keep (another provider's), slow to parse (numbers) and quick
  // to scan: the scanning thread outruns the parsing ones, and only the bound on batches in flight
  // keeps it from holding the whole text (without it: 111 MB).
  if (test::kSanitizedBuild) GTEST_SKIP() << "the sanitizers' memory is not the program's";
  const test::TempDir dir("replay-jobs-memory");
  const fs::path log = dir / "security.jsonl";
  {
    std::string line = "{\"EventID\":4656,\"SourceName\":\"Security\",\"pad\":[0";
    for (int i = 0; i < 40; ++i) line += ",1234.5678e-3";
    line += "]}\n";
    std::ofstream out(log, std::ios::binary);
    for (std::size_t written = 0; written < (std::size_t{96} << 20); written += line.size())
      out << line;
  }
  const test::ChildRun run =
      test::run_hivewarden({"replay", "--no-progress", "--jobs", "2", log.string()},
                           {.stderr_path = (dir / "err").string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_LT(run.max_rss_kb, 64 * 1024) << "at most 8 batches of about 1 MiB in flight";
}

TEST(ReplayJobs, TheSharedDataPrintsTheSameAtTwoJobs) {
  const fs::path data = HIVEWARDEN_SHARED_DATA;
  const fs::path otrf = data / "otrf" / "registry_events.jsonl.gz";
  const fs::path samples = data / "evtx" / "EVTX-ATTACK-SAMPLES";
  if (!fs::exists(otrf) || !fs::exists(samples)) GTEST_SKIP() << "no " << data;
  if (test::kSanitizedBuild) GTEST_SKIP() << "186,797 events take too long under a sanitizer";
  std::vector<std::string> args;
  for (const auto& entry : fs::recursive_directory_iterator(samples))
    if (entry.path().extension() == ".evtx") args.push_back(entry.path().string());
  std::sort(args.begin(), args.end());
  args.push_back(otrf.string());
  const test::TempDir dir("replay-jobs-data");
  const Printed one = replay(dir, args, 1);
  const Printed two = replay(dir, args, 2);
  EXPECT_EQ(two.exit_code, one.exit_code);
  EXPECT_TRUE(two.out == one.out) << "stdout differs";
  EXPECT_EQ(two.err, one.err);
  EXPECT_EQ(two.summary, one.summary);
}

TEST(ReplayJobs, ANumberOfJobsItCannotUseIsAClearError) {
  const test::TempDir dir("replay-jobs-bad");
  const std::string log = dir.write("a.jsonl", test::sysmon_json_lines(1, 3)).string();
  for (const char* jobs :
       {"0", "-1", "65", "4294967297", "99999999999999999999", "two", "1.5", ""}) {
    const test::ChildRun run = test::run_hivewarden({"replay", "--jobs", jobs, log},
                                                    {.stderr_path = (dir / "err").string()});
    EXPECT_EQ(run.exit_code, 2) << jobs;
    EXPECT_NE(run.err.find("--jobs: must be a whole number of threads from 1 to 64, not '" +
                           std::string(jobs) + "'"),
              std::string::npos)
        << jobs << ": " << run.err;
  }
  const test::ChildRun ok = test::run_hivewarden({"replay", "--jobs", "64", log});
  EXPECT_EQ(ok.exit_code, 0);
}

}  // namespace
