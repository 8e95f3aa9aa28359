// JSON events: one object per line or pretty-printed one after another, plain or gzip, in the
// shapes the shared data and common collectors use.
#include <zlib.h>

#include <istream>
#include <memory>
#include <streambuf>

#include <nlohmann/json.hpp>

#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {
namespace {

// A read-only stream over a file through zlib (which passes plain files through unchanged).
class GzStreambuf : public std::streambuf {
 public:
  explicit GzStreambuf(gzFile f) : file_(f) {}
  ~GzStreambuf() override {
    if (file_) gzclose(file_);
  }
  bool truncated() const { return truncated_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(file_, buffer_, sizeof buffer_);
    if (n <= 0) {
      int code = 0;
      gzerror(file_, &code);
      truncated_ = n < 0 || code == Z_BUF_ERROR || code == Z_DATA_ERROR;
      return traits_type::eof();
    }
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile file_;
  char buffer_[1 << 16];
  bool truncated_ = false;
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
void locate(const nlohmann::json& j, std::uint32_t& id, std::string& provider, const nlohmann::json*& data,
            std::string& computer) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  data = &kEmpty;
  if (const auto* e = field(j, {"Event"})) {  // evtx_dump
    if (const auto* v = field(*e, {"System", "EventID"})) id = number(*v);
    if (const auto* v = field(*e, {"System", "Provider", "#attributes", "Name"})) provider = text(*v);
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
  if (const auto* v = field(j, {"EventID"})) id = number(*v);  // normalized, or raw top-level fields
  if (const auto* v = field(j, {"Provider"})) provider = text(*v);
  if (const auto* v = field(j, {"SourceName"}); v && provider.empty()) provider = text(*v);
  if (const auto* v = field(j, {"Computer"})) computer = text(*v);
  if (const auto* v = field(j, {"Hostname"}); v && computer.empty()) computer = text(*v);
  data = field(j, {"EventData"}) ? field(j, {"EventData"}) : &j;
}

}  // namespace

bool read_json_events(const std::string& path, const EventSink& sink, ReadStats& stats, std::string& error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": cannot open";
    return false;
  }
  GzStreambuf buffer(f);
  std::istream in(&buffer);
  std::uint64_t index = 0;
  while (true) {
    in >> std::ws;
    if (in.peek() == std::char_traits<char>::eof()) break;
    ++index;
    nlohmann::json j;
    try {
      in >> j;
    } catch (const nlohmann::json::exception& e) {
      error = path + ": event " + std::to_string(index) + ": " +
              (buffer.truncated() ? std::string("the compressed file is cut short") : e.what()) +
              " (every event before it was read)";
      return false;
    }
    ++stats.records;
    std::uint32_t id = 0;
    std::string provider, computer;
    const nlohmann::json* data = nullptr;
    locate(j, id, provider, data, computer);
    const bool sysmon = provider.find("Sysmon") != std::string::npos || (provider.empty() && field(*data, {"TargetObject"}));
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
  if (buffer.truncated()) {
    error = path + ": the compressed file is cut short after event " + std::to_string(index) + " (every event before it was read)";
    return false;
  }
  return true;
}

}  // namespace hivewarden::replay
