// A notification record made readable: JSON with names instead of numbers.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "hivewarden/core/notification.hpp"

namespace hivewarden {

// Maps a client's 16-byte hash (32 hex digits) to its name, when the policy is known.
using ClientNames = std::map<std::string, std::string>;

// The record as JSON: sequence, sync, operation (SPEC §1 name), status, denied, key, value,
// new_key, process {pid, creation_time}, thread, session, rules (hex) and rule_names, old and new
// value {type, size, data} as the registry shows them, clients [{hash, name}], transaction.
nlohmann::ordered_json record_to_json(const RecordView& record, const ClientNames* names = nullptr);

// One readable line: "#12 set-value DENIED \REGISTRY\...:DisableAntiSpyware pid 4120 ...".
std::string record_to_text(const RecordView& record, const ClientNames* names = nullptr);

}  // namespace hivewarden
