// XML events (wevtutil qe /f:xml, evtxexport, python-evtx) and EVTX files through libevtx, whose
// records are read as the same XML.
#include <libevtx.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/hex.hpp"
#include "record_stream.hpp"

namespace hivewarden::replay {
namespace {

// How deep the elements of `xml` nest, counted up to just past `limit` (comments, CDATA and
// declarations are skipped; an attribute holding '>' can only make the count larger).
int element_depth(std::string_view xml, int limit) {
  int depth = 0, deepest = 0;
  for (std::size_t at = xml.find('<'); at != std::string_view::npos && deepest <= limit;
       at = xml.find('<', at + 1)) {
    if (xml.compare(at, 4, "<!--") == 0) {
      at = xml.find("-->", at);
    } else if (xml.compare(at, 9, "<![CDATA[") == 0) {
      at = xml.find("]]>", at);
    } else if (at + 1 < xml.size() && xml[at + 1] == '/') {
      --depth;
    } else if (at + 1 < xml.size() && xml[at + 1] != '!' && xml[at + 1] != '?') {
      const std::size_t close = xml.find('>', at);
      if (close == std::string_view::npos || xml[close - 1] != '/')
        deepest = std::max(deepest, ++depth);
    }
    if (at == std::string_view::npos) break;
  }
  return deepest;
}

// One <Event> element: false with `why` when it is too deep or not well-formed XML.
bool parse_event(const char* xml, std::size_t size, const std::string& source, std::uint64_t index,
                 const EventSink& sink, ReadStats& stats, std::string& why) {
  if (element_depth(std::string_view(xml, size), kMaxNesting) > kMaxNesting) {
    why = "elements nested deeper than the limit of " + std::to_string(kMaxNesting);
    return false;
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(xml, size, pugi::parse_default, pugi::encoding_utf8);
  const pugi::xml_node event = doc.child("Event");
  if (!parsed || !event) {
    why = std::string("not well-formed XML (") +
          (parsed ? "no <Event> element" : parsed.description()) + ")";
    return false;
  }
  ++stats.records;
  const pugi::xml_node system = event.child("System");
  const std::string provider = system.child("Provider").attribute("Name").as_string();
  RegistryEvent e;
  if (!sort_record(provider, provider.find("Sysmon") != std::string::npos,
                   system.child("EventID").text().as_string(), e, stats))
    return true;
  e.source = source;
  e.index = index;
  e.computer = system.child("Computer").text().as_string();
  for (const pugi::xml_node data : event.child("EventData").children("Data")) {
    const std::string name = data.attribute("Name").as_string();
    const std::string value = data.text().as_string();
    if (name == "EventType")
      e.event_type = value;
    else if (name == "TargetObject")
      e.target_object = value;
    else if (name == "Details")
      e.details = value;
    else if (name == "NewName")
      e.new_name_path = value;
    else if (name == "Image")
      e.image = value;
    else if (name == "ProcessGuid")
      e.process_guid = value;
    else if (name == "UtcTime")
      e.utc_time = value;
    else if (name == "ProcessId")
      read_number_field("ProcessId", value, e.pid, e);
  }
  read_number_field("ThreadID", system.child("Execution").attribute("ThreadID").as_string(),
                    e.thread, e);
  e.time_key = parse_utc_time(e.utc_time);
  ++stats.registry;
  sink(std::move(e));
  return true;
}

// Reads an XML log a chunk at a time, never holding more than one event. Between events only
// markup that is not an event may stand (<?xml?>, <Events>, </Events>, comments) and, before the
// first event, evtxexport's banner line; anything else is damage.
class XmlScanner {
 public:
  explicit XmlScanner(ByteSource& in) : in_(in) {}
  enum class Result { kEvent, kEnd, kError };

  Result next(std::string_view& event, std::string& why) {
    while (true) {
      skip_space();
      if (at_ == buffer_.size()) return Result::kEnd;
      line_at_item_ = line_;
      if (buffer_[at_] != '<') {
        if (!seen_event_ && buffer_.compare(at_, 10, "evtxexport") == 0 && skip_past("\n", why))
          continue;
        why = "text outside an <Event> element";
        return Result::kError;
      }
      more(16);
      if (starts("<?")) {
        if (!skip_past("?>", why)) return Result::kError;
      } else if (starts("<!--")) {
        if (!skip_past("-->", why)) return Result::kError;
      } else if (starts_element("<Events") || starts("</Events>")) {
        if (!skip_past(">", why)) return Result::kError;
      } else if (starts_element("<Event")) {
        return take_event(event, why);
      } else {
        why = "markup outside an <Event> element";
        return Result::kError;
      }
    }
  }
  // The line where the last event (or the damage) starts.
  std::uint64_t line() const { return line_at_item_; }
  // Whether the damage is inside an <Event> (cut short or too long) rather than between events.
  bool failed_inside_event() const { return failed_inside_event_; }

 private:
  // Drops what was consumed and reads until `want` bytes from at_ are held or the file ends.
  bool more(std::size_t want) {
    if (at_ > 0) {
      buffer_.erase(0, at_);
      at_ = 0;
    }
    char chunk[1 << 16];
    while (buffer_.size() < want) {
      const std::size_t n = in_.read(chunk, sizeof chunk);
      if (n == 0) break;
      buffer_.append(chunk, n);
    }
    return buffer_.size() >= want;
  }
  void advance(std::size_t to) {
    line_ += static_cast<std::uint64_t>(
        std::count(buffer_.begin() + static_cast<std::ptrdiff_t>(at_),
                   buffer_.begin() + static_cast<std::ptrdiff_t>(to), '\n'));
    at_ = to;
  }
  void skip_space() {
    while (true) {
      while (at_ < buffer_.size() && std::isspace(static_cast<unsigned char>(buffer_[at_])))
        advance(at_ + 1);
      if (at_ < buffer_.size() || !more(1)) return;
    }
  }
  bool starts(std::string_view s) const { return buffer_.compare(at_, s.size(), s) == 0; }
  bool starts_element(std::string_view name) const {
    const std::size_t next = at_ + name.size();
    return starts(name) && next < buffer_.size() &&
           (buffer_[next] == '>' || std::isspace(static_cast<unsigned char>(buffer_[next])));
  }
  // Finds `end` from at_, reading on while the item stays within kMaxRecordBytes.
  std::size_t find_end(std::string_view end, std::string& why) {
    std::size_t searched = 0;
    while (true) {
      const std::size_t found = buffer_.find(end, at_ + searched);
      if (found != std::string::npos && found + end.size() - at_ <= kMaxRecordBytes)
        return found + end.size();
      if (buffer_.size() - at_ > kMaxRecordBytes) {
        why = "longer than the limit of " + std::to_string(kMaxRecordBytes) + " bytes";
        return std::string::npos;
      }
      searched = buffer_.size() - at_ >= end.size() ? buffer_.size() - at_ - end.size() + 1 : 0;
      if (!more(buffer_.size() + 1)) {
        why = in_.failure().empty() ? "cut short: the file ends inside it" : in_.failure();
        return std::string::npos;
      }
    }
  }
  bool skip_past(std::string_view end, std::string& why) {
    const std::size_t past = find_end(end, why);
    if (past == std::string::npos) return false;
    advance(past);
    return true;
  }
  Result take_event(std::string_view& event, std::string& why) {
    const std::size_t past = find_end("</Event>", why);
    if (past == std::string::npos) {
      failed_inside_event_ = true;
      return Result::kError;
    }
    seen_event_ = true;
    event = std::string_view(buffer_).substr(at_, past - at_);
    advance(past);
    return Result::kEvent;
  }

  ByteSource& in_;
  std::string buffer_;
  std::size_t at_ = 0;
  std::uint64_t line_ = 1, line_at_item_ = 1;
  bool seen_event_ = false, failed_inside_event_ = false;
};

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

// libevtx hands out the records of the whole chunks and is silent about a file cut short inside a
// chunk, so the file's size is checked against the chunk count its header announces.
bool evtx_whole(const std::string& path, EvtxFile& f, std::uint64_t records, std::string& error) {
  constexpr std::uint64_t kChunkBytes = 65536;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto size = static_cast<std::uint64_t>(std::max<std::streamoff>(in.tellg(), 0));
  char header[0x2C] = {};
  in.seekg(0);
  in.read(header, sizeof header);
  const std::string_view fields(header, sizeof header);
  const std::uint64_t header_block = read_little_endian(fields.substr(0x28, 2)),
                      chunks = read_little_endian(fields.substr(0x2A, 2));
  const std::uint64_t expected = header_block + chunks * kChunkBytes;
  const std::string read = "; the " + std::to_string(records) + " records before it were read";
  if (!in || size < expected) {
    error = path + ": cut short at byte " + std::to_string(size) + ": the header announces " +
            std::to_string(chunks) + " chunks (" + std::to_string(expected) + " bytes)" + read;
    return false;
  }
  if (libevtx_file_is_corrupted(f.file, nullptr) == 1) {
    error = path + ": damaged after record " + std::to_string(records) +
            " (libevtx found a corrupted chunk)" + read;
    return false;
  }
  return true;
}

bool ends_with(std::string_view text, std::string_view end) {
  return text.size() > end.size() && text.substr(text.size() - end.size()) == end;
}

}  // namespace

namespace {

// The records of an XML log (or of evtxexport's text), scanned in turn, each decoded on its own.
class XmlRecords final : public RecordStream {
 public:
  XmlRecords(ByteSource& bytes, const std::string& path)
      : bytes_(bytes), scanner_(bytes), path_(path) {}

  Scan next(RawRecord& record, std::string& error) override {
    std::string_view event;
    std::string why;
    XmlScanner::Result r = scanner_.next(event, why);
    if (r == XmlScanner::Result::kEnd && bytes_.failure().empty()) return Scan::kEnd;
    if (r == XmlScanner::Result::kEnd) {  // damage in the compressed bytes, between events
      r = XmlScanner::Result::kError;
      why = bytes_.failure();
    }
    if (r == XmlScanner::Result::kEvent) {
      record.text.assign(event);
      record.index = ++index_;
      record.line = scanner_.line();
      return Scan::kRecord;
    }
    if (scanner_.failed_inside_event()) ++index_;
    const std::string where = scanner_.failed_inside_event() ? "event " + std::to_string(index_)
                              : index_ == 0                  ? std::string("before the first event")
                                            : "after event " + std::to_string(index_);
    error = message(scanner_.line(), where, why);
    return Scan::kError;
  }

  bool decode(const RawRecord& record, const EventSink& sink, ReadStats& stats,
              std::string& error) const override {
    std::string why;
    if (parse_event(record.text.data(), record.text.size(), path_, record.index, sink, stats, why))
      return true;
    error = message(record.line, "event " + std::to_string(record.index), why);
    return false;
  }

 private:
  std::string message(std::uint64_t line, const std::string& where, const std::string& why) const {
    return path_ + ":" + std::to_string(line) + ": " + where + ": " + why +
           " (every event before it was read)";
  }

  ByteSource& bytes_;
  XmlScanner scanner_;
  std::string path_;
  std::uint64_t index_ = 0;
};

}  // namespace

std::unique_ptr<RecordStream> xml_records(ByteSource& bytes, const std::string& path) {
  return std::make_unique<XmlRecords>(bytes, path);
}

bool read_xml_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                     std::string& error) {
  ByteSource bytes;
  return bytes.open(path, error) && read_xml_events(bytes, path, sink, stats, error);
}

bool read_xml_events(ByteSource& bytes, const std::string& path, const EventSink& sink,
                     ReadStats& stats, std::string& error) {
  return read_records(*xml_records(bytes, path), sink, stats, error);
}

bool read_evtx_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                      std::string& error) {
  EvtxFile f;
  libevtx_error_t* e = nullptr;
  if (libevtx_file_initialize(&f.file, &e) != 1 ||
      libevtx_file_open(f.file, path.c_str(), LIBEVTX_OPEN_READ, &e) != 1) {
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
      error = path + ": record " + std::to_string(i + 1) + " of " + std::to_string(count) +
              " is damaged (" + evtx_error(e) + "); every record before it was read";
      return false;
    }
    if (size > kMaxRecordBytes) {
      libevtx_record_free(&record, nullptr);
      error = path + ": record " + std::to_string(i + 1) +
              ": its XML is longer than the limit of " + std::to_string(kMaxRecordBytes) +
              " bytes; every record before it was read";
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
    std::string why;
    if (!parse_event(reinterpret_cast<const char*>(xml.data()), length, path,
                     static_cast<std::uint64_t>(i + 1), sink, stats, why)) {
      error = path + ": record " + std::to_string(i + 1) + ": " + why +
              "; every record before it was read";
      return false;
    }
  }
  return evtx_whole(path, f, static_cast<std::uint64_t>(count), error);
}

LogKind log_kind(const ByteSource& bytes, const std::string& path, std::string& error) {
  if (bytes.stored_head().substr(0, 7) != "ElfFile") return LogKind::kText;
  if (!bytes.regular_file()) {  // libevtx reads a file by seeking in it
    error = path + ": an EVTX log must be a regular file, not a pipe or device (save it first)";
    return LogKind::kError;
  }
  return LogKind::kEvtx;
}

std::unique_ptr<RecordStream> text_records(ByteSource& bytes, const std::string& path) {
  const std::string_view name = bytes.gzip() && ends_with(path, ".gz")
                                    ? std::string_view(path).substr(0, path.size() - 3)
                                    : std::string_view(path);
  if (ends_with(name, ".xml") || bytes.peek() == '<') return xml_records(bytes, path);
  return json_records(bytes, path);
}

bool read_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                 std::string& error) {
  return read_events(path, sink, stats, error, ReadPart{});
}

bool read_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                 std::string& error, ReadPart part) {
  ByteSource bytes;
  if (!bytes.open(path, error)) return false;
  switch (log_kind(bytes, path, error)) {
    case LogKind::kError:
      return false;
    case LogKind::kEvtx:
      return part.index != 0 || read_evtx_events(path, sink, stats, error);
    case LogKind::kText:
      break;
  }
  return read_records(*text_records(bytes, path), sink, stats, error, part);
}

}  // namespace hivewarden::replay
