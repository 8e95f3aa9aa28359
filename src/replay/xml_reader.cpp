// XML events (wevtutil qe /f:xml, evtxexport, python-evtx) and EVTX files through libevtx, whose
// records are read as the same XML.
#include <libevtx.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include <pugixml.hpp>

#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {
namespace {

// One <Event> element: false when it is not well-formed XML.
bool parse_event(const char* xml, std::size_t size, const std::string& source, std::uint64_t index, const EventSink& sink,
                 ReadStats& stats) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml, size, pugi::parse_default, pugi::encoding_utf8)) return false;
  const pugi::xml_node event = doc.child("Event");
  if (!event) return false;
  ++stats.records;
  const pugi::xml_node system = event.child("System");
  const std::string provider = system.child("Provider").attribute("Name").as_string();
  const std::uint32_t id = system.child("EventID").text().as_uint();
  if (provider.find("Sysmon") == std::string::npos || (id != 12 && id != 13 && id != 14)) {
    ++stats.skipped[(provider.empty() ? std::string("?") : provider) + " " + std::to_string(id)];
    return true;
  }
  RegistryEvent e;
  e.source = source;
  e.index = index;
  e.event_id = id;
  e.computer = system.child("Computer").text().as_string();
  for (const pugi::xml_node data : event.child("EventData").children("Data")) {
    const std::string name = data.attribute("Name").as_string();
    const std::string value = data.text().as_string();
    if (name == "EventType") e.event_type = value;
    else if (name == "TargetObject") e.target_object = value;
    else if (name == "Details") e.details = value;
    else if (name == "NewName") e.new_name_path = value;
    else if (name == "Image") e.image = value;
    else if (name == "ProcessGuid") e.process_guid = value;
    else if (name == "UtcTime") e.utc_time = value;
    else if (name == "ProcessId") e.pid = static_cast<std::uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
  }
  e.thread = system.child("Execution").attribute("ThreadID").as_uint();
  e.time_key = parse_utc_time(e.utc_time);
  ++stats.registry;
  sink(std::move(e));
  return true;
}

struct EvtxFile {
  libevtx_file_t* file = nullptr;
  ~EvtxFile() {
    if (file) {
      libevtx_file_close(file, nullptr);
      libevtx_file_free(&file, nullptr);
    }
  }
};

std::string evtx_error(libevtx_error_t* error) {
  char text[512] = "";
  if (error) {
    libevtx_error_sprint(error, text, sizeof text);
    libevtx_error_free(&error);
  }
  return text;
}

}  // namespace

bool read_xml_events(const std::string& path, const EventSink& sink, ReadStats& stats, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::size_t at = 0;
  std::uint64_t index = 0;
  while ((at = text.find("<Event", at)) != std::string::npos) {
    const char next = at + 6 < text.size() ? text[at + 6] : '\0';
    if (next != ' ' && next != '>') {  // <Events>, <EventData>, <EventID>: not an event
      at += 6;
      continue;
    }
    ++index;
    const std::size_t end = text.find("</Event>", at);
    if (end == std::string::npos || !parse_event(text.data() + at, end + 8 - at, path, index, sink, stats)) {
      const std::size_t line = static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
      error = path + ":" + std::to_string(line) + ": event " + std::to_string(index) +
              (end == std::string::npos ? " is cut short" : " is not well-formed XML") + " (every event before it was read)";
      return false;
    }
    at = end + 8;
  }
  return true;
}

bool read_evtx_events(const std::string& path, const EventSink& sink, ReadStats& stats, std::string& error) {
  EvtxFile f;
  libevtx_error_t* e = nullptr;
  if (libevtx_file_initialize(&f.file, &e) != 1 || libevtx_file_open(f.file, path.c_str(), LIBEVTX_OPEN_READ, &e) != 1) {
    error = path + ": not a readable EVTX file (" + evtx_error(e) + ")";
    if (f.file && e == nullptr) libevtx_file_free(&f.file, nullptr);
    return false;
  }
  int count = 0;
  if (libevtx_file_get_number_of_records(f.file, &count, &e) != 1) {
    error = path + ": " + evtx_error(e);
    return false;
  }
  std::vector<std::uint8_t> xml;
  for (int i = 0; i < count; ++i) {
    libevtx_record_t* record = nullptr;
    std::size_t size = 0;
    if (libevtx_file_get_record_by_index(f.file, i, &record, &e) != 1 ||
        libevtx_record_get_utf8_xml_string_size(record, &size, &e) != 1) {
      if (record) libevtx_record_free(&record, nullptr);
      error = path + ": record " + std::to_string(i + 1) + " of " + std::to_string(count) + " is damaged (" + evtx_error(e) +
              "); every record before it was read";
      return false;
    }
    xml.resize(size);
    const int ok = libevtx_record_get_utf8_xml_string(record, xml.data(), size, &e);
    libevtx_record_free(&record, nullptr);
    if (ok != 1) {
      error = path + ": record " + std::to_string(i + 1) + ": " + evtx_error(e);
      return false;
    }
    const std::size_t length = size > 0 && xml[size - 1] == 0 ? size - 1 : size;
    if (!parse_event(reinterpret_cast<const char*>(xml.data()), length, path, static_cast<std::uint64_t>(i + 1), sink, stats)) {
      error = path + ": record " + std::to_string(i + 1) + " is not well-formed XML";
      return false;
    }
  }
  return true;
}

bool read_events(const std::string& path, const EventSink& sink, ReadStats& stats, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  if (!in.good() && in.gcount() == 0) {
    error = path + ": cannot open or empty";
    return false;
  }
  if (std::string(head, 7) == "ElfFile") return read_evtx_events(path, sink, stats, error);
  const bool gzip = static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b;
  if (!gzip && (path.size() > 4 && path.compare(path.size() - 4, 4, ".xml") == 0)) return read_xml_events(path, sink, stats, error);
  if (!gzip && head[0] == '<') return read_xml_events(path, sink, stats, error);
  return read_json_events(path, sink, stats, error);
}

}  // namespace hivewarden::replay
