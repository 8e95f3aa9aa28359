// Registry value types (winnt.h REG_*): their numbers and names, the one table of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hivewarden {

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

// A type by name, in any case, with or without "REG_", '_' or '-' between words: "REG_DWORD",
// "dword", "multi-sz", "Reg_Multi_Sz". False (and `type` untouched) for any other text.
bool reg_type_by_name(std::string_view name, std::uint32_t& type);

// Registry data as Sysmon writes it in Details (`DWORD (0x00000001)`, `QWORD (0x...-0x...)`, the
// string, `(Empty)`, `Binary Data`), in UTF-8: the core's render_details, the one renderer.
std::string sysmon_details(std::uint32_t type, std::string_view data);

}  // namespace hivewarden
