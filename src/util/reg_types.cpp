#include "hivewarden/util/reg_types.hpp"

#include <cstdio>

#include "hivewarden/core/registry_data.hpp"
#include "hivewarden/core/rules.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

constexpr NamedBit kTypes[] = {
    {"REG_NONE", reg_type::kNone},          {"REG_SZ", reg_type::kSz},
    {"REG_EXPAND_SZ", reg_type::kExpandSz}, {"REG_BINARY", reg_type::kBinary},
    {"REG_DWORD", reg_type::kDword},        {"REG_DWORD_BIG_ENDIAN", reg_type::kDwordBigEndian},
    {"REG_LINK", reg_type::kLink},          {"REG_MULTI_SZ", reg_type::kMultiSz},
    {"REG_QWORD", reg_type::kQword},
};

// The table's spelling: upper case, "REG_" in front unless written, then '-' as '_' (so
// "multi-sz" and "REG_MULTI_SZ" match, "reg-sz" does not).
std::string normalized(std::string_view name) {
  std::string out;
  for (char c : name) out += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  if (out.rfind("REG_", 0) != 0) out.insert(0, "REG_");
  for (char& c : out) c = c == '-' ? '_' : c;
  return out;
}

}  // namespace

std::string reg_type_name(std::uint32_t type) {
  if (const std::string_view name = name_by_bit(kTypes, type); !name.empty())
    return std::string(name);
  char b[24];
  std::snprintf(b, sizeof b, "REG_0x%x", type);
  return b;
}

bool reg_type_by_name(std::string_view name, std::uint32_t& type) {
  return bit_by_name(kTypes, normalized(name), type);
}

std::string sysmon_details(std::uint32_t type, std::string_view data) {
  const Details d = render_details(type, data);
  switch (d.kind) {
    case DetailsKind::kNumber:
      return utf16_to_utf8(std::u16string_view(d.number, d.number_length));
    case DetailsKind::kEmpty:
      return "(Empty)";
    case DetailsKind::kBinary:
      return "Binary Data";
    case DetailsKind::kString:
      break;
  }
  std::u16string text(d.string_bytes.size() / 2, u'\0');
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto unit =
        static_cast<char16_t>(static_cast<unsigned char>(d.string_bytes[2 * i]) |
                              (static_cast<unsigned char>(d.string_bytes[2 * i + 1]) << 8));
    text[i] = d.multi && unit == 0 ? u' ' : unit;
  }
  return utf16_to_utf8(text);
}

}  // namespace hivewarden
