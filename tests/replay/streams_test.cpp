// Attack pass 2 on the event readers: a log read through a FIFO or a pipe (opened once), gzip
// damage after intact members (their events handed on, the damage named), bytes after a member that
// are not a member, top-level JSON arrays of events (streamed), and numbers never truncated.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/gzip.hpp"
#include "hivewarden/replay/readers.hpp"
#include "log_test_support.hpp"

namespace hivewarden::replay {
namespace {

namespace fs = std::filesystem;

using test::Outcome;
using test::read;
using test::TempDir;

using hivewarden::test::gzip;

std::string json_event(int n, const std::string& id = "13", const std::string& pid = "\"572\"") {
  return R"({"Provider":"Microsoft-Windows-Sysmon","EventID":)" + id +
         R"(,"EventData":{"EventType":"SetValue","ProcessId":)" + pid +
         R"(,"TargetObject":"HKLM\\SOFTWARE\\K)" + std::to_string(n) +
         R"J(\\V","Details":"DWORD (0x00000001)"}})J";
}

std::string json_lines(int count) {
  std::string text;
  for (int i = 1; i <= count; ++i) text += json_event(i) + "\n";
  return text;
}

// --- F3: a FIFO is opened once ---------------------------------------------------------------

// Writes `bytes` into the FIFO at `path` while the reader reads it. A reader that opens the path a
// second time would wait for a writer forever: after the bytes are written the test opens the FIFO
// once more for writing (and closes it) to release such a reader, which then finds no more data.
Outcome read_through_fifo(const fs::path& path, const std::string& bytes) {
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    const int fd = ::open(path.c_str(), O_WRONLY);
    for (std::size_t at = 0; fd >= 0 && at < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    if (fd >= 0) ::close(fd);
    for (int i = 0; i < 400 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      if (i % 40 == 39) {  // a second open of the path by the reader waits for a writer: release it
        const int again = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
        if (again >= 0) ::close(again);
      }
    }
  });
  Outcome o = read(path);
  done = true;
  writer.join();
  return o;
}

TEST(StreamedLogs, JsonThroughAFifoIsReadOnce) {
  TempDir dir;
  const Outcome o = read_through_fifo(dir.path() / "fifo.jsonl", json_lines(3));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events.size(), 3u);
}

TEST(StreamedLogs, GzipThroughAFifoIsReadOnce) {
  TempDir dir;
  const Outcome o = read_through_fifo(dir.path() / "fifo.jsonl.gz", gzip(json_lines(500)));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events.size(), 500u);
}

TEST(StreamedLogs, XmlThroughAFifoIsReadOnce) {
  TempDir dir;
  const std::string event =
      "<Event xmlns=\"x\"><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>12"
      "</EventID></System><EventData><Data Name=\"EventType\">CreateKey</Data><Data "
      "Name=\"TargetObject\">HKLM\\SOFTWARE\\K</Data></EventData></Event>\n";
  const Outcome o = read_through_fifo(dir.path() / "fifo.xml", event + event);
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events.size(), 2u);
}

TEST(StreamedLogs, EvtxThroughAFifoIsRefusedNotHung) {
  TempDir dir;
  const Outcome o =
      read_through_fifo(dir.path() / "fifo.evtx", "ElfFile" + std::string(4096, '\0'));
  EXPECT_FALSE(o.ok);
  EXPECT_HAS(o.error, "fifo.evtx: an EVTX log must be a regular file");
}

TEST(StreamedLogs, ADirectoryIsNamed) {
  TempDir dir;
  const Outcome o = read(dir.path());
  EXPECT_FALSE(o.ok);
  EXPECT_HAS(o.error, "is a directory");
}

// --- F4: gzip damage after intact members ----------------------------------------------------

TEST(GzipMembers, DamageInALaterMemberKeepsTheEventsBefore) {
  TempDir dir;
  std::string second = gzip(json_lines(5));
  second[2] = 9;  // not deflate
  const Outcome o = read(dir.write("bad2.jsonl.gz", gzip(json_lines(100)) + second));
  EXPECT_DAMAGED(o, 100u, "bad2.jsonl.gz:101: event 101: ");
  EXPECT_HAS(o.error, "damaged in gzip member 2");
}

TEST(GzipMembers, ADamagedTrailerKeepsEveryEvent) {
  TempDir dir;
  std::string whole = gzip(json_lines(100));
  whole.replace(whole.size() - 8, 8, 8, '\0');  // CRC-32 and length zeroed
  const Outcome o = read(dir.write("crc.jsonl.gz", whole));
  EXPECT_DAMAGED(o, 100u, "crc.jsonl.gz:101: event 101: ");
  EXPECT_HAS(o.error, "incorrect data check");
}

TEST(GzipMembers, BytesAfterAMemberThatAreNotAMemberAreDamage) {
  TempDir dir;
  std::string second = gzip(json_lines(5));
  second[0] = '\x1e';  // the magic broken
  const Outcome o = read(dir.write("magic.jsonl.gz", gzip(json_lines(100)) + second));
  EXPECT_DAMAGED(o, 100u, "magic.jsonl.gz:101: event 101: bytes after gzip member 1");
  EXPECT_HAS(o.error, "are not a gzip member");
  const Outcome text = read(dir.write("text.jsonl.gz", gzip(json_lines(2)) + "appended\n"));
  EXPECT_DAMAGED(text, 2u, "text.jsonl.gz:3: event 3: bytes after gzip member 1");
}

TEST(GzipMembers, MembersAndZeroPaddingAreRead) {
  TempDir dir;
  const std::string members = gzip(json_lines(100)) + gzip("") + gzip(json_lines(5));
  const Outcome two = read(dir.write("two.jsonl.gz", members));
  EXPECT_TRUE(two.ok) << two.error;
  EXPECT_EQ(two.events.size(), 105u);
  const Outcome padded = read(dir.write("pad.jsonl.gz", members + std::string(100000, '\0')));
  EXPECT_TRUE(padded.ok) << padded.error;
  EXPECT_EQ(padded.events.size(), 105u);
  const Outcome junk =
      read(dir.write("junk.jsonl.gz", members + std::string(1000, '\0') + "x" + gzip("")));
  EXPECT_DAMAGED(junk, 105u, "neither a gzip member nor zero padding");
}

// The inflater (ISA-L since issue 15, zlib before) must find the same damage: each case below
// passes with either.
TEST(GzipMembers, AWrongCrcOrLengthInATrailerIsDamage) {
  TempDir dir;
  const std::string first = gzip(json_lines(100));
  const std::string second = gzip(json_lines(5));
  for (const std::size_t from_end : {8u, 5u, 4u, 1u}) {  // CRC-32 bytes 0 and 3, ISIZE 0 and 3
    std::string bad = second;
    bad[bad.size() - from_end] ^= 0x01;
    const Outcome o = read(dir.write("trailer.jsonl.gz", first + bad));
    EXPECT_FALSE(o.ok) << from_end;
    EXPECT_EQ(o.events.size(), 105u) << from_end;  // every byte before the trailer handed out
    EXPECT_HAS(o.error, "trailer.jsonl.gz:106: event 106: ");
    EXPECT_HAS(o.error, "damaged in gzip member 2");
    EXPECT_HAS(o.error, "(incorrect ");  // zlib: data or length check; ISA-L: data check
  }
}

TEST(GzipMembers, DamageInsideTheDeflateDataOrHeaderNamesTheMember) {
  TempDir dir;
  const std::string first = gzip(json_lines(100));
  std::string block = gzip(json_lines(5));
  block[10] = static_cast<char>(block[10] | 0x06);  // block type 3: reserved
  const Outcome o = read(dir.write("block.jsonl.gz", first + block));
  EXPECT_DAMAGED(o, 100u, "damaged in gzip member 2 at compressed byte");
  EXPECT_HAS(o.error, "invalid block");
  std::string header = gzip(json_lines(5));
  header[3] = 0x02;  // FHCRC: the first two deflate bytes are read as a (wrong) header CRC-16
  const Outcome h = read(dir.write("header.jsonl.gz", header));
  EXPECT_DAMAGED(h, 0u, "damaged in gzip member 1");
  EXPECT_HAS(h.error, "header crc mismatch");
}

TEST(GzipMembers, ManyMembersOfEverySizeAndStoredBlocksAreRead) {
  TempDir dir;
  std::string members;
  int events = 0;
  for (int i = 0; i < 60; ++i) {  // member edges fall anywhere in the reader's 64 KiB buffers
    const int count = (i * 37) % 23;
    members += gzip(json_lines(count), 1, i % 3 == 0 ? 0 : 9);
    events += count;
  }
  const Outcome o = read(dir.write("many.jsonl.gz", members + std::string(7, '\0')));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events.size(), static_cast<std::size_t>(events));
}

// zlib read a one-byte tail as a member cut short (it looks at the magic once it has two bytes).
TEST(GzipMembers, ATailTooShortForAHeaderIsNotAMember) {
  TempDir dir;
  const std::string member = gzip(json_lines(3));
  for (const std::string tail : {"x", "\x1f\x8c", "ab\n"}) {
    const Outcome o = read(dir.write("tail.jsonl.gz", member + tail));
    EXPECT_DAMAGED(o, 3u,
                   "bytes after gzip member 1 (from compressed byte " +
                       std::to_string(member.size()) + ") are not a gzip member");
  }
  const Outcome magic = read(dir.write("magic.jsonl.gz", member + "\x1f\x8b\x08"));
  EXPECT_DAMAGED(magic, 3u, "cut short: it ends inside gzip member 2");
}

TEST(GzipMembers, ABombThroughAFifoStopsAtTheBound) {
  TempDir dir;
  std::string text;
  while (text.size() < 8 * kMaxRecordBytes) text += json_event(1);
  const Outcome o = read_through_fifo(dir.path() / "bomb.jsonl.gz", gzip(text));
  EXPECT_FALSE(o.ok);
  EXPECT_LT(o.events.size() * json_event(1).size(), 8 * kMaxRecordBytes);
  EXPECT_HAS(o.error, "expands past the limit of 64 times its size");
}

TEST(GzipMembers, GzipXmlIsReadAsXml) {
  TempDir dir;
  const std::string event =
      "<Event xmlns=\"x\"><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>12"
      "</EventID></System><EventData><Data Name=\"EventType\">CreateKey</Data><Data "
      "Name=\"TargetObject\">HKLM\\SOFTWARE\\K</Data></EventData></Event>\n";
  const Outcome o = read(dir.write("log.xml.gz", gzip(event + event)));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events.size(), 2u);
  std::string cut = gzip(event + event + event);
  const Outcome damaged = read(dir.write("cut.xml.gz", cut.substr(0, cut.size() - 12)));
  EXPECT_FALSE(damaged.ok);
  EXPECT_HAS(damaged.error, "cut.xml.gz:");
}

// --- F5: a top-level JSON array of events ----------------------------------------------------

TEST(JsonArrays, ElementsOfATopLevelArrayAreEvents) {
  TempDir dir;
  const std::string pretty =
      "[\n  " + json_event(1) + ",\n  " + json_event(2) + " ,\n" + json_event(3) + "\n]\n";
  const Outcome o = read(dir.write("array.json", pretty));
  EXPECT_TRUE(o.ok) << o.error;
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.stats.records, 3u);
  EXPECT_EQ(o.events[2].target_object, "HKLM\\SOFTWARE\\K3\\V");
  EXPECT_EQ(o.events[2].index, 3u);
  const Outcome nested = read(dir.write(
      "nested.json", "[[" + json_event(1) + "],[]," + "[" + json_event(2) + "," + json_event(3) +
                         "]]\n[" + json_event(4) + "]\n" + json_event(5) + "\n[]"));
  EXPECT_TRUE(nested.ok) << nested.error;
  EXPECT_EQ(nested.events.size(), 5u);
}

TEST(JsonArrays, AnArrayLongerThanOneEventsLimitIsStreamed) {
  TempDir dir;
  std::string array = "[";
  int count = 0;
  while (array.size() < 3 * kMaxRecordBytes) {
    if (count > 0) array += ",\n";
    array += json_event(++count);
  }
  const Outcome o = read(dir.write("big.json", array + "]"));
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events.size(), static_cast<std::size_t>(count));
}

TEST(JsonArrays, EachElementKeepsTheBounds) {
  TempDir dir;
  const std::string huge = "{\"pad\":\"" + std::string(kMaxRecordBytes, 'a') + "\"}";
  const Outcome longer = read(dir.write("long.json", "[" + json_event(1) + ",\n" + huge + "]"));
  EXPECT_DAMAGED(longer, 1u, "long.json:2: event 2: longer than the limit of 1048576 bytes");
  // The arrays around an element count toward its nesting.
  const std::string arrays(60, '[');
  const Outcome deep = read(dir.write(
      "deep.json", arrays + "{\"a\":[[[[{}]]]]}" + std::string(60, ']')));  // 60 + 6 levels
  EXPECT_FALSE(deep.ok);
  EXPECT_HAS(deep.error, "event 1: nested deeper than the limit of 64");
  EXPECT_TRUE(read(dir.write("fits.json", arrays + "{\"a\":[[{}]]}" + std::string(60, ']'))).ok);
}

TEST(JsonArrays, ABrokenArrayIsDamageNamingTheEvent) {
  TempDir dir;
  const Outcome missing_comma =
      read(dir.write("comma.json", "[" + json_event(1) + "\n" + json_event(2) + "]"));
  EXPECT_DAMAGED(missing_comma, 1u, "comma.json:2: event 2: expected ',' or ']'");
  const Outcome cut = read(dir.write("cut.json", "[" + json_event(1) + ",\n"));
  EXPECT_DAMAGED(cut, 1u, "cut.json:2: event 2: cut short");
  const Outcome number = read(dir.write("number.json", "[" + json_event(1) + ", 5]"));
  EXPECT_FALSE(number.ok);
  EXPECT_HAS(number.error, "event 2: not a JSON object");
  const Outcome trailing = read(dir.write("trailing.json", "[" + json_event(1) + ",]"));
  EXPECT_FALSE(trailing.ok);
  EXPECT_HAS(trailing.error, "event 2: not a JSON object");
}

// The record scanner takes the bytes a buffered span at a time (64 KiB, or what one inflate call
// made): a record may end, an escape or a string may start on either side of a span's edge, and the
// length limit holds to the byte.
TEST(JsonArrays, RecordsAcrossBufferEdgesKeepTheirLinesAndLimits) {
  TempDir dir;
  const std::string tricky = R"({"Provider":"Microsoft-Windows-Sysmon","EventID":13,
"EventData":{"EventType":"SetValue","Details":"a\"}{[\\","TargetObject":"HKLM\\K\\V",
"Image":"x"}})";
  std::string text;
  for (int i = 0; i < 3000; ++i) text += std::string(i % 7, ' ') + tricky + "\n";  // shifted
  text += "{\"EventID\": 13, \"Provider\n";  // cut short on line 9001
  for (const bool gz : {false, true}) {
    const Outcome o =
        gz ? read(dir.write_gzip("edges.jsonl.gz", text)) : read(dir.write("edges.jsonl", text));
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.events.size(), 3000u);
    if (!o.events.empty()) {
      EXPECT_EQ(o.events.back().details, "a\"}{[\\");
    }
    EXPECT_HAS(o.error,
               std::string(gz ? "edges.jsonl.gz" : "edges.jsonl") + ":9001: event 3001: cut short");
  }
  const std::string event = json_event(1);
  const auto padded = [&](std::size_t size) {  // the event grown to `size` bytes
    return "{\"pad\":\"" + std::string(size - event.size() - 9, 'a') + "\"," + event.substr(1);
  };
  ASSERT_EQ(padded(kMaxRecordBytes).size(), kMaxRecordBytes);
  const Outcome exact = read(
      dir.write("exact.jsonl", std::string(70000, '\n') + padded(kMaxRecordBytes) + "\n" + event));
  EXPECT_TRUE(exact.ok) << exact.error;
  EXPECT_EQ(exact.events.size(), 2u);
  const Outcome over =
      read(dir.write("over.jsonl", std::string(70000, '\n') + padded(kMaxRecordBytes + 1)));
  EXPECT_FALSE(over.ok);
  EXPECT_HAS(over.error, "over.jsonl:70001: event 1: longer than the limit of 1048576 bytes");
}

// Long strings are searched sixteen bytes at a time: an escaped quote, an escaped backslash
// before the closing quote and braces inside the text must be found at every place in a lane.
TEST(JsonArrays, EscapesAtEveryPlaceOfALongStringAreKept) {
  TempDir dir;
  std::string text;
  std::vector<std::string> expected;
  for (std::size_t k = 0; k < 40; ++k) {
    const std::string before(k, 'x'), after(40 - k, 'y');
    // JSON text, then what it reads as: \" is a quote, \\ one backslash
    text += R"({"EventID":13,"EventType":"SetValue","TargetObject":"HKLM\\K","Details":")" +
            before + R"(\"}{[\\)" + after + R"(\\"})" + "\n";
    expected.push_back(before + "\"}{[\\" + after + "\\");
  }
  for (const bool gz : {false, true}) {
    const Outcome o =
        gz ? read(dir.write_gzip("lanes.jsonl.gz", text)) : read(dir.write("lanes.jsonl", text));
    EXPECT_TRUE(o.ok) << o.error;
    ASSERT_EQ(o.events.size(), expected.size());
    for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(o.events[k].details, expected[k]);
  }
}

// --- F6: numbers never truncated -------------------------------------------------------------

// The event is handed on (it is a Sysmon event) but not mapped, with the field named.
void expect_not_mapped(const Outcome& o, const std::string& reason) {
  EXPECT_TRUE(o.ok) << o.error;
  ASSERT_EQ(o.events.size(), 1u);
  std::string why;
  EXPECT_FALSE(map_event(o.events[0], why))
      << "mapped with id " << o.events[0].event_id << " pid " << o.events[0].pid;
  EXPECT_HAS(why, reason);
}

TEST(ReplayNumbers, EventIdsOutOfRangeOrWithTrailingTextAreNotMapped) {
  TempDir dir;
  expect_not_mapped(read(dir.write("wrap.jsonl", json_event(1, "4294967309"))),
                    "EventID \"4294967309\" is not a 32-bit number");
  expect_not_mapped(read(dir.write("junk.jsonl", json_event(1, "\"13abc\""))),
                    "EventID \"13abc\" is not a 32-bit number");
  expect_not_mapped(read(dir.write("minus.jsonl", json_event(1, "-4294967283"))), "EventID");
  expect_not_mapped(read(dir.write("fraction.jsonl", json_event(1, "13.5"))), "EventID");
  expect_not_mapped(read(dir.write("hexjunk.jsonl", json_event(1, "\"0xDz\""))), "EventID");
  // What the logs really write still reads.
  for (const std::string id : {"13", "\"13\"", "\"0xD\"", "{\"#text\":13}"}) {
    const Outcome o = read(dir.write("ok.jsonl", json_event(1, id)));
    ASSERT_EQ(o.events.size(), 1u) << id;
    EXPECT_EQ(o.events[0].event_id, 13u) << id;
    std::string why;
    EXPECT_TRUE(map_event(o.events[0], why)) << id << ": " << why;
  }
}

TEST(ReplayNumbers, ProcessIdsOutOfRangeOrWithTrailingTextAreNotMapped) {
  TempDir dir;
  expect_not_mapped(read(dir.write("pid.jsonl", json_event(1, "13", "\"572x\""))),
                    "ProcessId \"572x\" is not a 32-bit number");
  expect_not_mapped(read(dir.write("pidwrap.jsonl", json_event(1, "13", "4294967868"))),
                    "ProcessId \"4294967868\"");
  const Outcome ok = read(dir.write("pidok.jsonl", json_event(1, "13", "4294967295")));
  ASSERT_EQ(ok.events.size(), 1u);
  EXPECT_EQ(ok.events[0].pid, 4294967295u);
}

TEST(ReplayNumbers, XmlNumbersAreNotTruncatedEither) {
  TempDir dir;
  const auto event = [](const std::string& id, const std::string& pid) {
    return "<Event xmlns=\"x\"><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>" +
           id +
           "</EventID></System><EventData><Data Name=\"EventType\">CreateKey</Data><Data "
           "Name=\"TargetObject\">HKLM\\SOFTWARE\\K</Data><Data Name=\"ProcessId\">" +
           pid + "</Data></EventData></Event>\n";
  };
  expect_not_mapped(read(dir.write("id.xml", event("12abc", "4"))), "EventID \"12abc\"");
  expect_not_mapped(read(dir.write("wrap.xml", event("4294967308", "4"))), "EventID");
  expect_not_mapped(read(dir.write("pid.xml", event("12", "4x"))), "ProcessId \"4x\"");
  expect_not_mapped(read(dir.write("pidwrap.xml", event("12", "4294967300"))), "ProcessId");
  const Outcome ok = read(dir.write("ok.xml", event("12", "4")));
  ASSERT_EQ(ok.events.size(), 1u);
  EXPECT_EQ(ok.events[0].pid, 4u);
}

}  // namespace
}  // namespace hivewarden::replay
