// Damaged and hostile logs: every one an error naming the file and the record (or line, or byte),
// with every event before the damage handed on, and every limit of readers.hpp enforced.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hivewarden/replay/readers.hpp"
#include "log_test_support.hpp"

namespace hivewarden::replay {
namespace {

namespace fs = std::filesystem;
const fs::path kRegressions = fs::path(HIVEWARDEN_SOURCE_DIR) / "tests" / "replay" / "regressions";

using test::Outcome;
using test::read;
using test::TempDir;

std::string json_event(int n) {
  return R"({"EventID":12,"Provider":"Microsoft-Windows-Sysmon","EventData":{"EventType":"CreateKey","TargetObject":"HKLM\\SOFTWARE\\K)" +
         std::to_string(n) + "\"}}\n";
}

std::string xml_event(int n) {
  return "<Event xmlns=\"x\"><System><Provider "
         "Name=\"Microsoft-Windows-Sysmon\"/><EventID>12</EventID></System><EventData>"
         "<Data Name=\"EventType\">CreateKey</Data><Data Name=\"TargetObject\">HKLM\\SOFTWARE\\K" +
         std::to_string(n) + "</Data></EventData></Event>\n";
}

TEST(DamagedLogs, TruncatedEvtxIsAnErrorNamingTheByte) {
  const Outcome o = read(kRegressions / "B9_truncated.evtx");
  EXPECT_FALSE(o.ok);
  EXPECT_HAS(o.error, "B9_truncated.evtx");
  EXPECT_HAS(o.error, "cut short at byte 34816");
}

TEST(DamagedLogs, GarbageXmlIsAnErrorNamingTheLine) {
  const Outcome o = read(kRegressions / "B9b_garbage.xml");
  EXPECT_FALSE(o.ok);
  EXPECT_HAS(o.error, "B9b_garbage.xml:1: before the first event: text outside an <Event> element");
}

TEST(DamagedLogs, GarbageBetweenJsonLinesStopsAfterTheEventsBefore) {
  TempDir dir;
  const Outcome o = read(
      dir.write("mid.jsonl", json_event(1) + json_event(2) + "garbage here\n" + json_event(3)));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.stats.records, 2u);
  EXPECT_HAS(o.error, "mid.jsonl:3: event 3");
}

TEST(DamagedLogs, GarbageInsideAJsonLineIsAnError) {
  TempDir dir;
  const Outcome o =
      read(dir.write("inside.jsonl", json_event(1) + "{\"EventID\":12 xx}\n" + json_event(3)));
  EXPECT_DAMAGED(o, 1u, "inside.jsonl:2: event 2");
}

TEST(DamagedLogs, TruncatedJsonLineIsAnError) {
  TempDir dir;
  const std::string cut = json_event(2).substr(0, 60);
  const Outcome o = read(dir.write("cut.jsonl", json_event(1) + cut));
  EXPECT_DAMAGED(o, 1u, "cut.jsonl:2: event 2: cut short");
}

TEST(DamagedLogs, TruncatedGzipIsAnErrorAfterTheEventsBefore) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += json_event(i * 7919 % 100003);
  const fs::path whole = dir.write_gzip("whole.jsonl.gz", text);
  const std::string bytes = hivewarden::test::read_text(whole);
  const Outcome o = read(dir.write("cut.jsonl.gz", bytes.substr(0, bytes.size() / 2)));
  EXPECT_FALSE(o.ok);
  EXPECT_GT(o.events.size(), 1000u);
  EXPECT_HAS(o.error, "cut.jsonl.gz:");
  EXPECT_HAS(o.error, "cut short");
  EXPECT_TRUE(read(whole).ok);
}

TEST(DamagedLogs, XmlCutShortAfterAnEvent) {
  TempDir dir;
  const Outcome o =
      read(dir.write("cut.xml", xml_event(1) + xml_event(2) + xml_event(3).substr(0, 80)));
  EXPECT_DAMAGED(o, 2u, "cut.xml:3: event 3: cut short");
}

TEST(DamagedLogs, TextBetweenXmlEventsIsAnError) {
  TempDir dir;
  const Outcome o = read(dir.write("text.xml", xml_event(1) + "stray text\n" + xml_event(2)));
  EXPECT_DAMAGED(o, 1u, "text.xml:2: after event 1");
}

TEST(DamagedLogs, WrappersBannerAndDeclarationsAreNotDamage) {
  TempDir dir;
  const Outcome wrapped =
      read(dir.write("w.xml", "<?xml version=\"1.0\"?>\n<!-- c -->\n<Events>\n" + xml_event(1) +
                                  xml_event(2) + "</Events>\n"));
  EXPECT_TRUE(wrapped.ok) << wrapped.error;
  EXPECT_EQ(wrapped.events.size(), 2u);
  const Outcome banner = read(dir.write("b.xml", "evtxexport 20181227\n\n" + xml_event(1)));
  EXPECT_TRUE(banner.ok) << banner.error;
  EXPECT_EQ(banner.events.size(), 1u);
}

TEST(DamagedLogs, JsonEventLongerThanTheLimit) {
  TempDir dir;
  const std::string huge =
      "{\"EventID\":1,\"pad\":\"" + std::string(kMaxRecordBytes, 'a') + "\"}\n";
  const Outcome o = read(dir.write("long.jsonl", json_event(1) + huge));
  EXPECT_DAMAGED(o, 1u, "long.jsonl:2: event 2: longer than the limit of 1048576 bytes");
  const std::string fits =
      "{\"EventID\":1,\"pad\":\"" + std::string(kMaxRecordBytes - 100, 'a') + "\"}\n";
  EXPECT_TRUE(read(dir.write("fits.jsonl", fits)).ok);
}

TEST(DamagedLogs, JsonNestedDeeperThanTheLimit) {
  TempDir dir;
  const auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']') + "\n";
  };
  const Outcome o = read(dir.write("deep.jsonl", json_event(1) + nested(kMaxNesting + 1)));
  EXPECT_DAMAGED(o, 1u, "deep.jsonl:2: event 2: nested deeper than the limit of 64");
  EXPECT_TRUE(read(dir.write("ok.jsonl", nested(kMaxNesting))).ok);
  EXPECT_FALSE(read(dir.write("deeper.jsonl", nested(500000))).ok);
}

TEST(DamagedLogs, XmlNestedDeeperThanTheLimit) {
  TempDir dir;
  std::string deep = "<Event xmlns=\"x\">";
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  for (int i = 0; i < 100000; ++i) deep += "</a>";
  deep += "</Event>\n";
  const Outcome o = read(dir.write("deep.xml", xml_event(1) + deep));
  EXPECT_DAMAGED(o, 1u, "deep.xml:2: event 2: elements nested deeper than the limit of 64");
}

TEST(DamagedLogs, XmlEventLongerThanTheLimit) {
  TempDir dir;
  const std::string huge =
      "<Event xmlns=\"x\"><System>" + std::string(kMaxRecordBytes, 'a') + "</System></Event>\n";
  const Outcome o = read(dir.write("long.xml", xml_event(1) + huge));
  EXPECT_DAMAGED(o, 1u, "long.xml:2: event 2: longer than the limit of 1048576 bytes");
}

TEST(DamagedLogs, GzipBombStopsAtTheFirstOverlongEvent) {
  const Outcome o = read(kRegressions / "B8_gzip_bomb_256m.json.gz");
  EXPECT_FALSE(o.ok);
  EXPECT_HAS(o.error, "B8_gzip_bomb_256m.json.gz:1: event 1: longer than the limit");
}

TEST(DamagedLogs, GzipExpandingPastItsRatioStopsAfterTheEventsBefore) {
  TempDir dir;
  std::string text;
  while (text.size() < 8 * kMaxRecordBytes) text += json_event(1);  // compresses far beyond 64:1
  const fs::path bomb = dir.write_gzip("bomb.jsonl.gz", text);
  const Outcome o = read(bomb);
  EXPECT_FALSE(o.ok);
  EXPECT_GT(o.events.size(), 1000u);
  EXPECT_LT(o.events.size() * json_event(1).size(), 8 * kMaxRecordBytes);
  EXPECT_HAS(o.error, "bomb.jsonl.gz:");
  EXPECT_HAS(o.error, "expands past the limit of 64 times its size");
}

}  // namespace
}  // namespace hivewarden::replay
