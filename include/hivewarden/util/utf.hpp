// UTF-8 <-> UTF-16 conversion at the edges (files, JSON, command line); the engine works in UTF-16.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hivewarden {

// Converts UTF-8 to UTF-16. Returns nullopt on malformed UTF-8 (overlong forms, surrogates,
// truncated sequences, code points above U+10FFFF).
std::optional<std::u16string> utf8_to_utf16(std::string_view utf8);

// Converts UTF-16 to UTF-8. A lone surrogate (legal in a registry name) becomes U+FFFD.
std::string utf16_to_utf8(std::u16string_view utf16);

// The index of the first lone surrogate (one UTF-8 cannot carry), or npos when there is none.
std::size_t first_lone_surrogate(std::u16string_view utf16);

}  // namespace hivewarden

namespace hivewarden {

// The offset of the first byte that is not part of well-formed UTF-8 (same rules as
// utf8_to_utf16), or std::string_view::npos when all of `utf8` is well formed.
std::size_t first_invalid_utf8(std::string_view utf8);

}  // namespace hivewarden
