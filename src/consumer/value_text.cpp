#include "hivewarden/consumer/value_text.hpp"

#include <cstdio>
#include <cstring>

#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

std::u16string utf16_of(std::string_view bytes) {
  std::u16string s(bytes.size() / 2, u'\0');
  std::memcpy(s.data(), bytes.data(), s.size() * 2);
  return s;
}

std::uint64_t little_endian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

}  // namespace

std::string reg_type_name(std::uint32_t type) {
  switch (type) {
    case reg_type::kNone:
      return "REG_NONE";
    case reg_type::kSz:
      return "REG_SZ";
    case reg_type::kExpandSz:
      return "REG_EXPAND_SZ";
    case reg_type::kBinary:
      return "REG_BINARY";
    case reg_type::kDword:
      return "REG_DWORD";
    case reg_type::kDwordBigEndian:
      return "REG_DWORD_BIG_ENDIAN";
    case reg_type::kLink:
      return "REG_LINK";
    case reg_type::kMultiSz:
      return "REG_MULTI_SZ";
    case reg_type::kQword:
      return "REG_QWORD";
    default: {
      char b[24];
      std::snprintf(b, sizeof b, "REG_0x%x", type);
      return b;
    }
  }
}

std::string utf16le_bytes_to_utf8(std::string_view bytes) {
  return utf16_to_utf8(utf16_of(bytes));
}

nlohmann::ordered_json value_to_json(std::uint32_t type, std::string_view data) {
  switch (type) {
    case reg_type::kSz:
    case reg_type::kExpandSz:
    case reg_type::kLink: {
      std::u16string s = utf16_of(data);
      if (!s.empty() && s.back() == u'\0') s.pop_back();
      return utf16_to_utf8(s);
    }
    case reg_type::kMultiSz: {
      const std::u16string s = utf16_of(data);
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      std::size_t start = 0;
      while (start < s.size()) {
        std::size_t end = s.find(u'\0', start);
        if (end == std::u16string::npos) end = s.size();
        if (end == start) break;  // the empty string ends the list
        list.push_back(utf16_to_utf8(s.substr(start, end - start)));
        start = end + 1;
      }
      return list;
    }
    case reg_type::kDword:
      if (data.size() == 4) return little_endian(data);
      break;
    case reg_type::kDwordBigEndian:
      if (data.size() == 4) {
        std::uint32_t v = 0;
        for (char c : data) v = (v << 8) | static_cast<unsigned char>(c);
        return v;
      }
      break;
    case reg_type::kQword:
      if (data.size() == 8) return little_endian(data);
      break;
    default:
      break;
  }
  return hex_bytes(data);
}

}  // namespace hivewarden
