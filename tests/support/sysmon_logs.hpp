// Sysmon registry logs of a stated shape for the `replay --jobs` tests: many small files, a large
// JSON-lines log, the same gzip'ed, logs damaged in the middle or cut short. Times repeat and go
// backwards, so the time order and its ties (broken by file, then position) matter.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "files.hpp"
#include "gzip.hpp"

namespace hivewarden::test {

// The i-th event of log `seed`: Sysmon 12/13/14 on keys the default policy watches and keys it
// does not, a non-Sysmon record now and then (skipped), a ProcessId that is not a number (not
// mapped).
inline std::string sysmon_json_line(int seed, int i) {
  static const char* const kTargets[] = {
      "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\updater",
      "HKLM\\\\SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows Defender\\\\DisableAntiSpyware",
      "HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\WinDefend\\\\Start",
      "HKU\\\\S-1-5-21-1-2-3-1001\\\\Software\\\\Vendor\\\\App\\\\Setting",
      "HKLM\\\\SOFTWARE\\\\Classes\\\\CLSID\\\\{0}\\\\InprocServer32\\\\(Default)"};
  char time[40];
  std::snprintf(time, sizeof time, "2019-07-19 14:%02d:%02d.%03d", (i * 7 + seed) % 60,
                (i * 13) % 60, (i * 37) % 1000);
  if (i % 17 == 5) {
    return "{\"EventID\":4656,\"SourceName\":\"Microsoft-Windows-Security-Auditing\",\"UtcTime\":"
           "\"" +
           std::string(time) + "\"}\n";
  }
  static const char* const kTypes[] = {"CreateKey", "SetValue", "DeleteValue", "DeleteKey"};
  const int id = 12 + (i % 3 == 1 ? 1 : 0);
  const std::string type = id == 13 ? "SetValue" : kTypes[(i / 3) % 4 == 1 ? 0 : (i / 3) % 4];
  return "{\"EventID\":" + std::to_string(id) +
         ",\"SourceName\":\"Microsoft-Windows-Sysmon\",\"EventType\":\"" + type +
         "\",\"UtcTime\":\"" + time + "\",\"Image\":\"C:\\\\Tools\\\\tool" + std::to_string(i % 5) +
         ".exe\",\"ProcessGuid\":\"{g-" + std::to_string(seed) +
         "}\",\"ProcessId\":" + (i % 29 == 7 ? "\"x12\"" : std::to_string(1000 + i % 50)) +
         ",\"ThreadId\":" + std::to_string(i % 11) + ",\"TargetObject\":\"" + kTargets[i % 5] +
         "\",\"Details\":\"DWORD (0x0000000" + std::to_string(i % 2) + ")\",\"Computer\":\"pc" +
         std::to_string(seed) + "\"}\n";
}

inline std::string sysmon_json_lines(int seed, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += sysmon_json_line(seed, i);
  return text;
}

// The same events as XML (wevtutil's form), one <Event> each.
inline std::string sysmon_xml_events(int seed, int count) {
  std::string text = "<Events>\n";
  for (int i = 0; i < count; ++i) {
    char time[40];
    std::snprintf(time, sizeof time, "2019-07-19 14:%02d:%02d.%03d", (i * 11 + seed) % 60,
                  (i * 3) % 60, (i * 41) % 1000);
    text += "<Event><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>" +
            std::to_string(i % 2 == 0 ? 12 : 13) +
            "</EventID><Execution ThreadID=\"7\"/><Computer>xml" + std::to_string(seed) +
            "</Computer></System><EventData><Data Name=\"EventType\">" +
            (i % 2 == 0 ? "CreateKey" : "SetValue") + "</Data><Data Name=\"UtcTime\">" + time +
            "</Data><Data Name=\"Image\">C:\\x.exe</Data><Data Name=\"ProcessId\">4</Data>"
            "<Data Name=\"TargetObject\">HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\"
            "Run\\x" +
            std::to_string(i) +
            "</Data><Data Name=\"Details\">C:\\x.exe</Data></EventData></Event>\n";
  }
  return text + "</Events>\n";
}

// The logs the `--jobs` tests read, in this order, written to `dir`: 12 small JSON and XML logs,
// a missing one, a large JSON-lines log and its gzip (several batches), one damaged in a record
// the scanner passes (a decoding error), one damaged between records (a scanning error), a gzip
// cut short, an XML log damaged in the middle, a directory.
inline std::vector<std::string> jobs_test_logs(const TempDir& dir, int large = 5000) {
  std::vector<std::string> logs;
  for (int seed = 0; seed < 12; ++seed) {
    const std::string name = "small" + std::to_string(seed);
    logs.push_back(seed % 3 == 2
                       ? dir.write(name + ".xml", sysmon_xml_events(seed, 3 + seed)).string()
                       : dir.write(name + ".jsonl", sysmon_json_lines(seed, 2 + seed)).string());
  }
  logs.push_back((dir / "missing.jsonl").string());
  const std::string big = sysmon_json_lines(100, large);
  logs.push_back(dir.write("large.jsonl", big).string());
  logs.push_back(dir.write("large.jsonl.gz", gzip(big)).string());
  std::string decode_damage = sysmon_json_lines(101, large / 2);
  decode_damage +=
      "{\"EventID\": 12, \"TargetObject\": oops}\n" + sysmon_json_lines(102, large / 2);
  logs.push_back(dir.write("decode_damage.jsonl", decode_damage).string());
  const std::string scan_damage =
      sysmon_json_lines(103, large / 2) + "not json\n" + sysmon_json_lines(104, large / 2);
  logs.push_back(dir.write("scan_damage.jsonl", scan_damage).string());
  const std::string zipped = gzip(sysmon_json_lines(105, large));
  logs.push_back(dir.write("cut.jsonl.gz", zipped.substr(0, zipped.size() / 2)).string());
  std::string xml = sysmon_xml_events(106, 700);
  xml.insert(xml.find("<Event>", xml.size() / 2), "<Event><System></Event>\n");
  logs.push_back(dir.write("damaged.xml", xml).string());
  std::filesystem::create_directories(dir / "a_directory");
  logs.push_back((dir / "a_directory").string());
  logs.push_back(dir.write("last.jsonl", sysmon_json_lines(107, 40)).string());
  return logs;
}

}  // namespace hivewarden::test
