// No input of at most 1 MB makes `hivewarden replay` use more than 256 MB or run longer than 10 s:
// the CLI is run on each worst case, its peak memory (ru_maxrss) and wall time measured.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/gzip.hpp"

namespace {

namespace fs = std::filesystem;
namespace test = hivewarden::test;
const fs::path kRegressions = fs::path(HIVEWARDEN_SOURCE_DIR) / "tests" / "replay" / "regressions";
constexpr std::size_t kInputBytes = 1000000;
constexpr long kMaxRssKb = 256 * 1024;
constexpr double kMaxSeconds = 10.0;

using test::kSanitizedBuild;
using test::TempDir;
using test::write_text;

void expect_bounded(const fs::path& log, const fs::path& dir, int exit_code,
                    const std::vector<std::string>& messages) {
  ASSERT_LE(fs::file_size(log), kInputBytes) << log;
  // Outside the sanitizers, a 4 GB address space: a regression must not take the machine with it.
  const test::ChildRun m =
      test::run_hivewarden({"replay", "--no-progress", log.string()},
                           {.stderr_path = (dir / "stderr.txt").string(),
                            .address_space_limit = kSanitizedBuild ? 0 : std::uint64_t{4} << 30});
  std::printf("[ bounds ] %-28s rc=%d maxrss=%ld kB %.2f s\n", log.filename().c_str(), m.exit_code,
              m.max_rss_kb, m.seconds);
  EXPECT_EQ(m.exit_code, exit_code) << m.err;
  for (const std::string& message : messages)
    EXPECT_NE(m.err.find(message), std::string::npos) << m.err;
  if (kSanitizedBuild) return;  // the sanitizers' own memory and time are not the program's
  EXPECT_LT(m.max_rss_kb, kMaxRssKb) << log;
  EXPECT_LT(m.seconds, kMaxSeconds) << log;
}

using test::gzip;

const std::string kTinyEvent =
    "{\"EventID\":12,\"EventType\":\"CreateKey\",\"TargetObject\":\"HKLM\\\\S\\\\K\"}\n";

using test::repeat_to;

TEST(ReplayBounds, GzipBombOfOneHugeLine) {
  const TempDir dir("bounds");
  expect_bounded(kRegressions / "B8_gzip_bomb_256m.json.gz", dir.path(), 2,
                 {"longer than the limit of 1048576 bytes"});
}

TEST(ReplayBounds, GzipBombOfTinyEvents) {
  // As many tiny events as the 64:1 bound lets a 1 MB file hold: a highly compressed first member,
  // then incompressible padding that brings the file to 1 MB (and so the bound to 64 MB).
  const TempDir dir("bounds");
  const std::string unit = repeat_to(kTinyEvent, 1u << 16);
  std::string bytes = gzip(unit, (80u << 20) / unit.size());
  std::mt19937 random(1);
  std::string noise(kInputBytes - bytes.size() - 64, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  bytes += gzip(noise);
  bytes.resize(std::min(bytes.size(), kInputBytes));
  expect_bounded(write_text(dir.path() / "tiny.json.gz", bytes), dir.path(), 2,
                 {"expands past the limit of 64 times its size", "decided (no-match"});
}

TEST(ReplayBounds, DeepJsonNesting) {
  const TempDir dir("bounds");
  expect_bounded(write_text(dir.path() / "deep.json", std::string(kInputBytes, '[')), dir.path(), 2,
                 {"nested deeper than the limit of 64"});
}

TEST(ReplayBounds, OneMegabyteLine) {
  const TempDir dir("bounds");
  const std::string line =
      "{\"EventID\":1,\"pad\":\"" + std::string(kInputBytes - 40, 'a') + "\"}\n";
  expect_bounded(write_text(dir.path() / "line.json", line), dir.path(), 0,
                 {"replay: 0 registry events of 1 records"});
}

TEST(ReplayBounds, DeepXml) {
  const TempDir dir("bounds");
  const std::string xml = "<Event xmlns=\"x\">" + repeat_to("<a>", kInputBytes / 2) +
                          repeat_to("</a>", kInputBytes / 2 - 100) + "</Event>\n";
  expect_bounded(write_text(dir.path() / "deep.xml", xml), dir.path(), 2,
                 {"elements nested deeper than the limit of 64"});
}

TEST(ReplayBounds, ManyTinyJsonEvents) {
  const TempDir dir("bounds");
  expect_bounded(write_text(dir.path() / "tiny.json", repeat_to(kTinyEvent, kInputBytes)),
                 dir.path(), 0, {"decided (no-match"});
}

TEST(ReplayBounds, ManyTinyXmlEvents) {
  const TempDir dir("bounds");
  const std::string event =
      "<Event><System><Provider Name=\"Sysmon\"/><EventID>12</EventID></System><EventData>"
      "<Data Name=\"EventType\">CreateKey</Data><Data "
      "Name=\"TargetObject\">HKLM\\S</Data></EventData></Event>\n";
  expect_bounded(write_text(dir.path() / "tiny.xml", repeat_to(event, kInputBytes)), dir.path(), 0,
                 {"decided (no-match"});
}

TEST(ReplayBounds, TruncatedEvtx) {
  const TempDir dir("bounds");
  expect_bounded(kRegressions / "B9_truncated.evtx", dir.path(), 2, {"cut short at byte"});
}

}  // namespace

namespace {

// A name that is not valid UTF-8 was replayed as "" (an empty key, an image with no name); now
// the event is counted as not mapped, with the reason, and never decided under a guessed name.
TEST(ReplayNames, InvalidUtf8NamesAreCountedNotGuessed) {
  const TempDir dir("replay-utf8");
  const std::string event =
      "<Event xmlns=\"x\"><System><Provider "
      "Name=\"Microsoft-Windows-Sysmon\"/><EventID>13</EventID>"
      "</System><EventData><Data Name=\"EventType\">SetValue</Data><Data Name=\"TargetObject\">"
      "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\DisableAntiSpyware</Data><Data Name=\"Image\">"
      "C:\\x\xff.exe</Data><Data Name=\"Details\">DWORD (0x00000001)</Data></EventData></Event>\n";
  const fs::path log = write_text(dir / "bad.xml", event);
  const fs::path summary = dir / "s.json";
  EXPECT_EQ(
      test::run_hivewarden({"replay", "--no-progress", log.string(), "--summary", summary.string()})
          .exit_code,
      0);
  const std::string summary_text = test::read_text(summary);
  EXPECT_NE(summary_text.find("not valid UTF-8"), std::string::npos) << summary_text;
}

}  // namespace

namespace {

// Attack pass 2 (F6): "EventID": 4294967309 was replayed as 13 and a ProcessId "572x" as 572; now
// such an event reaches the summary as not mapped, with the field named (the reason survives the
// packed hold of every event until all logs are read).
TEST(ReplayNames, NumbersThatAreNotNumbersAreCountedNotTruncated) {
  const TempDir dir("replay-num");
  const std::string event =
      R"J({"Provider":"Microsoft-Windows-Sysmon","EventID":4294967309,"EventData":{"EventType":)J"
      R"J("SetValue","TargetObject":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\)J"
      R"J(DisableAntiSpyware","Details":"DWORD (0x00000001)"}})J";
  const fs::path log = write_text(dir / "wrap.jsonl", event + "\n");
  const fs::path summary = dir / "s.json";
  EXPECT_EQ(
      test::run_hivewarden({"replay", "--no-progress", log.string(), "--summary", summary.string()})
          .exit_code,
      0);
  const std::string summary_text = test::read_text(summary);
  EXPECT_NE(summary_text.find(R"("EventID \"4294967309\" is not a 32-bit number": 1)"),
            std::string::npos)
      << summary_text;
  EXPECT_NE(summary_text.find(R"("decided": 0)"), std::string::npos) << summary_text;
}

}  // namespace
