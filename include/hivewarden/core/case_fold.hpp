// Case folding of UTF-16 names (SPEC §6): one code unit at a time, as RtlUpcaseUnicodeString.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hivewarden {

namespace detail {
// The generated fold table (tools/gen_case_fold.py): deltas by page.
extern const unsigned char* const kFoldPageIndex;
extern const unsigned short (*const kFoldDeltaPages)[256];
}  // namespace detail

// Returns the folded form of one UTF-16 code unit. Two names are equal for the registry exactly
// when their folded units are equal. The fold is at least as coarse as Windows' upcase table
// (see tools/gen_case_fold.py), so a protected name cannot be reached by a case variant.
inline char16_t fold_unit(char16_t unit) {
  if (unit < 0x80) {  // ASCII fast path: most registry names
    return (unit >= u'a' && unit <= u'z') ? static_cast<char16_t>(unit - 32) : unit;
  }
  const unsigned short delta =
      detail::kFoldDeltaPages[detail::kFoldPageIndex[unit >> 8]][unit & 0xFF];
  return static_cast<char16_t>(unit + delta);
}

// Writes the folded form of `in` to `out` (which has room for in.size() units).
void fold_units(std::u16string_view in, char16_t* out);

// True when a and b are the same name ignoring case.
bool equal_folded(std::u16string_view a, std::u16string_view b);

// True when `raw`, folded unit by unit, is `folded` (a name already folded, as the policy stores
// names): compares without a folded copy of `raw`.
inline bool equals_when_folded(std::u16string_view folded, std::u16string_view raw) {
  if (folded.size() != raw.size()) return false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (folded[i] != fold_unit(raw[i])) return false;
  }
  return true;
}

// True when `folded` is already folded (every unit maps to itself).
bool is_folded(std::u16string_view folded);

// Process images compare ASCII letters regardless of case and every other unit exactly. The
// coarse fold above errs towards "the same name", which fails closed for keys (more is matched,
// more is denied) but would fail open for images, where a match grants flags and rules: a
// look-alike (KELVIN SIGN for K, long s for s) names another file on NTFS.
inline char16_t fold_ascii_unit(char16_t unit) {
  return (unit >= u'a' && unit <= u'z') ? static_cast<char16_t>(unit - 32) : unit;
}
void fold_ascii_units(std::u16string_view in, char16_t* out);
bool is_ascii_folded(std::u16string_view folded);
bool equal_ascii_folded(std::u16string_view a, std::u16string_view b);

}  // namespace hivewarden
