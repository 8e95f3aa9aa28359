#include "hivewarden/util/number.hpp"

#include <limits>

#include "hivewarden/util/hex.hpp"

namespace hivewarden {
namespace {

bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view without_blanks_around(std::string_view text) {
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

bool has_0x(std::string_view text) {
  return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

// The largest value of `bits` bits (bits outside 1..64 are clamped).
std::uint64_t largest(int bits) {
  if (bits >= 64) return std::numeric_limits<std::uint64_t>::max();
  if (bits <= 0) return 0;
  return (std::uint64_t{1} << bits) - 1;
}

}  // namespace

std::optional<std::uint64_t> parse_unsigned(std::string_view text, const NumberForm& form) {
  if (form.blanks_around) text = without_blanks_around(text);
  bool hex = form.base == NumberBase::kHex;
  if (form.base == NumberBase::k0xHex || form.base == NumberBase::kDecimalOr0x) {
    hex = has_0x(text);
    if (hex) {
      text.remove_prefix(2);
    } else if (form.base == NumberBase::k0xHex) {
      return std::nullopt;
    }
  }
  if (text.empty() || text.size() < form.min_digits ||
      (form.max_digits != 0 && text.size() > form.max_digits)) {
    return std::nullopt;
  }
  const std::uint64_t base = hex ? 16 : 10, limit = largest(form.bits);
  std::uint64_t value = 0;
  for (const char c : text) {
    const int digit = hex ? hex_digit(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
    if (digit < 0) return std::nullopt;
    const auto d = static_cast<std::uint64_t>(digit);
    if (d > limit || value > (limit - d) / base) return std::nullopt;  // value * base + d > limit
    value = value * base + d;
  }
  return value;
}

}  // namespace hivewarden
