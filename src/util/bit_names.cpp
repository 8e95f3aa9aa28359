#include "hivewarden/util/bit_names.hpp"

#include <cstdio>

#include "hivewarden/core/rules.hpp"

namespace hivewarden {
namespace {

template <std::size_t N>
std::string names_of(std::uint32_t bits, const NamedBit (&table)[N]) {
  std::string out;
  for (const NamedBit& nb : table) {
    if (bits & nb.bit) {
      out += out.empty() ? "" : "|";
      out += nb.name;
      bits &= ~nb.bit;
    }
  }
  if (bits != 0) {  // bits without a name (never from a validated policy)
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", bits);
    out += (out.empty() ? "" : "|") + std::string(hex);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::string rule_names(std::uint32_t rules) {
  return names_of(rules, kRuleNames);
}
std::string process_flag_names(std::uint32_t flags) {
  return names_of(flags, kProcessFlagNames);
}
std::string process_rule_names(std::uint32_t rules) {
  return names_of(rules, kProcessRuleNames);
}

}  // namespace hivewarden
