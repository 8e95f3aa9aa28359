#include "hivewarden/core/glob.hpp"

namespace hivewarden {

bool glob_match(std::u16string_view pattern, std::u16string_view text, char16_t separator) {
  return glob_match_folding(
      pattern, text, [](char16_t unit) { return unit; }, separator);
}

bool has_glob_chars(std::u16string_view pattern) {
  return glob_literal_prefix(pattern) < pattern.size();
}

std::size_t glob_literal_prefix(std::u16string_view pattern) {
  std::size_t n = 0;
  while (n < pattern.size() && pattern[n] != u'*' && pattern[n] != u'?') ++n;
  return n;
}

}  // namespace hivewarden
