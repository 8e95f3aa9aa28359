// Glob matching of one name against a pattern with `*` (any run) and `?` (one unit).
#pragma once

#include <string_view>

namespace hivewarden {

// True when `text`, each unit mapped through `fold`, matches `pattern` (already folded). `*`
// matches any run of units except `separator` (pass 0 for none), `?` exactly one such unit; all
// else is literal. The units are folded as they are compared, so no folded copy of the text is
// needed (the decision keeps no buffer for one). Greedy, remembering the last `*` and retrying
// from there: linear in the common case, O(pattern * text) at worst, never exponential, no
// recursion, no allocation. `fold` must leave `separator` alone.
template <class Fold>
bool glob_match_folding(std::u16string_view pattern, std::u16string_view text, Fold fold,
                        char16_t separator = 0) {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::u16string_view::npos, star_t = 0;
  while (t < text.size()) {
    const bool can_take = separator == 0 || text[t] != separator;
    if (p < pattern.size() && pattern[p] == u'*') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size() &&
               ((pattern[p] == u'?' && can_take) || pattern[p] == fold(text[t]))) {
      ++p;
      ++t;
    } else if (star_p != std::u16string_view::npos &&
               (separator == 0 || text[star_t] != separator)) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == u'*') ++p;
  return p == pattern.size();
}

// glob_match_folding for a text that is already folded (or compared exactly).
bool glob_match(std::u16string_view pattern, std::u16string_view text, char16_t separator = 0);

// True when the pattern has a `*` or `?` in it.
bool has_glob_chars(std::u16string_view pattern);

// The units of the pattern before its first `*` or `?`: every name it matches starts with them.
std::size_t glob_literal_prefix(std::u16string_view pattern);

}  // namespace hivewarden
