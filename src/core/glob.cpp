#include "hivewarden/core/glob.hpp"

namespace hivewarden {

bool glob_match(std::u16string_view pattern, std::u16string_view text, char16_t separator) {
  return glob_match_folding(
      pattern, text, [](char16_t unit) { return unit; }, separator);
}

bool has_glob_chars(std::u16string_view pattern) {
  for (char16_t unit : pattern) {
    if (unit == u'*' || unit == u'?') return true;
  }
  return false;
}

}  // namespace hivewarden
