#include "hivewarden/util/bit_names.hpp"

#include <cstdio>
#include <optional>

#include "hivewarden/core/rules.hpp"
#include "hivewarden/util/number.hpp"

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

template <std::size_t N>
std::string known_names(const NamedBit (&table)[N]) {
  std::string known = "none";
  for (const NamedBit& nb : table) known += ", " + std::string(nb.name);
  return known + ", or a number";
}

// One word of a bit set: a name of the table, "none", or a number.
template <std::size_t N>
bool parse_word(std::string_view word, const NamedBit (&table)[N], std::uint32_t& bits) {
  std::uint32_t bit = 0;
  if (word == "none") return true;
  if (bit_by_name(table, word, bit)) {
    bits |= bit;
    return true;
  }
  const std::optional<std::uint64_t> number = parse_unsigned(word, NumberForm{});
  if (!number) return false;
  bits |= static_cast<std::uint32_t>(*number);
  return true;
}

template <std::size_t N>
bool parse_names(std::string_view text, const NamedBit (&table)[N], const char* what,
                 std::uint32_t& out, std::string& error) {
  std::uint32_t bits = 0;
  for (;;) {
    const std::size_t end = text.find_first_of("|,");
    const std::string_view word = text.substr(0, end);
    if (!parse_word(word, table, bits)) {
      error = "unknown " + std::string(what) + " `" + std::string(word) +
              "` (known: " + known_names(table) + ")";
      return false;
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  if (const std::uint32_t unnamed = bits & ~union_of(table)) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", unnamed);
    error =
        "no " + std::string(what) + " has the bits " + hex + " (known: " + known_names(table) + ")";
    return false;
  }
  out = bits;
  return true;
}

}  // namespace

bool parse_process_flags(std::string_view text, std::uint32_t& flags, std::string& error) {
  return parse_names(text, kProcessFlagNames, "process flag", flags, error);
}
bool parse_process_rules(std::string_view text, std::uint32_t& rules, std::string& error) {
  return parse_names(text, kProcessRuleNames, "process rule", rules, error);
}

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
