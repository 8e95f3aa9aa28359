// JSON events: one object per line or pretty-printed one after another, plain or gzip, in the
// shapes the shared data and common collectors use.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hivewarden/replay/byte_source.hpp"
#include "hivewarden/replay/readers.hpp"
#include "record_stream.hpp"

namespace hivewarden::replay {
namespace {

// Splits the byte stream into events: objects one per line or pretty-printed one after another,
// or the elements of top-level arrays (ConvertTo-Json and other exporters write one array of
// events), an array streamed one element at a time, so it may be longer than one event's limit.
// The length and nesting limits are checked before anything is parsed.
// The bytes take_object has to look at: in a string the quote, the backslash and the newline
// (lines are counted everywhere); outside one also the brackets.
constexpr std::array<bool, 256> stop_table(bool in_string) {
  std::array<bool, 256> stops{};
  stops['\n'] = stops['"'] = true;
  if (in_string) {
    stops['\\'] = true;
  } else {
    stops['{'] = stops['}'] = stops['['] = stops[']'] = true;
  }
  return stops;
}
constexpr std::array<bool, 256> kStringStops = stop_table(true);
constexpr std::array<bool, 256> kStructureStops = stop_table(false);

// How many bytes of a string's text come before its next stop (quote, backslash, newline): most
// of a record is string text, so it is searched sixteen bytes at a time where SSE2 is there.
std::size_t string_text_run(const char* text, std::size_t size) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i newline = _mm_set1_epi8('\n');
  for (; i + 16 <= size; i += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i));
    const __m128i stops =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                     _mm_cmpeq_epi8(bytes, newline));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(stops));
    if (mask != 0) return i + static_cast<std::size_t>(std::countr_zero(mask));
  }
#endif
  while (i < size && !kStringStops[static_cast<unsigned char>(text[i])]) ++i;
  return i;
}

class RecordScanner {
 public:
  explicit RecordScanner(ByteSource& in) : in_(in) {}
  enum class Result { kRecord, kEnd, kError };

  Result next(std::string& record, std::string& why) {
    int c = skip_space();
    while (true) {
      start_line_ = line_;
      if (c < 0) {
        if (!in_.failure().empty()) return fail(in_.failure(), why);
        return arrays_ == 0 ? Result::kEnd
                            : fail("cut short: the file ends inside an array of events", why);
      }
      if (arrays_ > 0 && after_element_) {  // between the elements of an array
        if (c == ']') {
          close_array();
        } else if (c != ',') {
          return fail("expected ',' or ']' after an element of an array, found byte " + byte(c),
                      why);
        }
        after_element_ = c == ']' ? arrays_ > 0 : false;
        just_opened_ = false;
        c = skip_space();
        continue;
      }
      if (c == ']' && arrays_ > 0 && just_opened_) {  // []
        close_array();
        just_opened_ = false;
        after_element_ = arrays_ > 0;
        c = skip_space();
        continue;
      }
      if (c == '[') {
        if (arrays_ >= kMaxNesting) return fail(too_deep(), why);
        ++arrays_;
        just_opened_ = true;
        c = skip_space();
        continue;
      }
      if (c != '{') return fail("not a JSON object: it starts with byte " + byte(c), why);
      just_opened_ = false;
      after_element_ = arrays_ > 0;
      return take_object(c, record, why);
    }
  }
  std::uint64_t start_line() const { return start_line_; }

 private:
  // One object from its `{`, counting its nesting from the arrays it stands in. The bytes are
  // taken a buffered span at a time and appended whole (every part of a fleet split scans the
  // whole text, docs/SCALE.md); the checks are those of a byte at a time, in the same order. Runs
  // of bytes that change nothing (most of a record is string text) are skipped by table.
  Result take_object(int c, std::string& record, std::string& why) {
    record.assign(1, static_cast<char>(c));
    int depth = arrays_ + 1;
    if (depth > kMaxNesting) return fail(too_deep(), why);
    bool in_string = false, escaped = false;
    while (true) {
      const std::string_view span = in_.buffered();
      if (span.empty())
        return fail(in_.failure().empty() ? "cut short: the file ends inside it" : in_.failure(),
                    why);
      if (record.size() >= kMaxRecordBytes)
        return fail("longer than the limit of " + std::to_string(kMaxRecordBytes) + " bytes", why);
      const std::size_t n = std::min(span.size(), kMaxRecordBytes - record.size());
      std::size_t i = 0;
      if (escaped) {  // the byte after a backslash that ended the last span
        escaped = false;
        if (span[i++] == '\n') ++line_;
      }
      while (i < n) {
        if (in_string) {
          i += string_text_run(span.data() + i, n - i);
        } else {
          while (i < n && !kStructureStops[static_cast<unsigned char>(span[i])]) ++i;
        }
        if (i == n) break;
        const char b = span[i++];
        if (b == '\n') {
          ++line_;
        } else if (in_string) {
          if (b == '"') {
            in_string = false;
          } else if (i < n) {  // a backslash: the next byte is taken whatever it is
            if (span[i++] == '\n') ++line_;
          } else {
            escaped = true;
          }
        } else if (b == '"') {
          in_string = true;
        } else if (b == '{' || b == '[') {
          if (++depth > kMaxNesting) return fail(too_deep(), why);
        } else if (--depth == arrays_) {  // `}` or `]`
          record.append(span.data(), i);
          in_.consume(i);
          return Result::kRecord;
        }
      }
      record.append(span.data(), n);
      in_.consume(n);
    }
  }
  void close_array() { --arrays_; }
  int skip_space() {
    int c = in_.get();
    if (first_ && c == 0xEF && in_.get() == 0xBB && in_.get() == 0xBF)
      c = in_.get();  // a UTF-8 byte order mark
    first_ = false;
    while (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (c == '\n') ++line_;
      c = in_.get();
    }
    return c;
  }
  static std::string byte(int c) {
    char hex[12];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(c) & 0xFFu);
    return hex;
  }
  static std::string too_deep() {
    return "nested deeper than the limit of " + std::to_string(kMaxNesting);
  }
  static Result fail(std::string text, std::string& why) {
    why = std::move(text);
    return Result::kError;
  }

  ByteSource& in_;
  std::uint64_t line_ = 1, start_line_ = 1;
  int arrays_ = 0;  // top-level arrays open around the next event
  bool first_ = true, after_element_ = false, just_opened_ = false;
};

// A field's text: a string as is, a number as written; evtx_dump writes an element with attributes
// as {"#attributes": ..., "#text": value}.
std::string text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_unsigned()) return std::to_string(j.get<std::uint64_t>());
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  if (j.is_object() && j.contains("#text")) return text(j["#text"]);
  return {};
}

// A numeric field's text: as text(), but a value of another kind (a fraction, true, an object) is
// kept as written, so it is reported rather than read as absent.
std::string number_text(const nlohmann::json& j) {
  std::string t = text(j);
  if (!t.empty() || j.is_string() || j.is_null() || (j.is_object() && j.contains("#text")))
    return t;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const nlohmann::json* field(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// Finds the event id, provider and the event data object in any of the known shapes.
void locate(const nlohmann::json& j, std::string& id, std::string& provider,
            const nlohmann::json*& data, std::string& computer) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  data = &kEmpty;
  if (const auto* e = field(j, {"Event"})) {  // evtx_dump
    if (const auto* v = field(*e, {"System", "EventID"})) id = number_text(*v);
    if (const auto* v = field(*e, {"System", "Provider", "#attributes", "Name"}))
      provider = text(*v);
    if (const auto* v = field(*e, {"System", "Computer"})) computer = text(*v);
    if (const auto* v = field(*e, {"EventData"})) data = v;
    return;
  }
  if (const auto* w = field(j, {"winlog"})) {  // Winlogbeat
    if (const auto* v = field(*w, {"event_id"})) id = number_text(*v);
    if (const auto* v = field(*w, {"provider_name"})) provider = text(*v);
    if (const auto* v = field(*w, {"computer_name"})) computer = text(*v);
    if (const auto* v = field(*w, {"event_data"})) data = v;
    return;
  }
  if (const auto* v = field(j, {"EventID"}))
    id = number_text(*v);  // normalized, or raw top-level fields
  if (const auto* v = field(j, {"Provider"})) provider = text(*v);
  if (const auto* v = field(j, {"SourceName"}); v && provider.empty()) provider = text(*v);
  if (const auto* v = field(j, {"Computer"})) computer = text(*v);
  if (const auto* v = field(j, {"Hostname"}); v && computer.empty()) computer = text(*v);
  data = field(j, {"EventData"}) ? field(j, {"EventData"}) : &j;
}

// The records of a JSON log: scanned one after another, each decoded on its own (in parallel by
// read_logs_in_order).
class JsonRecords final : public RecordStream {
 public:
  JsonRecords(ByteSource& bytes, const std::string& path) : scanner_(bytes), path_(path) {}

  Scan next(RawRecord& record, std::string& error) override {
    std::string why;
    const RecordScanner::Result r = scanner_.next(record.text, why);
    if (r == RecordScanner::Result::kEnd) return Scan::kEnd;
    record.index = ++index_;
    record.line = scanner_.start_line();
    if (r == RecordScanner::Result::kRecord) return Scan::kRecord;
    error = message(record, why);
    return Scan::kError;
  }

  bool decode(const RawRecord& record, const EventSink& sink, ReadStats& stats,
              std::string& error) const override {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(record.text);
    } catch (const nlohmann::json::exception& e) {
      error = message(record, e.what());
      return false;
    }
    ++stats.records;
    std::string id, provider, computer;
    const nlohmann::json* data = nullptr;
    locate(j, id, provider, data, computer);
    const bool sysmon = provider.find("Sysmon") != std::string::npos ||
                        (provider.empty() && field(*data, {"TargetObject"}));
    RegistryEvent e;
    if (!sort_record(provider, sysmon, id, e, stats)) return true;
    e.source = path_;
    e.index = record.index;
    e.computer = computer;
    auto get = [&](const char* name, std::string (*as)(const nlohmann::json&) = text) {
      const auto* v = field(*data, {name});
      return v ? as(*v) : std::string();
    };
    e.event_type = get("EventType");
    e.target_object = get("TargetObject");
    e.details = get("Details");
    e.new_name_path = get("NewName");
    e.image = get("Image");
    e.process_guid = get("ProcessGuid");
    e.utc_time = get("UtcTime");
    read_number_field("ProcessId", get("ProcessId", number_text), e.pid, e);
    read_number_field("ThreadId", get("ThreadId", number_text), e.thread, e);
    e.time_key = parse_utc_time(e.utc_time);
    ++stats.registry;
    sink(std::move(e));
    return true;
  }

 private:
  std::string message(const RawRecord& record, const std::string& why) const {
    return path_ + ":" + std::to_string(record.line) + ": event " + std::to_string(record.index) +
           ": " + why + " (every event before it was read)";
  }

  RecordScanner scanner_;
  std::string path_;
  std::uint64_t index_ = 0;
};

}  // namespace

std::unique_ptr<RecordStream> json_records(ByteSource& bytes, const std::string& path) {
  return std::make_unique<JsonRecords>(bytes, path);
}

bool read_json_events(ByteSource& bytes, const std::string& path, const EventSink& sink,
                      ReadStats& stats, std::string& error) {
  return read_records(*json_records(bytes, path), sink, stats, error);
}

bool read_json_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                      std::string& error) {
  ByteSource bytes;
  return bytes.open(path, error) && read_json_events(bytes, path, sink, stats, error);
}

}  // namespace hivewarden::replay
