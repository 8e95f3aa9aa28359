#include "hivewarden/core/registry_data.hpp"

namespace hivewarden {
using namespace reg_type;  // the REG_* numbers

Details render_details(std::uint32_t type, std::string_view data) {
  Details d;
  std::uint64_t n = 0;
  bool is_dword = false;
  if (data_number(type, data, n, is_dword)) {
    static constexpr char16_t kHex[] = u"0123456789abcdef";
    const char16_t* head = is_dword ? u"DWORD (0x" : u"QWORD (0x";
    std::uint32_t at = 0;
    for (; head[at] != 0; ++at) d.number[at] = head[at];
    const int halves = is_dword ? 1 : 2;
    for (int h = halves - 1; h >= 0; --h) {
      const auto half = static_cast<std::uint32_t>(n >> (32 * h));
      for (int shift = 28; shift >= 0; shift -= 4) d.number[at++] = kHex[(half >> shift) & 0xF];
      if (h == 1) {
        for (const char16_t c : u"-0x") {
          if (c != 0) d.number[at++] = c;
        }
      }
    }
    d.number[at++] = u')';
    d.number_length = at;
    d.kind = DetailsKind::kNumber;
    return d;
  }
  if (data_string(type, data, d.string_bytes, d.multi)) {
    d.kind = d.string_bytes.empty() ? DetailsKind::kEmpty : DetailsKind::kString;
    return d;
  }
  d.kind = data.empty() ? DetailsKind::kEmpty : DetailsKind::kBinary;
  return d;
}

bool data_number(std::uint32_t type, std::string_view data, std::uint64_t& number, bool& is_dword) {
  const std::size_t width = type == kDword ? 4 : type == kQword ? 8 : 0;
  if (width == 0 || data.size() != width) return false;
  number = 0;
  for (std::size_t i = width; i-- > 0;)
    number = (number << 8) | static_cast<unsigned char>(data[i]);
  is_dword = width == 4;
  return true;
}

bool is_binary_type(std::uint32_t type) {
  return type != kSz && type != kExpandSz && type != kMultiSz && type != kDword && type != kQword;
}

bool data_string(std::uint32_t type, std::string_view data, std::string_view& bytes, bool& multi) {
  if (type != kSz && type != kExpandSz && type != kMultiSz) return false;
  multi = type == kMultiSz;
  std::size_t units = data.size() / 2;
  auto unit_is_nul = [&](std::size_t i) { return data[2 * i] == 0 && data[2 * i + 1] == 0; };
  if (!multi) {  // a string ends at its first NUL
    for (std::size_t i = 0; i < units; ++i) {
      if (unit_is_nul(i)) {
        units = i;
        break;
      }
    }
  }
  while (units > 0 && unit_is_nul(units - 1)) --units;  // the list's terminators
  bytes = data.substr(0, units * 2);
  return true;
}

}  // namespace hivewarden
