#include "hivewarden/cli/operation_input.hpp"

#include <nlohmann/json.hpp>

#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

using nlohmann::json;

bool read_string(const json& object, const char* field, std::u16string& out, std::string& error, bool required) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    if (required) error = std::string("missing field `") + field + "`";
    return !required;
  }
  if (!it->is_string()) {
    error = std::string("field `") + field + "` must be a string";
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

template <std::size_t N>
bool read_names(const json& object, const char* field, const NamedBit (&table)[N], std::uint32_t& out, std::string& error) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_array()) {
    error = std::string("field `") + field + "` must be a list of names";
    return false;
  }
  for (const json& item : *it) {
    std::uint32_t bit = 0;
    if (!item.is_string() || !bit_by_name(table, item.get_ref<const std::string&>(), bit)) {
      error = std::string("unknown name in `") + field + "`: " + item.dump();
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
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() > static_cast<std::uint64_t>(T(~T(0)))) {
    error = std::string("field `") + field + "` must be a non-negative integer in range";
    return false;
  }
  out = static_cast<T>(it->get<std::uint64_t>());
  return true;
}

}  // namespace

OperationRequest OperationInput::request() const {
  OperationRequest r;
  r.op = op;
  r.key = key;
  r.value = value;
  r.new_name = new_name;
  r.key_exists = key_exists;
  r.process.image = image;
  r.process.pid = pid;
  r.process.extra_flags = flags;
  r.process.extra_rules = rules;
  r.process.user_sid = user_sid;
  r.thread_id = thread;
  return r;
}

bool status_is_success(const json& status, bool& valid) {
  valid = true;
  if (status.is_null()) return true;
  if (status.is_number_integer()) return status.get<std::int64_t>() == 0;
  if (status.is_string()) {
    const std::string& s = status.get_ref<const std::string&>();
    return s == "success" || s == "STATUS_SUCCESS" || s == "0";
  }
  if (status.is_boolean()) return status.get<bool>();
  valid = false;
  return false;
}

std::optional<OperationInput> operation_from_json(const json& object, std::string& error) {
  if (!object.is_object()) {
    error = "expected a JSON object";
    return std::nullopt;
  }
  OperationInput in;
  const auto op = object.find("op");
  if (op == object.end() || !op->is_string()) {
    error = "missing field `op` (one of create-key, delete-key, set-value, delete-value, rename-key, restore-key, replace-key, query-value)";
    return std::nullopt;
  }
  if (!operation_by_name(op->get_ref<const std::string&>(), in.op)) {
    error = "unknown op '" + op->get<std::string>() + "'";
    return std::nullopt;
  }
  const OperationTraits& t = traits(in.op);
  const bool value_op = t.matches_values || in.op == Operation::kQueryValue;
  if (!read_string(object, "key", in.key, error, true) ||
      !read_string(object, "value", in.value, error, value_op) ||
      !read_string(object, "new_name", in.new_name, error, in.op == Operation::kRenameKey) ||
      !read_string(object, "image", in.image, error, false) ||
      !read_string(object, "user_sid", in.user_sid, error, false) ||
      !read_unsigned(object, "pid", in.pid, error) || !read_unsigned(object, "thread", in.thread, error) ||
      !read_names(object, "flags", kProcessFlagNames, in.flags, error) ||
      !read_names(object, "rules", kProcessRuleNames, in.rules, error)) {
    return std::nullopt;
  }
  if (const auto it = object.find("key_exists"); it != object.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      error = "field `key_exists` must be true or false";
      return std::nullopt;
    }
    in.key_exists = it->get<bool>();
  }
  if (const auto it = object.find("status"); it != object.end()) {
    bool valid = true;
    in.success = status_is_success(*it, valid);
    if (!valid) {
      error = "field `status` must be a string or an NTSTATUS number";
      return std::nullopt;
    }
  }
  return in;
}

}  // namespace hivewarden::cli
