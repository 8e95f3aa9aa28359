// Bit sets of core/rules.hpp written as policies and output name them:
// "set-value|tamper-protection", "none" for no bit, and any bit without a name as hex
// ("create-key|0x2").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hivewarden {

std::string rule_names(std::uint32_t rules);
std::string process_flag_names(std::uint32_t flags);
std::string process_rule_names(std::uint32_t rules);

// The other way (hivewarden-svc set-process): names joined by '|' or ',' ("excluded|seces"),
// "none", numbers ("0x21", "33"), or a mix. False, with `error` naming the word and the names
// known, for an unknown word, an empty one, or a bit that no name has.
bool parse_process_flags(std::string_view text, std::uint32_t& flags, std::string& error);
bool parse_process_rules(std::string_view text, std::uint32_t& rules, std::string& error);

}  // namespace hivewarden
