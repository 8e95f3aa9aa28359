#include "hivewarden/consumer/value_text.hpp"

#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
std::string utf16le_bytes_to_utf8(std::string_view bytes) {
  return utf16_to_utf8(read_utf16le(bytes));
}

nlohmann::ordered_json value_to_json(std::uint32_t type, std::string_view data) {
  switch (type) {
    case reg_type::kSz:
    case reg_type::kExpandSz:
    case reg_type::kLink: {
      std::u16string s = read_utf16le(data);
      if (!s.empty() && s.back() == u'\0') s.pop_back();
      return utf16_to_utf8(s);
    }
    case reg_type::kMultiSz: {
      const std::u16string s = read_utf16le(data);
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
      if (data.size() == 4) return read_little_endian(data);
      break;
    case reg_type::kDwordBigEndian:
      if (data.size() == 4) {
        std::uint32_t v = 0;
        for (char c : data) v = (v << 8) | static_cast<unsigned char>(c);
        return v;
      }
      break;
    case reg_type::kQword:
      if (data.size() == 8) return read_little_endian(data);
      break;
    default:
      break;
  }
  return hex_bytes(data);
}

}  // namespace hivewarden
