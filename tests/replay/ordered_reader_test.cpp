// read_logs_in_order on several threads hands on exactly what reading the logs in turn does: the
// same events in the same order, the same errors at the same places, the same counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "../support/sysmon_logs.hpp"
#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {
namespace {

namespace fs = std::filesystem;

std::string describe(std::uint32_t log, const RegistryEvent& e) {
  return std::to_string(log) + "|" + e.source + "|" + std::to_string(e.index) + "|" +
         std::to_string(e.event_id) + "|" + e.event_type + "|" + e.target_object + "|" + e.details +
         "|" + e.new_name_path + "|" + e.image + "|" + e.process_guid + "|" + e.computer + "|" +
         e.utc_time + "|" + std::to_string(e.pid) + "|" + std::to_string(e.thread) + "|" +
         std::to_string(e.time_key) + "|" + e.unreadable;
}

// Everything a reading hands on, in order: events, errors, then the counts and failures.
std::vector<std::string> trace(const std::vector<std::string>& logs, unsigned jobs) {
  std::vector<std::string> seen;
  ReadStats stats;
  const int failures = read_logs_in_order(
      logs, jobs, [&](std::uint32_t log, RegistryEvent&& e) { seen.push_back(describe(log, e)); },
      stats, [&](const std::string& error) { seen.push_back("error: " + error); });
  seen.push_back("records " + std::to_string(stats.records) + " registry " +
                 std::to_string(stats.registry) + " failures " + std::to_string(failures));
  for (const auto& [name, n] : stats.skipped) seen.push_back(name + " " + std::to_string(n));
  return seen;
}

// The reference: read_events on each log in turn, as `replay` read them before --jobs.
std::vector<std::string> in_turn(const std::vector<std::string>& logs) {
  std::vector<std::string> seen;
  ReadStats stats;
  int failures = 0;
  for (std::uint32_t log = 0; log < logs.size(); ++log) {
    std::string error;
    if (!read_events(
            logs[log], [&](RegistryEvent&& e) { seen.push_back(describe(log, e)); }, stats,
            error)) {
      seen.push_back("error: " + error);
      ++failures;
    }
  }
  seen.push_back("records " + std::to_string(stats.records) + " registry " +
                 std::to_string(stats.registry) + " failures " + std::to_string(failures));
  for (const auto& [name, n] : stats.skipped) seen.push_back(name + " " + std::to_string(n));
  return seen;
}

void expect_same(const std::vector<std::string>& want, const std::vector<std::string>& got,
                 unsigned jobs) {
  ASSERT_EQ(want.size(), got.size()) << "jobs " << jobs;
  for (std::size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(want[i], got[i]) << "jobs " << jobs << ", item " << i;
}

TEST(ReadLogsInOrder, ManyThreadsHandOnWhatReadingInTurnDoes) {
  const hivewarden::test::TempDir dir("ordered-reader");
  std::vector<std::string> logs = hivewarden::test::jobs_test_logs(dir);
  const fs::path evtx = fs::path(HIVEWARDEN_SOURCE_DIR) / "tests/replay/regressions";
  logs.push_back((evtx / "B9_truncated.evtx").string());
  logs.push_back((evtx / "two_events.jsonl").string());
  const std::vector<std::string> want = in_turn(logs);
  // The inputs are what the test says: errors in the middle and events on both sides of them.
  std::size_t errors = 0;
  for (const std::string& s : want) errors += s.rfind("error: ", 0) == 0 ? 1 : 0;
  ASSERT_EQ(errors, 7u) << want.back();
  ASSERT_GT(want.size(), 15000u);
  for (unsigned jobs : {1u, 2u, 3u, 4u, 8u}) expect_same(want, trace(logs, jobs), jobs);
}

TEST(ReadLogsInOrder, OneLargeLogInManyBatches) {
  const hivewarden::test::TempDir dir("ordered-reader-large");
  const std::string text = hivewarden::test::sysmon_json_lines(7, 20000);
  const std::vector<std::string> logs = {
      dir.write("a.jsonl", text).string(),
      dir.write("a.jsonl.gz", hivewarden::test::gzip(text)).string()};
  const std::vector<std::string> want = in_turn(logs);
  for (unsigned jobs : {2u, 5u}) expect_same(want, trace(logs, jobs), jobs);
}

TEST(ReadLogsInOrder, DamageInTheLastRecordOfABatchStopsThatLogOnly) {
  // The damage falls on a batch's edge: the records before it are one whole batch.
  const hivewarden::test::TempDir dir("ordered-reader-edge");
  for (std::size_t before : {kBatchRecords - 1, kBatchRecords, kBatchRecords + 1}) {
    const std::string text = hivewarden::test::sysmon_json_lines(8, static_cast<int>(before)) +
                             "{\"EventID\": x}\n" + hivewarden::test::sysmon_json_lines(9, 3000);
    const std::vector<std::string> logs = {
        dir.write("edge.jsonl", text).string(),
        dir.write("next.jsonl", hivewarden::test::sysmon_json_lines(10, 5)).string()};
    const std::vector<std::string> want = in_turn(logs);
    for (unsigned jobs : {2u, 3u}) expect_same(want, trace(logs, jobs), jobs);
  }
}

TEST(ReadLogsInOrder, NoLogsAndOnlyFailures) {
  EXPECT_EQ(trace({}, 4), in_turn({}));
  const std::vector<std::string> missing = {"/nonexistent/a.jsonl", "/nonexistent/b.evtx"};
  EXPECT_EQ(trace(missing, 4), in_turn(missing));
}

// The parts (k of K) of whole logs: each part's events come in reading order and are the same at
// any number of threads; together the parts hold every event of the logs once, and their counts
// add up to the logs' counts.
TEST(ReadLogsInOrder, PartsOfWholeLogsAddUpToTheWholeLogs) {
  const hivewarden::test::TempDir dir("ordered-reader-parts");
  const std::string text = hivewarden::test::sysmon_json_lines(11, 3000);
  const std::vector<std::string> logs = {
      dir.write("a.jsonl", text).string(),
      dir.write("b.jsonl.gz", hivewarden::test::gzip(text)).string(),
      dir.write("c.xml", hivewarden::test::sysmon_xml_events(12, 1200)).string(),
      (fs::path(HIVEWARDEN_SOURCE_DIR) / "tests/replay/regressions/two_events.jsonl").string()};
  const auto read_part = [&](ReadPart part, unsigned jobs, ReadStats& stats) {
    std::vector<std::pair<std::pair<std::uint32_t, std::uint64_t>, std::string>> events;
    EXPECT_EQ(read_logs_in_order(
                  logs, jobs,
                  [&](std::uint32_t log, RegistryEvent&& e) {
                    events.push_back({{log, e.index}, describe(log, e)});
                  },
                  stats, [](const std::string& error) { ADD_FAILURE() << error; }, part),
              0);
    return events;
  };
  ReadStats whole_stats;
  const auto whole = read_part({}, 1, whole_stats);
  ASSERT_GT(whole.size(), 6000u);
  for (std::uint32_t parts : {2u, 3u}) {
    std::vector<std::pair<std::pair<std::uint32_t, std::uint64_t>, std::string>> all;
    ReadStats sum;
    for (std::uint32_t k = 0; k < parts; ++k) {
      ReadStats stats, threaded_stats;
      const auto part = read_part({k, parts}, 1, stats);
      EXPECT_EQ(part, read_part({k, parts}, 3, threaded_stats)) << k << " of " << parts;
      EXPECT_EQ(stats.records, threaded_stats.records);
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end())) << k << " of " << parts;
      EXPECT_LT(part.size(), whole.size());
      all.insert(all.end(), part.begin(), part.end());
      sum.records += stats.records;
      sum.registry += stats.registry;
      for (const auto& [name, n] : stats.skipped) sum.skipped[name] += n;
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, whole) << parts << " parts";
    EXPECT_EQ(sum.records, whole_stats.records);
    EXPECT_EQ(sum.registry, whole_stats.registry);
    EXPECT_EQ(sum.skipped, whole_stats.skipped);
  }
}

}  // namespace
}  // namespace hivewarden::replay
