// Glob matching of one name against a pattern with `*` (any run) and `?` (one unit).
#pragma once

#include <string_view>

namespace hivewarden {

// True when `text` matches `pattern`. Both are already folded. `*` matches any run of units
// except `separator` (pass 0 for none), `?` matches exactly one such unit; all else is literal.
// Runs in O(pattern * text) time at worst, with no recursion and no allocation.
bool glob_match(std::u16string_view pattern, std::u16string_view text, char16_t separator = 0);

// True when the pattern has a `*` or `?` in it.
bool has_glob_chars(std::u16string_view pattern);

}  // namespace hivewarden
