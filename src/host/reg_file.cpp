#include "hivewarden/host/reg_file.hpp"

#include <cctype>
#include <cstdio>
#include <memory>
#include <sstream>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::host {
namespace {

constexpr std::uint32_t kSz = 1, kExpandSz = 2, kBinary = 3, kDword = 4, kMultiSz = 7;

// A hex number of 1 to 8 digits, no sign, no spaces; false otherwise (never throws).
bool parse_type(const std::string& digits, std::uint32_t& out) {
  if (digits.empty() || digits.size() > 8) return false;
  out = 0;
  for (char c : digits) {
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                              : -1;
    if (v < 0) return false;
    out = out * 16 + static_cast<std::uint32_t>(v);
  }
  return true;
}

// The file as UTF-8 lines: UTF-16LE (with BOM) is converted, UTF-8 BOM dropped.
bool decode(const std::string& bytes, std::string& text, bool& version4, std::string& error) {
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xFE) {
    std::u16string u((bytes.size() - 2) / 2, u'\0');
    for (std::size_t i = 0; i < u.size(); ++i) {
      u[i] = static_cast<char16_t>(static_cast<unsigned char>(bytes[2 + 2 * i]) |
                                   (static_cast<unsigned char>(bytes[3 + 2 * i]) << 8));
    }
    text = utf16_to_utf8(u);
  } else if (bytes.size() >= 3 && bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    text = bytes.substr(3);
  } else {
    text = bytes;
  }
  const std::size_t end = text.find_first_of("\r\n");
  const std::string header = text.substr(0, end);
  version4 = header == "REGEDIT4";
  if (!version4 && header != "Windows Registry Editor Version 5.00") {
    error =
        "not a .reg file: the first line must be \"Windows Registry Editor Version 5.00\" or "
        "\"REGEDIT4\"";
    return false;
  }
  return true;
}

// "HKEY_LOCAL_MACHINE\..." -> "\REGISTRY\MACHINE\..."
bool kernel_path(const std::string& name, std::u16string& out, std::string& error) {
  const auto u = utf8_to_utf16(name);
  if (!u) {
    error = "key name is not valid UTF-8";
    return false;
  }
  static thread_local std::unique_ptr<KeyPath> path(new KeyPath);
  const PathStatus s = canonicalize_key(*u, CanonicalOptions{}, *path);
  if (s != PathStatus::kOk) {
    error = std::string("key [") + name + "]: " + path_status_text(s);
    return false;
  }
  out = std::u16string(path->text());
  return true;
}

bool parse_quoted(const std::string& s, std::size_t& at, std::string& out) {
  if (at >= s.size() || s[at] != '"') return false;
  ++at;
  out.clear();
  while (at < s.size()) {
    const char c = s[at++];
    if (c == '\\' && at < s.size()) {
      out += s[at++];  // \\ and \" (regedit escapes only these)
    } else if (c == '"') {
      return true;
    } else {
      out += c;
    }
  }
  return false;
}

std::string utf16le_bytes(const std::u16string& u, bool terminate) {
  std::string out;
  for (char16_t c : u) {
    out += static_cast<char>(c & 0xFF);
    out += static_cast<char>(c >> 8);
  }
  if (terminate) out.append(2, '\0');
  return out;
}

bool parse_hex(const std::string& s, std::string& out) {
  out.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    if (i + 1 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 1]))) {
      return false;
    }
    out += static_cast<char>(std::stoi(s.substr(i, 2), nullptr, 16));
    i += 2;
    if (i < s.size() && s[i] != ',' && s[i] != ' ') return false;
  }
  return true;
}

// Joins continuation lines (regedit ends a wrapped hex line with `\`) into logical lines, each
// with the number of its first physical line.
std::vector<std::pair<std::size_t, std::string>> logical_lines(const std::string& text) {
  std::vector<std::pair<std::size_t, std::string>> lines;
  std::istringstream in(text);
  std::string line, pending;
  std::size_t number = 0, start = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (pending.empty()) {
      start = number;
    } else {
      line.erase(0, line.find_first_not_of(" \t"));
    }
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1);
      continue;
    }
    lines.emplace_back(start, pending + line);
    pending.clear();
  }
  if (!pending.empty()) lines.emplace_back(start, pending);
  return lines;
}

// Parses `"name"=data` or `@=data`; false with a reason.
bool parse_value(const std::string& line, bool version4, std::u16string& name, bool& remove,
                 std::uint32_t& type, std::string& data, std::string& why) {
  std::size_t at = 0;
  std::string raw_name;
  if (line[0] == '@') {
    at = 1;
  } else if (!parse_quoted(line, at, raw_name)) {
    why = "a value line starts with \"name\" or @";
    return false;
  }
  name = utf8_to_utf16(raw_name).value_or(u"");
  if (at >= line.size() || line[at] != '=') {
    why = "expected = after the value name";
    return false;
  }
  const std::string rhs = line.substr(at + 1);
  remove = rhs == "-";
  if (remove) return true;
  if (!rhs.empty() && rhs[0] == '"') {
    std::size_t p = 0;
    std::string s;
    if (!parse_quoted(rhs, p, s)) {
      why = "unterminated string";
      return false;
    }
    type = kSz;
    data = utf16le_bytes(utf8_to_utf16(s).value_or(u""), true);
    return true;
  }
  // hivexregedit --unsafe-printable-strings: str(N):"text", unescaped
  if (rhs.rfind("str(", 0) == 0) {
    const std::size_t close = rhs.find("):\"");
    if (close == std::string::npos || rhs.back() != '"' || rhs.size() < close + 4) {
      why = "str(N): needs a type and a quoted string";
      return false;
    }
    if (!parse_type(rhs.substr(4, close - 4), type)) {
      why = "str(N): N must be a hex type number";
      return false;
    }
    data = utf16le_bytes(utf8_to_utf16(rhs.substr(close + 3, rhs.size() - close - 4)).value_or(u""),
                         true);
    return true;
  }
  if (rhs.rfind("dword:", 0) == 0) {
    const std::string digits = rhs.substr(6);
    if (digits.size() != 8 ||
        digits.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      why = "dword: needs 8 hex digits";
      return false;
    }
    const auto v = static_cast<std::uint32_t>(std::stoul(digits, nullptr, 16));
    type = kDword;
    data.assign(4, '\0');
    for (int i = 0; i < 4; ++i) data[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    return true;
  }
  if (rhs.rfind("hex", 0) == 0) {
    std::size_t colon = rhs.find(':');
    type = kBinary;
    if (rhs.size() > 3 && rhs[3] == '(') {
      const std::size_t close = rhs.find(')');
      if (close == std::string::npos || close > colon) {
        why = "hex(N): needs a closing )";
        return false;
      }
      if (!parse_type(rhs.substr(4, close - 4), type)) {
        why = "hex(N): N must be a hex type number";
        return false;
      }
    }
    if (colon == std::string::npos || !parse_hex(rhs.substr(colon + 1), data)) {
      why = "malformed hex data";
      return false;
    }
    // REGEDIT4 stores these as 8-bit text
    if (version4 && (type == kExpandSz || type == kMultiSz)) {
      std::u16string wide;
      for (char c : data) wide += static_cast<char16_t>(static_cast<unsigned char>(c));
      data = utf16le_bytes(wide, false);
    }
    return true;
  }
  why = "unknown value data (expected \"string\", dword:, hex:, hex(N): or str(N):)";
  return false;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

std::string user_root(const std::u16string& path) {
  std::string p = utf16_to_utf8(path);
  if (p.rfind("\\REGISTRY\\MACHINE", 0) == 0) return "HKEY_LOCAL_MACHINE" + p.substr(17);
  if (p.rfind("\\REGISTRY\\USER", 0) == 0) return "HKEY_USERS" + p.substr(14);
  return p;
}

std::string hex_list(const std::string& data) {
  std::string out;
  char b[4];
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::snprintf(b, sizeof b, "%s%02x", i ? "," : "", static_cast<unsigned char>(data[i]));
    out += b;
  }
  return out;
}

}  // namespace

bool import_reg(const std::string& bytes, const std::string& file_name, Registry& registry,
                RegImportStats& stats, std::string& error) {
  std::string text;
  bool version4 = false;
  if (!decode(bytes, text, version4, error)) {
    error = file_name + ":1: " + error;
    return false;
  }
  std::u16string current;
  bool have_key = false;
  const auto lines = logical_lines(text);
  for (std::size_t i = 1; i < lines.size(); ++i) {  // line 0 is the header
    const auto& [number, line] = lines[i];
    const std::string where = file_name + ":" + std::to_string(number) + ": ";
    if (line.empty() || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') {
        error = where + "a key line ends with ]";
        return false;
      }
      const bool remove = line.size() > 1 && line[1] == '-';
      std::string e;
      if (!kernel_path(line.substr(remove ? 2 : 1, line.size() - (remove ? 3 : 2)), current, e)) {
        error = where + e;
        return false;
      }
      if (remove && split_path(current).size() <= 2) {
        error = where + "a root key cannot be deleted";
        return false;
      }
      if (remove) {  // delete the whole subtree, deepest first
        std::vector<std::u16string> doomed;
        registry.walk([&](const std::u16string& p, const Key&) {
          if (p.size() >= current.size() && fold(p.substr(0, current.size())) == fold(current) &&
              (p.size() == current.size() || p[current.size()] == u'\\')) {
            doomed.push_back(p);
          }
        });
        for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) registry.delete_key(*it);
        ++stats.deleted;
        have_key = false;
        continue;
      }
      std::size_t created = 0;  // missing parents too, as regedit does
      const Status s = registry.create_key_path(current, created);
      if (s != Status::kSuccess) {
        error = where + "cannot create key: " + status_name(s);
        return false;
      }
      have_key = true;
      ++stats.keys;
      continue;
    }
    if (!have_key) {
      error = where + "a value outside any [key] section";
      return false;
    }
    std::u16string name;
    bool remove = false;
    std::uint32_t type = 0;
    std::string data, why;
    if (!parse_value(line, version4, name, remove, type, data, why)) {
      error = where + why;
      return false;
    }
    if (remove) {
      registry.delete_value(current, name);
      ++stats.deleted;
    } else {
      registry.set_value(current, name, type, data);
      ++stats.values;
    }
  }
  return true;
}

std::string export_reg(const Registry& registry, const std::u16string& root) {
  std::string out = "Windows Registry Editor Version 5.00\r\n";
  const std::u16string folded_root = fold(root);
  registry.walk([&](const std::u16string& path, const Key& key) {
    if (path.size() < root.size() || fold(path.substr(0, root.size())) != folded_root) return;
    if (path.size() > root.size() && path[root.size()] != u'\\') return;
    if (split_path(path).size() < 2) return;  // \REGISTRY itself
    out += "\r\n[" + user_root(path) + "]\r\n";
    for (const auto& [folded, v] : key.values) {
      out += v.name.empty() ? std::string("@") : "\"" + escape(utf16_to_utf8(v.name)) + "\"";
      out += "=";
      if (v.type == kSz && v.data.size() % 2 == 0 && v.data.size() >= 2 &&
          v.data[v.data.size() - 1] == 0 && v.data[v.data.size() - 2] == 0) {
        std::u16string s(v.data.size() / 2 - 1, u'\0');
        for (std::size_t i = 0; i < s.size(); ++i) {
          s[i] = static_cast<char16_t>(static_cast<unsigned char>(v.data[2 * i]) |
                                       (static_cast<unsigned char>(v.data[2 * i + 1]) << 8));
        }
        // Line breaks cannot stand in a quoted string: such values go out as hex(1), as regedit
        // does.
        if (s.find_first_of(std::u16string(u"\0\r\n", 3)) == std::u16string::npos) {
          out += "\"" + escape(utf16_to_utf8(s)) + "\"\r\n";
          continue;
        }
      }
      if (v.type == kDword && v.data.size() == 4) {
        char b[16];
        std::uint32_t x = 0;
        for (int i = 3; i >= 0; --i)
          x = (x << 8) | static_cast<unsigned char>(v.data[static_cast<std::size_t>(i)]);
        std::snprintf(b, sizeof b, "dword:%08x", x);
        out += std::string(b) + "\r\n";
        continue;
      }
      char t[16];
      std::snprintf(t, sizeof t, v.type == kBinary ? "hex:" : "hex(%x):", v.type);
      out += std::string(t) + hex_list(v.data) + "\r\n";
    }
  });
  return out;
}

bool load_subtree(const std::string& bytes, const std::string& file_name, Subtree& out,
                  std::string& error) {
  Registry scratch;
  RegImportStats stats;
  if (!import_reg(bytes, file_name, scratch, stats, error)) return false;
  std::string text;
  bool v4 = false;
  decode(bytes, text, v4, error);
  const auto lines = logical_lines(text);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i].second;
    if (line.size() > 2 && line[0] == '[' && line[1] != '-') {
      std::u16string first;
      if (!kernel_path(line.substr(1, line.size() - 2), first, error)) return false;
      return scratch.save_key(first, out) == Status::kSuccess ||
             (error = file_name + ": no key to restore", false);
    }
  }
  error = file_name + ": no [key] section to restore";
  return false;
}

}  // namespace hivewarden::host
