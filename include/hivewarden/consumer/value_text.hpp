// Registry value data shown as the registry shows it (regedit's reading of each type).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hivewarden {

// Registry value types.
namespace reg_type {
inline constexpr std::uint32_t kNone = 0;
inline constexpr std::uint32_t kSz = 1;
inline constexpr std::uint32_t kExpandSz = 2;
inline constexpr std::uint32_t kBinary = 3;
inline constexpr std::uint32_t kDword = 4;
inline constexpr std::uint32_t kDwordBigEndian = 5;
inline constexpr std::uint32_t kLink = 6;
inline constexpr std::uint32_t kMultiSz = 7;
inline constexpr std::uint32_t kQword = 11;
}  // namespace reg_type

// "REG_SZ", "REG_DWORD", ... or "REG_0x1234" for a type without a name.
std::string reg_type_name(std::uint32_t type);

// The data as JSON: strings for REG_SZ / REG_EXPAND_SZ / REG_LINK (UTF-16LE, one terminating NUL
// dropped), a list of strings for REG_MULTI_SZ, a number for REG_DWORD / REG_QWORD of the right
// size, and lowercase hex for everything else (and for sizes that do not fit the type).
nlohmann::ordered_json value_to_json(std::uint32_t type, std::string_view data);

// UTF-16LE bytes (possibly unaligned) as UTF-8; an odd last byte is ignored.
std::string utf16le_bytes_to_utf8(std::string_view bytes);

}  // namespace hivewarden
