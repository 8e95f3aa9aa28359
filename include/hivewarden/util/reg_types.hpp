// Registry value types (winnt.h REG_*) by name; their numbers are the core's (reg_type::).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hivewarden/core/registry_data.hpp"

namespace hivewarden {

// "REG_SZ", "REG_DWORD", ... or "REG_0x1234" for a type without a name.
std::string reg_type_name(std::uint32_t type);

// A type by name, in any case, with or without "REG_", '_' or '-' between words: "REG_DWORD",
// "dword", "multi-sz", "Reg_Multi_Sz". False (and `type` untouched) for any other text.
bool reg_type_by_name(std::string_view name, std::uint32_t& type);

// Registry data as Sysmon writes it in Details (`DWORD (0x00000001)`, `QWORD (0x...-0x...)`, the
// string, `(Empty)`, `Binary Data`), in UTF-8: the core's render_details, the one renderer.
std::string sysmon_details(std::uint32_t type, std::string_view data);

}  // namespace hivewarden
