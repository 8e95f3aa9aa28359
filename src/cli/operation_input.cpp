#include "hivewarden/cli/operation_input.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/json_depth.hpp"
#include "hivewarden/util/ntstatus.hpp"
#include "hivewarden/util/number.hpp"
#include "hivewarden/util/reg_types.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

using nlohmann::json;

// A short, safe rendering of a JSON value for an error message (never the whole value).
std::string describe(const json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    return s.size() <= 64 ? "'" + s + "'" : "'" + s.substr(0, 61) + "...'";
  }
  return std::string("a JSON ") + value.type_name();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool read_string(const json& object, const char* field, std::u16string& out, std::string& error,
                 bool required) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    if (required) error = std::string("missing field `") + field + "`";
    return !required;
  }
  if (!it->is_string()) {
    error = std::string("field `") + field + "` must be a string, not " + describe(*it);
    return false;
  }
  auto converted = utf8_to_utf16(it->get_ref<const std::string&>());
  if (!converted) {
    error = std::string("field `") + field + "` is not valid UTF-8";
    return false;
  }
  out = std::move(*converted);
  return true;
}

bool read_bool(const json& object, const char* field, bool& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    error = std::string("field `") + field + "` must be true or false, not " + describe(*it);
    return false;
  }
  out = it->get<bool>();
  return true;
}

template <std::size_t N>
bool read_names(const json& object, const char* field, const NamedBit (&table)[N],
                std::uint32_t& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_array()) {
    error = std::string("field `") + field + "` must be a list of names, not " + describe(*it);
    return false;
  }
  for (const json& item : *it) {
    std::uint32_t bit = 0;
    if (!item.is_string() || !bit_by_name(table, item.get_ref<const std::string&>(), bit)) {
      std::string known;
      for (const NamedBit& named : table)
        known += (known.empty() ? "" : ", ") + std::string(named.name);
      error = std::string("unknown name in `") + field + "`: " + describe(item) +
              " (known: " + known + ")";
      return false;
    }
    out |= bit;
  }
  return true;
}

template <class T>
bool read_unsigned(const json& object, const char* field, T& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return true;
  const bool signed_zero = it->is_number_integer() && it->get<std::int64_t>() == 0;  // -0
  if (!signed_zero &&
      (!it->is_number_unsigned() ||
       it->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))) {
    error = std::string("field `") + field + "` must be a non-negative integer up to " +
            std::to_string(std::numeric_limits<T>::max()) + ", not " +
            (it->is_number() ? it->dump() : describe(*it));
    return false;
  }
  out = signed_zero ? T(0) : static_cast<T>(it->get<std::uint64_t>());
  return true;
}

bool append_utf16le(std::string& out, const json& item, bool terminate) {
  const auto text = utf8_to_utf16(item.get_ref<const std::string&>());
  if (!text) return false;
  hivewarden::append_utf16le(out, *text, terminate);
  return true;
}

// set-value's `type` and `data` (SPEC §9): a number for dword / qword, a string for sz /
// expand-sz / link, a list of strings for multi-sz, hex for every other type.
struct ValueData {
  bool has_data = false;
  std::uint32_t type = 1;  // REG_SZ
  std::string data;
};

bool read_value_data(const json& object, ValueData& in, std::string& error) {
  if (const auto t = object.find("type"); t != object.end() && !t->is_null()) {
    if (t->is_string()) {
      if (!reg_type_by_name(t->get_ref<const std::string&>(), in.type)) {
        error = "field `type`: unknown value type " + describe(*t) +
                " (REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_LINK, "
                "REG_MULTI_SZ, REG_QWORD, REG_NONE, or a number)";
        return false;
      }
    } else if (!read_unsigned(object, "type", in.type, error)) {
      return false;
    }
  }
  const auto d = object.find("data");
  if (d == object.end() || d->is_null()) return true;
  in.has_data = true;
  const std::string type_name = reg_type_name(in.type);
  switch (in.type) {
    case reg_type::kDword:
    case reg_type::kQword: {
      const bool dword = in.type == reg_type::kDword;
      const std::uint64_t max = dword ? 0xFFFFFFFFull : ~0ull;
      const bool signed_zero = d->is_number_integer() && d->get<std::int64_t>() == 0;  // -0
      if (!signed_zero && (!d->is_number_unsigned() || d->get<std::uint64_t>() > max)) {
        error = "field `data` of a " + type_name + " must be a whole number from 0 to " +
                std::to_string(max) + ", not " + (d->is_number() ? d->dump() : describe(*d));
        return false;
      }
      append_little_endian(in.data, signed_zero ? 0 : d->get<std::uint64_t>(), dword ? 4 : 8);
      return true;
    }
    case reg_type::kSz:
    case reg_type::kExpandSz:
    case reg_type::kLink:
      if (!d->is_string() || !append_utf16le(in.data, *d, in.type != reg_type::kLink)) {
        error = "field `data` of a " + type_name + " must be a string of valid UTF-8";
        return false;
      }
      return true;
    case reg_type::kMultiSz:
      if (!d->is_array()) {
        error = "field `data` of a REG_MULTI_SZ must be a list of strings, not " + describe(*d);
        return false;
      }
      for (const json& item : *d) {
        if (!item.is_string() || !append_utf16le(in.data, item, true)) {
          error = "field `data` of a REG_MULTI_SZ must be a list of strings of valid UTF-8";
          return false;
        }
      }
      append_little_endian(in.data, 0, 2);
      return true;
    default:
      if (!d->is_string() || !append_hex_bytes(d->get_ref<const std::string&>(), in.data)) {
        error = "field `data` of a " + type_name + " must be hex digits, two per byte";
        return false;
      }
      return true;
  }
}

// A status number written as text: at most 16 digits, decimal, or hex with 0x (or decimal only,
// for the magnitude after a minus). nullopt when it is not a number of at most 32 bits.
std::optional<std::uint64_t> status_number(std::string_view s, NumberBase base) {
  NumberForm form;
  form.base = base;
  form.max_digits = 16;
  return parse_unsigned(s, form);
}

}  // namespace

bool status_is_success(const json& status, bool& valid) {
  valid = true;
  if (status.is_null()) return true;
  if (status.is_boolean()) return status.get<bool>();
  if (status.is_number_unsigned()) {
    valid = status.get<std::uint64_t>() <= 0xFFFFFFFFull;
    return status.get<std::uint64_t>() == 0;
  }
  if (status.is_number_integer()) {  // negative: NTSTATUS as a signed 32-bit number; -0 is 0
    valid = status.get<std::int64_t>() >= std::numeric_limits<std::int32_t>::min();
    return status.get<std::int64_t>() == 0;
  }
  if (status.is_string()) {
    const std::string s = lower(status.get_ref<const std::string&>());
    if (s == "success" || s == "status_success") return true;
    if (const auto n = status_number(s, NumberBase::kDecimalOr0x)) return *n == 0;
    if (s.size() > 1 && s[0] == '-') {  // signed, decimal
      if (const auto n = status_number(std::string_view(s).substr(1), NumberBase::kDecimal)) {
        valid = *n <= 0x80000000ull;
        return *n == 0;
      }
    }
    const bool status_style_name =
        s.size() > 7 && s.rfind("status_", 0) == 0 &&
        s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_", 7) == std::string::npos;
    std::uint32_t named = 0;
    valid = status_style_name || ntstatus_by_name(s, named);
    return false;
  }
  valid = false;
  return false;
}

std::optional<OperationInput> operation_from_json(const json& object, std::string& error) {
  if (!object.is_object()) {
    error = "expected a JSON object, not " + describe(object);
    return std::nullopt;
  }
  OperationInput in;
  OperationRequest& r = in.operation.request;
  r.thread_id = 1;
  const auto op = object.find("op");
  if (op == object.end() || !op->is_string()) {
    error =
        "missing field `op` (one of create-key, delete-key, set-value, delete-value, rename-key, "
        "restore-key, replace-key, query-value)";
    return std::nullopt;
  }
  if (!operation_by_name(op->get_ref<const std::string&>(), r.op)) {
    error = "unknown op " + describe(*op) +
            " (one of create-key, delete-key, set-value, delete-value, rename-key, restore-key, "
            "replace-key, query-value)";
    return std::nullopt;
  }
  const OperationTraits& t = traits(r.op);
  const bool value_op = t.matches_values || r.op == Operation::kQueryValue;
  std::u16string key, value, new_name, image, user_sid, file;
  bool link = false;
  if (!read_string(object, "key", key, error, true) ||
      !read_string(object, "value", value, error, value_op) ||
      !read_string(object, "new_name", new_name, error, r.op == Operation::kRenameKey) ||
      !read_string(object, "image", image, error, false) ||
      !read_string(object, "user_sid", user_sid, error, false) ||
      !read_string(object, "file", file, error, false) ||
      !read_unsigned(object, "pid", r.process.pid, error) ||
      !read_unsigned(object, "thread", r.thread_id, error) ||
      !read_names(object, "flags", kProcessFlagNames, r.process.extra_flags, error) ||
      !read_names(object, "rules", kProcessRuleNames, r.process.extra_rules, error) ||
      !read_bool(object, "key_exists", r.key_exists, error) ||
      !read_bool(object, "link", link, error) ||
      !read_bool(object, "open_link", r.open_link, error)) {
    return std::nullopt;
  }
  r.creates_link = link && r.op == Operation::kCreateKey;
  OwnedOperation& owned = in.operation;
  owned.key_text = owned.keep(std::move(key));
  r.value = owned.keep(std::move(value));
  r.new_name = owned.keep(std::move(new_name));
  r.process.image = owned.keep(std::move(image));
  r.process.user_sid = owned.keep(std::move(user_sid));
  r.file = owned.keep(std::move(file));
  if (r.op == Operation::kSetValue) {
    ValueData value_data;
    if (!read_value_data(object, value_data, error)) return std::nullopt;
    r.has_data = value_data.has_data;
    r.type = value_data.type;
    r.data = owned.keep_bytes(std::move(value_data.data));
  }
  if (const auto it = object.find("status"); it != object.end()) {
    bool valid = true;
    in.success = status_is_success(*it, valid);
    if (!it->is_null()) in.status = it->is_string() ? it->get<std::string>() : it->dump();
    if (!valid) {
      error =
          "field `status` must be success, STATUS_SUCCESS, 0, an NTSTATUS name (STATUS_...) "
          "or number, or one of the host's names (access-denied, ...); not " +
          (it->is_number() ? it->dump() : describe(*it));
      return std::nullopt;
    }
  }
  return in;
}

namespace {
std::string line_too_long_error() {
  return "the line is longer than " + std::to_string(kMaxOperationLineBytes) +
         " bytes (the limit of one operation)";
}
}  // namespace

bool OperationLines::next(OperationLine& line) {
  for (;;) {
    const LineReader::Result got = lines_.next(text_);
    if (got == LineReader::Result::kEnd) return false;
    if (got == LineReader::Result::kError) {
      read_failed_ = true;
      return false;
    }
    line.number = lines_.line_number();
    line.error.clear();
    if (got == LineReader::Result::kTooLong) {
      line.input.reset();
      line.error = line_too_long_error();
      return true;
    }
    if (text_.find_first_not_of(" \t\r") == std::string::npos) continue;  // no operation
    line.input = operation_from_line(text_, line.error);
    return true;
  }
}

std::optional<OperationInput> operation_from_line(std::string_view text, std::string& error) {
  if (text.size() > kMaxOperationLineBytes) {
    error = line_too_long_error();
    return std::nullopt;
  }
  if (text.find('\0') != std::string_view::npos) {  // the parser would stop there silently
    error = "the line holds a NUL byte (JSON text has none: write \\u0000 inside a string)";
    return std::nullopt;
  }
  if (!json_depth_within(text, kMaxOperationNesting)) {
    error = "JSON nested deeper than " + std::to_string(kMaxOperationNesting) +
            " levels (the limit of one operation)";
    return std::nullopt;
  }
  // A field given twice would silently take its last value ("op":"set-value",...,"op":...): an
  // error instead, as in the policy. Keys are tracked per open object (nesting is bounded above).
  std::vector<std::vector<std::string>> open_objects;
  std::string duplicate;
  const json::parser_callback_t note_keys = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.empty() && duplicate.empty()) {
      std::vector<std::string>& keys = open_objects.back();
      const std::string& key = parsed.get_ref<const std::string&>();
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) duplicate = key;
      keys.push_back(key);
    }
    return true;
  };
  const json object = json::parse(text, note_keys, false);
  if (object.is_discarded()) {
    error = "not valid JSON";
    return std::nullopt;
  }
  if (!duplicate.empty()) {
    error = "field " + describe(json(duplicate)) + " is given twice";
    return std::nullopt;
  }
  return operation_from_json(object, error);
}

}  // namespace hivewarden::cli
