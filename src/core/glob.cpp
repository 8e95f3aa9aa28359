#include "hivewarden/core/glob.hpp"

namespace hivewarden {

bool glob_match(std::u16string_view pattern, std::u16string_view text, char16_t separator) {
  // Greedy match that remembers the last `*` and retries from there: linear in the common case,
  // O(pattern * text) at worst, never exponential.
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::u16string_view::npos, star_t = 0;
  while (t < text.size()) {
    const bool can_take = separator == 0 || text[t] != separator;
    if (p < pattern.size() && pattern[p] == u'*') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size() && ((pattern[p] == u'?' && can_take) || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star_p != std::u16string_view::npos && (separator == 0 || text[star_t] != separator)) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == u'*') ++p;
  return p == pattern.size();
}

bool has_glob_chars(std::u16string_view pattern) {
  for (char16_t unit : pattern) {
    if (unit == u'*' || unit == u'?') return true;
  }
  return false;
}

}  // namespace hivewarden
