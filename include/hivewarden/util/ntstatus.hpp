// NTSTATUS names as hivewarden writes them ("access-denied"), the one table of them: the host's
// outcomes, the records' `status`, and the statuses `run` accepts on input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hivewarden/core/ntstatus.hpp"

namespace hivewarden {

// "success", "access-denied", "object-name-not-found", ... or "0x........" (8 lowercase hex
// digits) for a status without a name.
std::string ntstatus_name(std::uint32_t status);

// The status a name of ntstatus_name stands for (exact spelling); false (and `status`
// untouched) for any other text, "0x..." included.
bool ntstatus_by_name(std::string_view name, std::uint32_t& status);

}  // namespace hivewarden
