#include "hivewarden/replay/event.hpp"

#include "hivewarden/replay/readers.hpp"

#include <optional>

#include <cstdio>

#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/number.hpp"
#include "hivewarden/util/reg_types.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::replay {
namespace {

// One half of Sysmon's DWORD / QWORD Details: "0x" and 1 to 16 hex digits, at most 32 bits of
// value (Sysmon writes 8 digits; a wider value is no DWORD, never a truncated one).
std::optional<std::uint64_t> details_half(std::string_view text) {
  NumberForm form;
  form.base = NumberBase::k0xHex;
  form.max_digits = 16;
  return parse_unsigned(text, form);
}

// A number as the logs write it: decimal, or hex after "0x", blanks around it allowed; never a
// sign, a fraction, trailing text or more than 32 bits.
bool log_number(std::string_view text, std::uint32_t& out) {
  NumberForm form;
  form.blanks_around = true;
  const std::optional<std::uint64_t> value = parse_unsigned(text, form);
  if (value) out = static_cast<std::uint32_t>(*value);
  return value.has_value();
}

// The text of a field for a message: short, and printable.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text.substr(0, 40)) out += c >= 0x20 && c < 0x7F ? c : '?';
  return out + (text.size() > 40 ? "...\"" : "\"");
}

}  // namespace

void read_number_field(const char* name, const std::string& text, std::uint32_t& out,
                       RegistryEvent& event) {
  if (text.empty() || log_number(text, out)) return;
  out = 0;
  if (event.unreadable.empty())
    event.unreadable = std::string(name) + " " + quoted(text) + " is not a 32-bit number";
}

bool sort_record(const std::string& provider, bool sysmon, const std::string& id_text,
                 RegistryEvent& event, ReadStats& stats) {
  std::uint32_t id = 0;
  const bool id_ok = id_text.empty() || log_number(id_text, id);
  const std::string who = provider.empty() ? std::string("?") : provider;
  if (sysmon && !id_ok) {
    event.event_id = 0;
    event.unreadable = "EventID " + quoted(id_text) + " is not a 32-bit number";
    return true;
  }
  if (!id_ok) {
    ++stats.skipped[who + " (EventID not a number)"];
    return false;
  }
  if (!sysmon || (id != 12 && id != 13 && id != 14)) {
    ++stats.skipped[who + " " + std::to_string(id)];
    return false;
  }
  event.event_id = id;
  return true;
}

void parse_details(const std::string& d, std::uint32_t& type, std::string& data, bool& known) {
  known = true;
  const auto inner = [&d](const char* kind) {
    return d.rfind(kind, 0) == 0 && d.back() == ')' ? std::string_view(d).substr(7, d.size() - 8)
                                                    : std::string_view();
  };
  if (const auto v = details_half(inner("DWORD ("))) {
    type = reg_type::kDword;
    data.clear();
    append_little_endian(data, *v, 4);
    return;
  }
  const std::string_view qword = inner("QWORD (");  // Sysmon writes the high and low halves
  const std::size_t dash = qword.find('-');
  if (dash != std::string_view::npos) {
    const auto hi = details_half(qword.substr(0, dash)), lo = details_half(qword.substr(dash + 1));
    if (hi && lo) {
      type = reg_type::kQword;
      data.clear();
      append_little_endian(data, (*hi << 32) | *lo, 8);
      return;
    }
  }
  if (d == "(Empty)") {  // an empty string, as far as the log can tell (the type is not logged)
    type = reg_type::kSz;
    data.assign(2, '\0');
    return;
  }
  if (d == "Binary Data") {  // Sysmon does not log the bytes
    type = reg_type::kBinary;
    data.clear();
    known = false;
    return;
  }
  type = reg_type::kSz;
  data.clear();
  const std::optional<std::u16string> u = utf8_to_utf16(d);
  if (!u) {  // not text any more: the data is unknown, not an empty string
    known = false;
    return;
  }
  append_utf16le(data, *u, true);
}

std::int64_t parse_utc_time(const std::string& t) {
  int y, mo, d, h, mi, s, ms = 0;
  // Field widths keep sscanf from reading a number too big for an int (found by fuzzing: a
  // 17-digit year overflowed the arithmetic below); the fraction's first three digits are ms.
  if (std::sscanf(t.c_str(), "%5d-%2d-%2d %2d:%2d:%2d.%3d", &y, &mo, &d, &h, &mi, &s, &ms) < 6 &&
      std::sscanf(t.c_str(), "%5d-%2d-%2dT%2d:%2d:%2d.%3d", &y, &mo, &d, &h, &mi, &s, &ms) < 6) {
    return 0;
  }
  // FILETIME's range, and a real clock's fields; anything else is not a time.
  if (y < 1601 || y > 30827 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 60 || ms < 0) {
    return 0;
  }
  // Days since 1601-01-01 by the civil-calendar formula.
  const int yy = mo <= 2 ? y - 1 : y;
  const int era = yy / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days =
      static_cast<std::int64_t>(era) * 146097 + doe - 584694;  // shift to 1601-03-01 base
  return ((days * 24 + h) * 60 + mi) * 60000000LL + s * 1000000LL + ms * 1000LL;
}

namespace {

Operation operation_of(const std::string& event_type, bool& known) {
  known = true;
  if (event_type == "CreateKey") return Operation::kCreateKey;
  if (event_type == "DeleteKey") return Operation::kDeleteKey;
  if (event_type == "SetValue") return Operation::kSetValue;
  if (event_type == "DeleteValue") return Operation::kDeleteValue;
  if (event_type == "RenameKey") return Operation::kRenameKey;
  known = false;
  return Operation::kCreateKey;
}

// Sysmon joins key and value name with `\`. Value names may hold `\` themselves (BAM keeps
// "\Device\HarddiskVolume2\...exe" names), which shows as a doubled separator: the value starts
// there. Otherwise the value is the last component. False when there is no value part.
bool split_value(const std::string& target, std::string& key, std::string& value) {
  const std::size_t doubled = target.find("\\\\");
  const std::size_t cut = doubled != std::string::npos ? doubled : target.rfind('\\');
  if (cut == std::string::npos) return false;
  key = target.substr(0, cut);
  value = target.substr(cut + 1);
  if (value == "(Default)") value.clear();
  return true;
}

}  // namespace

std::optional<OwnedOperation> map_event(const RegistryEvent& e, std::string& why) {
  if (!e.unreadable.empty()) {
    why = e.unreadable;
    return std::nullopt;
  }
  OwnedOperation m;
  OperationRequest& r = m.request;
  bool known = false;
  r.op = operation_of(e.event_type, known);
  if (!known) {
    why = e.event_type.empty() ? "no EventType in the event (the collector lost it)"
                               : "unknown EventType " + e.event_type;
    return std::nullopt;
  }
  if (e.target_object.empty()) {
    why = "no TargetObject";
    return std::nullopt;
  }
  std::string key = e.target_object, value, new_name;
  if ((r.op == Operation::kSetValue || r.op == Operation::kDeleteValue) &&
      !split_value(e.target_object, key, value)) {
    why = "TargetObject has no value part";
    return std::nullopt;
  }
  if (r.op == Operation::kRenameKey) {
    const std::size_t cut = e.new_name_path.rfind('\\');
    new_name = cut == std::string::npos ? e.new_name_path : e.new_name_path.substr(cut + 1);
    if (new_name.empty()) {
      why = "RenameKey without NewName";
      return std::nullopt;
    }
  }
  auto key16 = utf8_to_utf16(key), value16 = utf8_to_utf16(value),
       new_name16 = utf8_to_utf16(new_name), image16 = utf8_to_utf16(e.image);
  if (!key16 || !value16 || !new_name16 || !image16) {  // never guess a name: say so
    why = "a key, value or image name that is not valid UTF-8";
    return std::nullopt;
  }
  m.key_text = m.keep(std::move(*key16));
  r.value = m.keep(std::move(*value16));
  r.new_name = m.keep(std::move(*new_name16));
  r.process.image = m.keep(std::move(*image16));
  r.process.pid = e.pid;
  r.thread_id = e.thread;
  if (r.op == Operation::kSetValue) {
    std::string data;
    parse_details(e.details, r.type, data, r.has_data);
    r.data_bytes_unknown = !r.has_data && r.type == reg_type::kBinary;  // "Binary Data"
    r.data = m.keep_bytes(std::move(data));
  }
  return m;
}

}  // namespace hivewarden::replay
