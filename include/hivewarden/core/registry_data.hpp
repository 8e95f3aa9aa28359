// Registry data as conditions (SPEC §10) and Sysmon see it: the number of a DWORD or QWORD, the
// text of a string type, and Sysmon's `Details` rendering, the one copy every host uses. Depends on
// nothing else in the core, so a program that only renders records (the Windows service) links it
// alone.
#pragma once

#include <cstdint>
#include <string_view>

namespace hivewarden {

// Registry value types (winnt.h REG_*): the one table of their numbers.
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

// Sysmon's Details: `DWORD (0x00000001)`, `QWORD (0x00000000-0x00000001)` (high, then low half),
// the string (REG_SZ, REG_EXPAND_SZ; REG_MULTI_SZ with its strings joined by spaces), `(Empty)`
// for no data or an empty string, `Binary Data` for every other type.
enum class DetailsKind : std::uint8_t { kNumber, kString, kEmpty, kBinary };
struct Details {
  DetailsKind kind = DetailsKind::kEmpty;
  char16_t number[32] = {};  // kNumber: the whole rendering
  std::uint32_t number_length = 0;
  std::string_view string_bytes;  // kString: UTF-16LE units, terminating NULs cut off
  bool multi = false;             // kString of a REG_MULTI_SZ: inner NULs render as spaces
};
Details render_details(std::uint32_t type, std::string_view data);

// The numbers of REG_DWORD (4 bytes) and REG_QWORD (8 bytes) data; false for anything else.
bool data_number(std::uint32_t type, std::string_view data, std::uint64_t& number, bool& is_dword);

// Neither a string nor a number type: Sysmon renders any data of it as `Binary Data`.
bool is_binary_type(std::uint32_t type);

// The registry data as text, when it is a string type: the units without terminating NULs.
bool data_string(std::uint32_t type, std::string_view data, std::string_view& bytes, bool& multi);

}  // namespace hivewarden
