#include "hivewarden/util/utf.hpp"

#include <cstdint>

namespace hivewarden {

namespace {

// Decodes the UTF-8 sequence at in[i]: its code point and length. False when it is malformed
// (overlong forms, surrogates, truncated sequences, code points above U+10FFFF).
bool decode_utf8_at(std::string_view in, std::size_t i, std::uint32_t& cp, std::size_t& length) {
  const auto b0 = static_cast<unsigned char>(in[i]);
  std::size_t extra = 0;
  if (b0 < 0x80) {
    cp = b0;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    cp = b0 & 0x1Fu;
    extra = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    cp = b0 & 0x0Fu;
    extra = 2;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    cp = b0 & 0x07u;
    extra = 3;
  } else {
    return false;
  }
  if (extra > 0 && i + extra >= in.size()) return false;  // truncated sequence
  for (std::size_t k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(in[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  length = extra + 1;
  return true;
}

}  // namespace

std::optional<std::u16string> utf8_to_utf16(std::string_view in) {
  std::u16string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    std::uint32_t cp = 0;
    std::size_t length = 0;
    if (!decode_utf8_at(in, i, cp, length)) return std::nullopt;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += length;
  }
  return out;
}

std::size_t first_invalid_utf8(std::string_view in) {
  for (std::size_t i = 0; i < in.size();) {
    std::uint32_t cp = 0;
    std::size_t length = 0;
    if (!decode_utf8_at(in, i, cp, length)) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::size_t first_lone_surrogate(std::u16string_view in) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool high = in[i] >= 0xD800 && in[i] <= 0xDBFF;
    const bool low = in[i] >= 0xDC00 && in[i] <= 0xDFFF;
    if (high && i + 1 < in.size() && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
      ++i;
    } else if (high || low) {
      return i;
    }
  }
  return std::u16string_view::npos;
}

std::string utf16_to_utf8(std::u16string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::uint32_t cp = in[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < in.size() && in[i + 1] >= 0xDC00 &&
        in[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (in[i + 1] - 0xDC00u);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

}  // namespace hivewarden
