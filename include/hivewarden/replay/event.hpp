// A Sysmon registry event (Event ID 12, 13, 14) as hivewarden replays it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "hivewarden/core/operation.hpp"
#include "hivewarden/util/owned_operation.hpp"

namespace hivewarden::replay {

struct RegistryEvent {
  std::string source;       // file it came from
  std::uint64_t index = 0;  // position in that file (record number or line)
  std::uint32_t event_id = 0;
  std::string event_type;  // CreateKey, DeleteKey, SetValue, DeleteValue, RenameKey ("" when lost)
  std::string target_object, details, new_name_path;
  std::string image, process_guid, computer, utc_time;
  std::uint32_t pid = 0, thread = 0;
  std::int64_t time_key = 0;  // UtcTime as sortable microseconds since 1601 (0 when unknown)
  std::string unreadable;     // why a field could not be read ("" when all could): not mapped
};

// An event as an operation of SPEC §1 (TargetObject split into key and value for value
// operations at the last `\`, or at a doubled `\\` where the value name itself starts with `\`;
// Sysmon's "(Default)" is the unnamed value; set-value's Details as its data). nullopt with `why`
// for one it cannot map (no EventType, unknown type, no key, a name that is not UTF-8).
std::optional<OwnedOperation> map_event(const RegistryEvent& event, std::string& why);

// Sysmon's Details text: "DWORD (0x00000001)", "QWORD (0x00000000-0x00000001)", "Binary Data", or a
// string. Sets type and the bytes Windows would store.
void parse_details(const std::string& details, std::uint32_t& type, std::string& data, bool& known);

// Reads a numeric field of `event` (ProcessId, ThreadId) from its text; absent ("") stays 0, and
// one that is not a number leaves the event unreadable, with the field and text named.
void read_number_field(const char* name, const std::string& text, std::uint32_t& out,
                       RegistryEvent& event);

// "2019-07-19 14:44:08.197" -> microseconds since 1601-01-01 (0 if malformed).
std::int64_t parse_utc_time(const std::string& text);

}  // namespace hivewarden::replay
