// Hex and little-endian bytes: client hashes and raw value data in output, value data in input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hivewarden {

std::string hex_bytes(const void* data, std::size_t size);
inline std::string hex_bytes(std::string_view bytes) {
  return hex_bytes(bytes.data(), bytes.size());
}

// The value of one hex digit (either case), or -1 for any other character.
constexpr int hex_digit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

// Appends the bytes that hex digits spell, two per byte; false (and `out` partly appended) when
// the text has an odd length or a character that is not a hex digit.
bool append_hex_bytes(std::string_view hex, std::string& out);

// Appends `v` as `bytes` little-endian bytes (the registry's byte order).
void append_little_endian(std::string& out, std::uint64_t v, int bytes);

// Appends UTF-16LE code units, with a terminating NUL unit when `terminate`.
void append_utf16le(std::string& out, std::u16string_view text, bool terminate);

// The number that little-endian bytes spell; only the first 8 bytes count.
std::uint64_t read_little_endian(std::string_view bytes);

// UTF-16LE bytes (at any alignment) as code units, all of them (NULs too); an odd last byte is
// ignored.
std::u16string read_utf16le(std::string_view bytes);

}  // namespace hivewarden
