// Unsigned numbers read from text: the one parser behind every number hivewarden takes as text
// (replay's EventID/ProcessId/ThreadId, Sysmon's DWORD/QWORD Details, `run`'s `status`, .reg
// type numbers and dword: data, the policy's control_set, /dev/fd/N). It never returns a
// truncated or wrapped value: a number too big for its width is no number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hivewarden {

// How the digits are written.
enum class NumberBase {
  kDecimalOr0x,  // "42", or hex after "0x" / "0X" ("0x2A", "0X2a"); "0x" alone is no number
  kDecimal,      // "42" only
  kHex,          // "2A" / "2a" only, no prefix
  k0xHex,        // "0x2A" / "0X2a" only: the prefix is required
};

// The accepted form of a number. Never accepted in any form: a sign (+ or -), a fraction or
// exponent, a digit separator, blanks inside, trailing text, or an empty digit string.
struct NumberForm {
  NumberBase base = NumberBase::kDecimalOr0x;
  int bits = 32;               // the value must fit in this many bits (1 to 64)
  bool blanks_around = false;  // spaces, tabs, CR and LF allowed before and after
  std::size_t min_digits = 1;  // digits counted after any "0x", leading zeros included
  std::size_t max_digits = 0;  // 0: any count (any number of leading zeros)
};

// The value `text` spells in `form`; nullopt for anything else.
std::optional<std::uint64_t> parse_unsigned(std::string_view text, const NumberForm& form);

}  // namespace hivewarden
