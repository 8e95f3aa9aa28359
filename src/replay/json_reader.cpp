// JSON events: one object per line or pretty-printed one after another, plain or gzip, in the
// shapes the shared data and common collectors use.
#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {
namespace {

// The bytes of a file through zlib (which passes plain files through unchanged), never holding more
// than one buffer of them, and stopping a gzip file at kMaxGzipRatio times its compressed size.
class ByteSource {
 public:
  ByteSource(gzFile f, std::uint64_t compressed_size)
      : file_(f),
        gzip_limit_(std::max<std::uint64_t>(compressed_size * kMaxGzipRatio, kMaxRecordBytes)) {}
  ~ByteSource() { gzclose(file_); }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // The next byte, or -1 at the end or on a failure (then failure() says which).
  int get() {
    if (at_ == end_ && !refill()) return -1;
    return static_cast<unsigned char>(buffer_[at_++]);
  }
  const std::string& failure() const { return failure_; }

 private:
  bool refill() {
    if (!failure_.empty()) return false;
    const int n = gzread(file_, buffer_, sizeof buffer_);
    if (n <= 0) {
      int code = 0;
      gzerror(file_, &code);
      if (n < 0 || code == Z_BUF_ERROR || code == Z_DATA_ERROR)
        failure_ = "the compressed file is cut short or damaged";
      return false;
    }
    total_ += static_cast<std::uint64_t>(n);
    if (gzdirect(file_) == 0 && total_ > gzip_limit_) {
      failure_ = "the compressed file expands past the limit of " + std::to_string(kMaxGzipRatio) +
                 " times its size (" + std::to_string(gzip_limit_) + " bytes)";
      return false;
    }
    at_ = 0;
    end_ = static_cast<std::size_t>(n);
    return true;
  }

  gzFile file_;
  std::uint64_t gzip_limit_, total_ = 0;
  char buffer_[1 << 16];
  std::size_t at_ = 0, end_ = 0;
  std::string failure_;
};

// Splits the byte stream into JSON values (one per line or pretty-printed), each an object or an
// array, checking the length and nesting limits before anything is parsed.
class RecordScanner {
 public:
  explicit RecordScanner(ByteSource& in) : in_(in) {}
  enum class Result { kRecord, kEnd, kError };

  Result next(std::string& record, std::string& why) {
    int c = skip_space();
    start_line_ = line_;
    if (c < 0) return in_.failure().empty() ? Result::kEnd : fail(in_.failure(), why);
    if (c != '{' && c != '[') return fail(describe(c), why);
    record.clear();
    int depth = 0;
    bool in_string = false, escaped = false;
    while (true) {
      if (record.size() >= kMaxRecordBytes)
        return fail("longer than the limit of " + std::to_string(kMaxRecordBytes) + " bytes", why);
      record.push_back(static_cast<char>(c));
      if (c == '\n') ++line_;
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
        escaped = false;
      } else if (c == '{' || c == '[') {
        if (++depth > kMaxNesting)
          return fail("nested deeper than the limit of " + std::to_string(kMaxNesting), why);
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return Result::kRecord;
      }
      c = in_.get();
      if (c < 0)
        return fail(in_.failure().empty() ? "cut short: the file ends inside it" : in_.failure(),
                    why);
    }
  }
  std::uint64_t start_line() const { return start_line_; }

 private:
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
  static std::string describe(int c) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", c);
    return std::string("not a JSON object: it starts with byte ") + hex;
  }
  static Result fail(std::string text, std::string& why) {
    why = std::move(text);
    return Result::kError;
  }

  ByteSource& in_;
  std::uint64_t line_ = 1, start_line_ = 1;
  bool first_ = true;
};

std::string text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_unsigned()) return std::to_string(j.get<std::uint64_t>());
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  return {};
}

std::uint32_t number(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint32_t>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    try {
      return static_cast<std::uint32_t>(std::stoul(s, nullptr, s.rfind("0x", 0) == 0 ? 16 : 10));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
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
void locate(const nlohmann::json& j, std::uint32_t& id, std::string& provider,
            const nlohmann::json*& data, std::string& computer) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  data = &kEmpty;
  if (const auto* e = field(j, {"Event"})) {  // evtx_dump
    if (const auto* v = field(*e, {"System", "EventID"})) id = number(*v);
    if (const auto* v = field(*e, {"System", "Provider", "#attributes", "Name"}))
      provider = text(*v);
    if (const auto* v = field(*e, {"System", "Computer"})) computer = text(*v);
    if (const auto* v = field(*e, {"EventData"})) data = v;
    return;
  }
  if (const auto* w = field(j, {"winlog"})) {  // Winlogbeat
    if (const auto* v = field(*w, {"event_id"})) id = number(*v);
    if (const auto* v = field(*w, {"provider_name"})) provider = text(*v);
    if (const auto* v = field(*w, {"computer_name"})) computer = text(*v);
    if (const auto* v = field(*w, {"event_data"})) data = v;
    return;
  }
  if (const auto* v = field(j, {"EventID"}))
    id = number(*v);  // normalized, or raw top-level fields
  if (const auto* v = field(j, {"Provider"})) provider = text(*v);
  if (const auto* v = field(j, {"SourceName"}); v && provider.empty()) provider = text(*v);
  if (const auto* v = field(j, {"Computer"})) computer = text(*v);
  if (const auto* v = field(j, {"Hostname"}); v && computer.empty()) computer = text(*v);
  data = field(j, {"EventData"}) ? field(j, {"EventData"}) : &j;
}

}  // namespace

bool read_json_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                      std::string& error) {
  struct stat st {};
  gzFile f = stat(path.c_str(), &st) == 0 ? gzopen(path.c_str(), "rb") : nullptr;
  if (f == nullptr) {
    error = path + ": cannot open";
    return false;
  }
  ByteSource bytes(f, static_cast<std::uint64_t>(st.st_size));
  RecordScanner scanner(bytes);
  std::string record, why;
  std::uint64_t index = 0;
  while (true) {
    const RecordScanner::Result r = scanner.next(record, why);
    if (r == RecordScanner::Result::kEnd) break;
    ++index;
    nlohmann::json j;
    if (r == RecordScanner::Result::kRecord) {
      try {
        j = nlohmann::json::parse(record);
      } catch (const nlohmann::json::exception& e) {
        why = e.what();
      }
    }
    if (!why.empty()) {
      error = path + ":" + std::to_string(scanner.start_line()) + ": event " +
              std::to_string(index) + ": " + why + " (every event before it was read)";
      return false;
    }
    ++stats.records;
    std::uint32_t id = 0;
    std::string provider, computer;
    const nlohmann::json* data = nullptr;
    locate(j, id, provider, data, computer);
    const bool sysmon = provider.find("Sysmon") != std::string::npos ||
                        (provider.empty() && field(*data, {"TargetObject"}));
    if (!sysmon || (id != 12 && id != 13 && id != 14)) {
      ++stats.skipped[(provider.empty() ? std::string("?") : provider) + " " + std::to_string(id)];
      continue;
    }
    RegistryEvent e;
    e.source = path;
    e.index = index;
    e.event_id = id;
    e.computer = computer;
    auto get = [&](const char* name) {
      const auto* v = field(*data, {name});
      return v ? text(*v) : std::string();
    };
    e.event_type = get("EventType");
    e.target_object = get("TargetObject");
    e.details = get("Details");
    e.new_name_path = get("NewName");
    e.image = get("Image");
    e.process_guid = get("ProcessGuid");
    e.utc_time = get("UtcTime");
    if (const auto* v = field(*data, {"ProcessId"})) e.pid = number(*v);
    if (const auto* v = field(*data, {"ThreadId"})) e.thread = number(*v);
    e.time_key = parse_utc_time(e.utc_time);
    ++stats.registry;
    sink(std::move(e));
  }
  return true;
}

}  // namespace hivewarden::replay
