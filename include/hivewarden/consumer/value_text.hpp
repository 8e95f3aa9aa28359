// Registry value data shown as the registry shows it (regedit's reading of each type).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hivewarden/util/reg_types.hpp"

namespace hivewarden {

// The data as JSON: strings for REG_SZ / REG_EXPAND_SZ / REG_LINK (UTF-16LE, one terminating NUL
// dropped), a list of strings for REG_MULTI_SZ, a number for REG_DWORD / REG_QWORD of the right
// size, and lowercase hex for everything else (and for sizes that do not fit the type).
nlohmann::ordered_json value_to_json(std::uint32_t type, std::string_view data);

// UTF-16LE bytes (possibly unaligned) as UTF-8; an odd last byte is ignored.
std::string utf16le_bytes_to_utf8(std::string_view bytes);

}  // namespace hivewarden
