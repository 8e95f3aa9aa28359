// Sysmon registry events from the shared data: every event read (as evtxexport counts them), every
// OTRF event mapped or accounted for, damaged inputs reported with what came before, and the
// samples that tamper with Defender denied or reported by the default policy.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "../support/decide_text.hpp"
#include "../support/files.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/replay/event.hpp"
#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/reg_types.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::replay {
namespace {

namespace fs = std::filesystem;
const fs::path kData = fs::path(HIVEWARDEN_SHARED_DATA);

std::vector<RegistryEvent> read_all(const std::string& path, ReadStats& stats, std::string& error,
                                    bool& ok) {
  std::vector<RegistryEvent> out;
  ok = read_events(
      path, [&](RegistryEvent&& e) { out.push_back(std::move(e)); }, stats, error);
  return out;
}

// evtxexport's own count of Sysmon 12/13/14 events in a file (its XML output, counted by text).
int evtxexport_count(const fs::path& file) {
  const std::string command = "evtxexport -f xml '" + file.string() + "' 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  if (pclose(pipe) != 0) return -1;
  int count = 0;
  std::size_t at = 0;
  while ((at = text.find("<Event ", at)) != std::string::npos) {
    const std::size_t end = text.find("</Event>", at);
    const std::string event = text.substr(at, end - at);
    if (event.find("Microsoft-Windows-Sysmon") != std::string::npos &&
        std::regex_search(event, std::regex("<EventID>1[234]</EventID>"))) {
      ++count;
    }
    at = end;
  }
  return count;
}

TEST(Replay, DetailsAndTimes) {
  std::uint32_t type;
  std::string data;
  bool known;
  parse_details("DWORD (0x00000001)", type, data, known);
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, std::string("\x01\0\0\0", 4));
  parse_details("QWORD (0x00000001-0x00000002)", type, data, known);
  EXPECT_EQ(type, 11u);
  EXPECT_EQ(data, std::string("\x02\0\0\0\x01\0\0\0", 8));
  parse_details("Binary Data", type, data, known);
  EXPECT_EQ(type, 3u);
  EXPECT_FALSE(known);
  parse_details("C:\\x.exe", type, data, known);
  EXPECT_EQ(type, 1u);
  EXPECT_EQ(data.size(), 18u);  // 8 units and a NUL
  EXPECT_EQ(parse_utc_time("1970-01-01 00:00:00.000"), 134774LL * 86400 * 1000000);
  EXPECT_LT(parse_utc_time("2019-07-19 14:44:08.197"), parse_utc_time("2019-07-19 14:44:08.198"));
  EXPECT_EQ(parse_utc_time("not a time"), 0);
  EXPECT_GT(parse_utc_time("30827-12-31 23:59:59.999"), parse_utc_time("2019-07-19 14:44:08.198"));
  // Out of FILETIME's range or no clock time: not a time, and no overflow on the way.
  EXPECT_EQ(parse_utc_time("20555555555555520-01-01 00:00:00.000"), 0);
  EXPECT_EQ(parse_utc_time("30828-01-01 00:00:00.000"), 0);
  EXPECT_EQ(parse_utc_time("1600-12-31 23:59:59.999"), 0);
  EXPECT_EQ(parse_utc_time("2019-07-19 24:00:00.000"), 0);
  EXPECT_EQ(parse_utc_time("2019-07-19 14:-1:00.000"), 0);
}

// Sysmon's Details text names a DWORD of 32 bits and a QWORD of two 32-bit halves. A wider
// number there used to be cut to its low bits ("DWORD (0x100000001)" read as the DWORD 1), so a
// `data|dword` condition judged a value the log never showed. Now it is no DWORD: the text stays
// what it is (a string), as any other Details text that is not Sysmon's form.
TEST(Replay, DetailsNeverTruncateAWideNumber) {
  std::uint32_t type = 0;
  std::string data;
  bool known = false;
  const auto expect_text = [&](const std::string& details) {
    parse_details(details, type, data, known);
    EXPECT_EQ(type, 1u) << details;  // REG_SZ: the text itself
    EXPECT_TRUE(known) << details;
    EXPECT_EQ(data.size(), 2 * (details.size() + 1)) << details;
  };
  expect_text("DWORD (0x100000001)");
  expect_text("DWORD (0xFFFFFFFF00000001)");
  expect_text("QWORD (0x100000000-0x00000001)");  // the high half would wrap out
  expect_text("QWORD (0x00000000-0x100000001)");  // the low half would be cut
  expect_text("DWORD (0x00000000000000001)");     // 17 digits: as before, not Sysmon's form
  expect_text("DWORD (1)");
  expect_text("DWORD (-0x1)");
  expect_text("DWORD ( 0x1)");
  expect_text("QWORD (0x1)");
  // The widest values of each still read, in either case and with Sysmon's or fewer digits.
  parse_details("DWORD (0xFFFFFFFF)", type, data, known);
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, std::string("\xFF\xFF\xFF\xFF", 4));
  parse_details("DWORD (0X1a)", type, data, known);
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, std::string("\x1A\0\0\0", 4));
  parse_details("DWORD (0x0000000000000001)", type, data, known);  // 16 digits, as before
  EXPECT_EQ(type, 4u);
  EXPECT_EQ(data, std::string("\x01\0\0\0", 4));
  parse_details("QWORD (0xFFFFFFFF-0xfffffffe)", type, data, known);
  EXPECT_EQ(type, 11u);
  EXPECT_EQ(data, std::string("\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8));
}

// Found by fuzz_event_reader (UBSan: signed overflow in the time arithmetic): the event is read,
// its time is unknown.
TEST(Replay, SeventeenDigitYearIsNotATime) {
  const auto path = std::filesystem::path(HIVEWARDEN_SOURCE_DIR) / "tests" / "replay" /
                    "regressions" / "event_reader_17_digit_year.json";
  ReadStats stats;
  std::string error;
  std::vector<RegistryEvent> events;
  // The fuzzer's file also ends in a stray `}`: an error naming it, after the event before it.
  EXPECT_FALSE(read_json_events(
      path.string(), [&](RegistryEvent&& e) { events.push_back(std::move(e)); }, stats, error));
  EXPECT_NE(error.find("event 2"), std::string::npos) << error;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].time_key, 0);
}

TEST(Replay, MappingSplitsKeysAndValues) {
  RegistryEvent e;
  e.event_type = "SetValue";
  e.target_object = "HKLM\\SOFTWARE\\Run\\(Default)";
  std::string why;
  auto m = map_event(e, why);
  ASSERT_TRUE(m);
  EXPECT_EQ(utf16_to_utf8(m->key_text), "HKLM\\SOFTWARE\\Run");
  EXPECT_EQ(utf16_to_utf8(m->request.value), "");
  e.target_object =
      "HKLM\\System\\bam\\UserSettings\\S-1-5-18\\\\Device\\HarddiskVolume2\\x.exe";  // a value
                                                                                      // named
                                                                                      // \Device\...
  m = map_event(e, why);
  ASSERT_TRUE(m);
  EXPECT_EQ(utf16_to_utf8(m->key_text), "HKLM\\System\\bam\\UserSettings\\S-1-5-18");
  EXPECT_EQ(utf16_to_utf8(m->request.value), "\\Device\\HarddiskVolume2\\x.exe");
  e.event_type = "RenameKey";
  e.target_object = "HKLM\\A\\Old";
  e.new_name_path = "HKLM\\A\\New";
  m = map_event(e, why);
  ASSERT_TRUE(m);
  EXPECT_EQ(utf16_to_utf8(m->request.new_name), "New");
  e.event_type = "";
  EXPECT_FALSE(map_event(e, why));
  EXPECT_NE(why.find("EventType"), std::string::npos);
}

TEST(Replay, EvtxSamplesAgreeWithEvtxexport) {
  const fs::path dir = kData / "evtx";
  if (!fs::exists(dir)) GTEST_SKIP() << "no shared data: " << dir << " is absent";
  int files = 0;
  std::uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".evtx") continue;
    ReadStats stats;
    std::string error;
    bool ok = false;
    read_all(entry.path().string(), stats, error, ok);
    ASSERT_TRUE(ok) << error;
    const int expected = evtxexport_count(entry.path());
    ASSERT_GE(expected, 0) << "evtxexport failed on " << entry.path();
    EXPECT_EQ(stats.registry, static_cast<std::uint64_t>(expected)) << entry.path();
    total += stats.registry;
    ++files;
  }
  EXPECT_GE(files, 70);
  std::printf(
      "[ replay ] %d EVTX files, %llu Sysmon registry events, each file's count as evtxexport's\n",
      files, static_cast<unsigned long long>(total));
}

TEST(Replay, EveryOtrfEventIsReadAndMappedOrAccountedFor) {
  const fs::path file = kData / "otrf" / "registry_events.jsonl.gz";
  if (!fs::exists(file)) GTEST_SKIP() << "no shared data: " << file << " is absent";
  ReadStats stats;
  std::string error;
  bool ok = false;
  const auto events = read_all(file.string(), stats, error, ok);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(stats.records, 186797u);
  std::uint64_t skipped = 0;
  for (const auto& [k, v] : stats.skipped) skipped += v;
  EXPECT_EQ(stats.registry + skipped, stats.records);
  std::uint64_t mapped = 0, no_type = 0;
  std::unique_ptr<KeyPath> path(new KeyPath);
  for (const auto& e : events) {
    std::string why;
    const auto m = map_event(e, why);
    if (!m) {
      ASSERT_TRUE(e.event_type.empty())
          << why;  // the only events left out: the collector lost EventType
      ++no_type;
      continue;
    }
    ASSERT_EQ(canonicalize_key(m->key_text, {}, *path), PathStatus::kOk)
        << utf16_to_utf8(m->key_text);
    ++mapped;
  }
  EXPECT_EQ(no_type, 27158u);  // as data/replay/COUNTS.txt counts them
  EXPECT_EQ(mapped + no_type, stats.registry);
}

// SPEC §10: the engine's Details rendering is Sysmon's. Every set-value Details of the OTRF events
// that replay can turn back into data (DWORD, QWORD, strings, (Empty)) renders as Sysmon wrote it.
TEST(Replay, DetailsRenderAsSysmonWroteThem) {
  const fs::path file = kData / "otrf" / "registry_events.jsonl.gz";
  if (!fs::exists(file)) GTEST_SKIP() << "no shared data: " << file << " is absent";
  ReadStats stats;
  std::string error;
  bool ok = false;
  const auto events = read_all(file.string(), stats, error, ok);
  ASSERT_TRUE(ok) << error;
  std::uint64_t compared = 0, numbers = 0, binary = 0;
  for (const auto& e : events) {
    if (e.event_id != 13 || e.details.empty()) continue;
    std::uint32_t type = 0;
    std::string data;
    bool known = false;
    parse_details(e.details, type, data, known);
    if (!known) {  // Binary Data: Sysmon does not log the bytes
      EXPECT_EQ(e.details, "Binary Data");
      ++binary;
      continue;
    }
    ASSERT_EQ(sysmon_details(type, data), e.details);
    numbers += type != reg_type::kSz;
    ++compared;
  }
  EXPECT_GT(compared, 30000u);
  EXPECT_GT(numbers, 15000u);
  EXPECT_GT(binary, 10000u);
  std::printf(
      "[ replay ] %llu Details rendered as Sysmon wrote them (%llu numbers), %llu Binary Data\n",
      static_cast<unsigned long long>(compared), static_cast<unsigned long long>(numbers),
      static_cast<unsigned long long>(binary));
}

// Details that do not come from Sysmon's own rendering, without shared data.
TEST(Replay, DetailsParseAndRenderBack) {
  for (const std::string details : {"DWORD (0x00000001)", "QWORD (0x01d8b30a-0x3f46c50c)",
                                    "(Empty)", "C:\\Windows\\x.exe", "DWORD (0xffffffff)"}) {
    std::uint32_t type = 0;
    std::string data;
    bool known = false;
    parse_details(details, type, data, known);
    ASSERT_TRUE(known) << details;
    EXPECT_EQ(sysmon_details(type, data), details);
  }
}

TEST(Replay, DamagedInputsGiveErrorsAndEverythingBefore) {
  const hivewarden::test::TempDir dir("replay-test");
  const fs::path& tmp = dir.path();
  // Broken JSON after two good events.
  {
    std::ofstream(tmp / "broken.jsonl")
        << R"({"EventID":13,"Provider":"Microsoft-Windows-Sysmon","EventData":{"EventType":"SetValue","TargetObject":"HKLM\\A\\v"}})"
           "\n"
        << R"({"EventID":12,"Provider":"Microsoft-Windows-Sysmon","EventData":{"EventType":"CreateKey","TargetObject":"HKLM\\B"}})"
           "\n"
        << "{\"EventID\": 13, \"Provider\n";
    ReadStats stats;
    std::string error;
    bool ok = true;
    const auto events = read_all((tmp / "broken.jsonl").string(), stats, error, ok);
    EXPECT_FALSE(ok);
    EXPECT_EQ(events.size(), 2u);
    EXPECT_NE(error.find("event 3"), std::string::npos) << error;
  }
  // A gzip file cut short.
  const fs::path otrf = kData / "otrf" / "registry_events.jsonl.gz";
  if (fs::exists(otrf)) {
    const std::string bytes = hivewarden::test::read_text(otrf);
    std::ofstream(tmp / "cut.jsonl.gz", std::ios::binary).write(bytes.data(), 200000);
    ReadStats stats;
    std::string error;
    bool ok = true;
    const auto events = read_all((tmp / "cut.jsonl.gz").string(), stats, error, ok);
    EXPECT_FALSE(ok);
    EXPECT_GT(stats.records, 100u);
    EXPECT_NE(error.find("cut.jsonl.gz"), std::string::npos) << error;
  }
  // An EVTX file cut short, and broken XML.
  fs::path sample;
  std::error_code absent;  // the shared data may not be beside the checkout: then no sample
  for (const auto& e : fs::recursive_directory_iterator(kData / "evtx", absent)) {
    if (e.path().extension() == ".evtx" && fs::file_size(e.path()) > 100000) {
      sample = e.path();
      break;
    }
  }
  if (!sample.empty()) {
    const std::string bytes = hivewarden::test::read_text(sample);
    for (std::size_t cut : {std::size_t{100}, std::size_t{5000}, bytes.size() / 2}) {
      std::ofstream(tmp / "cut.evtx", std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(cut));
      ReadStats stats;
      std::string error;
      bool ok = true;
      read_all((tmp / "cut.evtx").string(), stats, error,
               ok);  // never a crash; errors name the file
      if (!ok) {
        EXPECT_NE(error.find("cut.evtx"), std::string::npos) << error;
      }
    }
  }
  std::ofstream(tmp / "broken.xml")
      << "<Event xmlns=\"x\"><System><Provider "
         "Name=\"Microsoft-Windows-Sysmon\"/><EventID>13</EventID></System>"
         "<EventData><Data Name=\"EventType\">SetValue</Data><Data "
         "Name=\"TargetObject\">HKLM\\A\\v</Data></EventData></Event>\n"
         "<Event xmlns=\"x\"><System><EventID>13</EventID></System><EventData><Data "
         "Name=\"x\">unclosed</EventData></Event>\n";
  ReadStats stats;
  std::string error;
  bool ok = true;
  const auto events = read_all((tmp / "broken.xml").string(), stats, error, ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(events.size(), 1u);
  EXPECT_NE(error.find("event 2"), std::string::npos) << error;
  fs::remove_all(tmp);
}

TEST(Replay, DefenderTamperingSamplesAreDeniedOrReported) {
  const auto policy = test::default_policy();
  ASSERT_TRUE(policy);
  const PolicyView& view = policy->view;
  auto scratch = std::make_unique<DecisionScratch>();
  // Defender's own keys and services, changed by anything but Defender itself (its own writes are
  // Defender working, not tampering).
  const std::regex defender(
      R"(\\Windows Defender(\\|$)|\\(WinDefend|WdFilter|WdBoot|WdNisDrv|WdNisSvc|MpHardCodedBlockHive)(\\|$))",
      std::regex::icase);
  if (!fs::exists(kData / "evtx") && !fs::exists(kData / "otrf")) {
    GTEST_SKIP() << "no shared data at " << kData << " (the Sysmon samples come from there)";
  }
  int samples = 0;
  std::vector<fs::path> logs = {kData / "evtx" / "registry_events_all.jsonl.gz",
                                kData / "otrf" / "registry_events.jsonl.gz"};
  if (fs::exists(kData / "evtx" / "sample_xml")) {
    for (const auto& e : fs::directory_iterator(kData / "evtx" / "sample_xml"))
      logs.push_back(e.path());
  }
  for (const auto& log : logs) {
    if (!fs::exists(log)) continue;
    ReadStats stats;
    std::string error;
    bool ok = false;
    for (const auto& e : read_all(log.string(), stats, error, ok)) {
      std::string why;
      const auto m = map_event(e, why);
      if (!m) continue;
      const std::string key = utf16_to_utf8(m->key_text), value = utf16_to_utf8(m->request.value);
      if (!std::regex_search(key, defender)) continue;
      if (classify_process(view, m->request.process, *scratch).flags & process_flag::kAvService)
        continue;  // Defender itself
      const Decision d = test::decide_key_text(view, m->request, m->key_text, *scratch);
      std::printf("[ defender ] %s %s %s:%s -> %s (%s)\n", log.filename().c_str(),
                  std::string(traits(m->request.op).name).c_str(), key.c_str(), value.c_str(),
                  verdict_name(d.verdict), reason_name(d.reason));
      EXPECT_TRUE(d.verdict == Verdict::kDeny || d.notify != NotifyMode::kNone)
          << key << " " << value;
      ++samples;
    }
  }
  EXPECT_GT(samples, 0);
}

}  // namespace
}  // namespace hivewarden::replay
