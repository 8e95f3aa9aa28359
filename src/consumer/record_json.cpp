#include "hivewarden/consumer/record_json.hpp"

#include <cstdio>

#include "hivewarden/consumer/value_text.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/util/bit_names.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/ntstatus.hpp"

namespace hivewarden {
namespace {

std::string operation_name(std::uint32_t pre_class) {
  Operation op;
  if (operation_by_pre_class(pre_class, op)) return std::string(traits(op).name);
  char b[24];
  std::snprintf(b, sizeof b, "class-0x%x", pre_class);
  return b;
}

nlohmann::ordered_json value_json(std::uint32_t type, std::uint32_t size, std::string_view data) {
  nlohmann::ordered_json v;
  v["type"] = reg_type_name(type);
  v["size"] = size;
  v["data"] = value_to_json(type, data);
  if (data.size() < size) v["truncated"] = true;
  return v;
}

}  // namespace

nlohmann::ordered_json record_to_json(const RecordView& r, const ClientNames* names) {
  const RecordFixed& f = r.fixed;
  nlohmann::ordered_json j;
  j["sequence"] = f.sequence;
  j["sync"] = f.message_type == static_cast<std::uint16_t>(MessageType::kRegistryEventSync);
  j["operation"] = operation_name(f.operation);
  j["status"] = ntstatus_name(f.status);
  j["denied"] = (f.flags & record_flag::kDenied) != 0;
  j["key"] = utf16le_bytes_to_utf8(r.bytes(kFieldKeyName));
  if (!r.bytes(kFieldValueName).empty() || f.operation == notify_class::kPreSetValueKey ||
      f.operation == notify_class::kPreDeleteValueKey) {
    j["value"] = utf16le_bytes_to_utf8(r.bytes(kFieldValueName));
  }
  if (!r.bytes(kFieldNewKeyName).empty())
    j["new_key"] = utf16le_bytes_to_utf8(r.bytes(kFieldNewKeyName));
  if (!r.bytes(kFieldOldFileName).empty())
    j["old_file"] = utf16le_bytes_to_utf8(r.bytes(kFieldOldFileName));
  if (!r.bytes(kFieldNewFileName).empty())
    j["new_file"] = utf16le_bytes_to_utf8(r.bytes(kFieldNewFileName));
  j["process"] = {{"pid", f.process_id}, {"creation_time", f.process_creation_time}};
  j["thread"] = f.thread_id;
  j["session"] = f.session_id;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%06x", f.final_key_rules);
  j["rules"] = hex;
  j["rule_names"] = rule_names(f.final_key_rules);
  if (f.flags & record_flag::kHasDataBefore)
    j["before"] = value_json(f.value_type_before, f.value_size_before, r.bytes(kFieldDataBefore));
  if (f.flags & record_flag::kHasDataAfter)
    j["after"] = value_json(f.value_type_after, f.value_size_after, r.bytes(kFieldDataAfter));
  if (f.restore_flags != 0) j["restore_flags"] = f.restore_flags;
  nlohmann::ordered_json clients = nlohmann::ordered_json::array();
  const std::string_view hashes = r.bytes(kFieldHashes);
  for (std::uint32_t i = 0; i < f.hash_count; ++i) {
    const std::string h = hex_bytes(hashes.substr(i * 16, 16));
    nlohmann::ordered_json c{{"hash", h}};
    if (names != nullptr) {
      if (auto it = names->find(h); it != names->end()) c["name"] = it->second;
    }
    clients.push_back(std::move(c));
  }
  j["clients"] = std::move(clients);
  if (f.flags & record_flag::kHashesTruncated) j["clients_truncated"] = true;
  bool any_transaction = false;
  for (unsigned char b : f.transaction_id) any_transaction = any_transaction || b != 0;
  if (any_transaction) {
    j["transaction"] = hex_bytes(f.transaction_id, sizeof f.transaction_id);
  }
  return j;
}

std::string record_to_text(const RecordView& r, const ClientNames* names) {
  const nlohmann::ordered_json j = record_to_json(r, names);
  std::string line = "#" + std::to_string(r.fixed.sequence) + " " +
                     j["operation"].get<std::string>() +
                     (j["denied"].get<bool>() ? " DENIED " : " ") + j["key"].get<std::string>();
  if (j.contains("value")) line += " : " + j["value"].get<std::string>();
  if (j.contains("new_key")) line += " -> " + j["new_key"].get<std::string>();
  line += "  pid " + std::to_string(r.fixed.process_id) + " thread " +
          std::to_string(r.fixed.thread_id);
  line += "  " + j["status"].get<std::string>() + "  rules " + j["rule_names"].get<std::string>();
  if (j.contains("before")) line += "  before " + j["before"]["data"].dump();
  if (j.contains("after")) line += "  after " + j["after"]["data"].dump();
  std::string clients;
  for (const auto& c : j["clients"])
    clients +=
        (clients.empty() ? "" : ",") + c.value("name", c["hash"].get<std::string>().substr(0, 8));
  if (!clients.empty()) line += "  clients " + clients;
  if (j["sync"].get<bool>()) line += "  [sync]";
  return line;
}

}  // namespace hivewarden
