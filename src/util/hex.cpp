#include "hivewarden/util/hex.hpp"

#include <algorithm>

namespace hivewarden {

std::string hex_bytes(const void* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0xF];
  }
  return out;
}

bool append_hex_bytes(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_digit(hex[i]), low = hex_digit(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
  }
  return true;
}

void append_little_endian(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void append_utf16le(std::string& out, std::u16string_view text, bool terminate) {
  for (char16_t c : text) append_little_endian(out, c, 2);
  if (terminate) append_little_endian(out, 0, 2);
}

std::uint64_t read_little_endian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = std::min<std::size_t>(bytes.size(), 8); i-- > 0;)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::u16string read_utf16le(std::string_view bytes) {
  std::u16string units(bytes.size() / 2, u'\0');
  for (std::size_t i = 0; i < units.size(); ++i)
    units[i] = static_cast<char16_t>(read_little_endian(bytes.substr(2 * i, 2)));
  return units;
}

}  // namespace hivewarden
