// Bit sets of core/rules.hpp written as policies and output name them:
// "set-value|tamper-protection", "none" for no bit, and any bit without a name as hex
// ("create-key|0x2").
#pragma once

#include <cstdint>
#include <string>

namespace hivewarden {

std::string rule_names(std::uint32_t rules);
std::string process_flag_names(std::uint32_t flags);
std::string process_rule_names(std::uint32_t rules);

}  // namespace hivewarden
