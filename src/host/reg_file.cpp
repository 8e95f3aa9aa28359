#include "hivewarden/host/reg_file.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/number.hpp"
#include "hivewarden/util/read_file.hpp"
#include "hivewarden/util/reg_types.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::host {
namespace {

// A .reg type number (the N of hex(N) / str(N)): 1 to 8 hex digits, no 0x, no sign, no spaces;
// false otherwise.
bool parse_type(const std::string& digits, std::uint32_t& out) {
  NumberForm form;
  form.base = NumberBase::kHex;
  form.max_digits = 8;
  const std::optional<std::uint64_t> value = parse_unsigned(digits, form);
  if (value) out = static_cast<std::uint32_t>(*value);
  return value.has_value();
}

// The line a byte offset (or UTF-16 unit index) falls on, counting from 1.
template <class Text>
std::size_t line_at(const Text& text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// UTF-16LE bytes (after the BOM) as UTF-8. Fails on an odd byte count or a lone surrogate, which
// UTF-8 cannot carry: either would otherwise be dropped or become U+FFFD without a word.
bool utf16le_to_utf8(std::string_view bytes, std::string& text, std::string& error) {
  if (bytes.size() % 2 != 0) {
    error = "1: a UTF-16 file with an odd number of bytes (cut short?)";
    return false;
  }
  const std::u16string u = read_utf16le(bytes);
  if (const std::size_t i = first_lone_surrogate(u); i != std::u16string::npos) {
    error = std::to_string(line_at(u, i)) + ": a lone UTF-16 surrogate: not valid text";
    return false;
  }
  text = utf16_to_utf8(u);
  return true;
}

// The file as UTF-8 text: UTF-16LE (with BOM) is converted into `storage`, a UTF-8 BOM dropped.
// On failure `error` starts with the line number.
bool decode(const std::string& bytes, std::string& storage, std::string_view& text, bool& version4,
            std::string& error) {
  text = bytes;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xFE) {
    if (!utf16le_to_utf8(text.substr(2), storage, error)) return false;
    text = storage;
  } else if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  std::string_view header = text.substr(0, text.find_first_of("\r\n"));
  version4 = header == "REGEDIT4";
  if (!version4 && header != "Windows Registry Editor Version 5.00") {
    error =
        "1: not a .reg file: the first line must be \"Windows Registry Editor Version 5.00\" or "
        "\"REGEDIT4\"";
    return false;
  }
  return true;
}

// "HKEY_LOCAL_MACHINE\..." -> "\REGISTRY\MACHINE\..."
bool kernel_path(const std::string& name, std::uint32_t control_set, std::u16string& out,
                 std::string& error) {
  const auto u = utf8_to_utf16(name);
  if (!u) {
    error = "key name [" + name + "] is not valid UTF-8";
    return false;
  }
  static thread_local std::unique_ptr<KeyPath> path(new KeyPath);
  const PathStatus s = canonicalize_key(*u, CanonicalOptions{control_set, {}}, *path);
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

bool parse_hex(const std::string& s, std::string& out) {
  out.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    if (i + 1 >= s.size() || !append_hex_bytes(std::string_view(s).substr(i, 2), out)) return false;
    i += 2;
    if (i < s.size() && s[i] != ',' && s[i] != ' ') return false;
  }
  return true;
}

// Logical lines one at a time: continuation lines (regedit ends a wrapped hex line with `\`)
// joined, each numbered by its first physical line. Reads in place; holds one line at a time.
class LogicalLines {
 public:
  enum class Next { kLine, kEnd, kTooLong };
  explicit LogicalLines(std::string_view text) : rest_(text) {}

  Next next(std::size_t& number, std::string& line) {
    line.clear();
    std::string_view piece;
    bool continued = false;
    while (physical(piece)) {
      if (!continued) {
        number = physical_number_;
      } else {
        piece.remove_prefix(std::min(piece.find_first_not_of(" \t"), piece.size()));
      }
      const bool more = !piece.empty() && piece.back() == '\\';
      if (more) piece.remove_suffix(1);
      if (line.size() + piece.size() > kMaxRegLineBytes) return Next::kTooLong;
      line.append(piece);
      if (!more) return Next::kLine;
      continued = true;
    }
    return continued ? Next::kLine : Next::kEnd;
  }

 private:
  // A line ends at \r\n, \n or a lone \r (old Mac files: read as one line, they would import
  // nothing and say nothing).
  bool physical(std::string_view& line) {
    if (rest_.empty()) return false;
    const std::size_t end = rest_.find_first_of("\r\n");
    line = rest_.substr(0, end);
    std::size_t next = end == std::string_view::npos ? rest_.size() : end + 1;
    if (end != std::string_view::npos && rest_[end] == '\r' && next < rest_.size() &&
        rest_[next] == '\n')
      ++next;
    rest_.remove_prefix(next);
    ++physical_number_;
    return true;
  }
  std::string_view rest_;
  std::size_t physical_number_ = 0;
};

std::string line_too_long(std::size_t number) {
  return std::to_string(number) + ": line longer than the limit of " +
         std::to_string(kMaxRegLineBytes) + " bytes (continuation lines joined)";
}

// Text from the file as UTF-16; false (with `why` naming `what`) when it is not valid UTF-8.
bool text16(const std::string& utf8, const std::string& what, std::u16string& out,
            std::string& why) {
  auto u = utf8_to_utf16(utf8);
  if (!u) {
    why = what + " is not valid UTF-8";
    return false;
  }
  out = std::move(*u);
  return true;
}

// The data forms of a value line (the text after `=`); each false with a reason.
bool parse_string_data(const std::string& rhs, std::uint32_t& type, std::string& data,
                       std::string& why) {
  std::size_t p = 0;
  std::string s;
  if (!parse_quoted(rhs, p, s)) {
    why = "unterminated string";
    return false;
  }
  if (p != rhs.size()) {
    why = "text after the closing quote of the string";
    return false;
  }
  std::u16string wide;
  if (!text16(s, "the string data", wide, why)) return false;
  type = reg_type::kSz;
  data.clear();
  append_utf16le(data, wide, true);
  return true;
}

// hivexregedit --unsafe-printable-strings: str(N):"text", unescaped
bool parse_printable_data(const std::string& rhs, std::uint32_t& type, std::string& data,
                          std::string& why) {
  const std::size_t close = rhs.find("):\"");
  if (close == std::string::npos || rhs.back() != '"' || rhs.size() < close + 4) {
    why = "str(N): needs a type and a quoted string";
    return false;
  }
  if (!parse_type(rhs.substr(4, close - 4), type)) {
    why = "str(N): N must be a hex type number";
    return false;
  }
  std::u16string wide;
  if (!text16(rhs.substr(close + 3, rhs.size() - close - 4), "the str(N) data", wide, why))
    return false;
  data.clear();
  append_utf16le(data, wide, true);
  return true;
}

bool parse_dword_data(const std::string& rhs, std::uint32_t& type, std::string& data,
                      std::string& why) {
  NumberForm form;  // regedit writes exactly 8 hex digits, no 0x
  form.base = NumberBase::kHex;
  form.min_digits = form.max_digits = 8;
  const std::optional<std::uint64_t> v = parse_unsigned(std::string_view(rhs).substr(6), form);
  if (!v) {
    why = "dword: needs 8 hex digits";
    return false;
  }
  type = reg_type::kDword;
  data.clear();
  append_little_endian(data, *v, 4);
  return true;
}

bool parse_hex_data(const std::string& rhs, bool version4, std::uint32_t& type, std::string& data,
                    std::string& why) {
  std::size_t colon = rhs.find(':');
  type = reg_type::kBinary;
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
  if (version4 && (type == reg_type::kExpandSz || type == reg_type::kMultiSz)) {
    std::u16string wide;
    for (char c : data) wide += static_cast<char16_t>(static_cast<unsigned char>(c));
    data.clear();
    append_utf16le(data, wide, false);
  }
  return true;
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
  if (!text16(raw_name, "the value name", name, why)) return false;
  if (at >= line.size() || line[at] != '=') {
    why = "expected = after the value name";
    return false;
  }
  const std::string rhs = line.substr(at + 1);
  remove = rhs == "-";
  if (remove) return true;
  if (!rhs.empty() && rhs[0] == '"') return parse_string_data(rhs, type, data, why);
  if (rhs.rfind("str(", 0) == 0) return parse_printable_data(rhs, type, data, why);
  if (rhs.rfind("dword:", 0) == 0) return parse_dword_data(rhs, type, data, why);
  if (rhs.rfind("hex", 0) == 0) return parse_hex_data(rhs, version4, type, data, why);
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

namespace {
std::string over_file_limit(const std::string& file_name, const std::string& size) {
  return file_name + ": " + size + " bytes, over the limit of " + std::to_string(kMaxRegFileBytes) +
         " bytes for a .reg file";
}
}  // namespace

bool read_reg_file(const std::string& path, std::string& bytes, std::string& error) {
  std::string why;
  switch (read_file_bounded(path, kMaxRegFileBytes, bytes, why)) {
    case ReadFileStatus::kOk:
      return true;
    case ReadFileStatus::kTooLarge:
      error = over_file_limit(path, "more than " + std::to_string(kMaxRegFileBytes));
      return false;
    case ReadFileStatus::kCannotOpen:
      error = "cannot open " + path + " (" + why.substr(why.find(": ") + 2) + ")";
      return false;
    case ReadFileStatus::kReadError:
      error = path + ": " + why;
      return false;
  }
  return false;
}

namespace {

// Where import_reg is in the file: the [key] section the value lines go to.
struct ImportState {
  Registry& registry;
  RegImportStats& stats;
  std::uint32_t control_set;
  bool version4 = false;
  std::u16string current{};  // the section's key (kernel path)
  bool have_key = false;     // false before the first section and after a [-key] one
};

// `[key]` creates the key (missing parents too, as regedit does); `[-key]` deletes its subtree.
bool apply_key_line(const std::string& line, ImportState& st, std::string& why) {
  if (line.back() != ']') {
    why = "a key line ends with ]";
    return false;
  }
  const bool remove = line.size() > 1 && line[1] == '-';
  if (!kernel_path(line.substr(remove ? 2 : 1, line.size() - (remove ? 3 : 2)), st.control_set,
                   st.current, why)) {
    return false;
  }
  if (remove && split_path(st.current).size() <= 2) {
    why = "a root key cannot be deleted";
    return false;
  }
  if (remove) {  // the whole subtree: emptied in one step, then the key itself
    if (st.registry.key_exists(st.current)) {
      st.registry.restore_key(st.current, Key{});
      st.registry.delete_key(st.current);
    }
    ++st.stats.deleted;
    st.have_key = false;
    return true;
  }
  std::size_t created = 0;
  const Status s = st.registry.create_key_path(st.current, created);
  if (s != Status::kSuccess) {
    why = std::string("cannot create key: ") + status_name(s);
    return false;
  }
  st.have_key = true;
  ++st.stats.keys;
  return true;
}

// `"name"=data`, `@=data` or `"name"=-` in the current section.
bool apply_value_line(const std::string& line, ImportState& st, std::string& why) {
  if (!st.have_key) {
    why = "a value outside any [key] section";
    return false;
  }
  std::u16string name;
  bool remove = false;
  std::uint32_t type = 0;
  std::string data;
  if (!parse_value(line, st.version4, name, remove, type, data, why)) return false;
  if (remove) {
    st.registry.delete_value(st.current, name);
    ++st.stats.deleted;
    return true;
  }
  if (st.registry.set_value(st.current, name, type, data) == Status::kNameTooLong) {
    why = "a value name of " + std::to_string(name.size()) +
          " UTF-16 units, over Windows' limit of " + std::to_string(kMaxValueNameUnits);
    return false;
  }
  ++st.stats.values;
  return true;
}

}  // namespace

bool import_reg(const std::string& bytes, const std::string& file_name, Registry& registry,
                RegImportStats& stats, std::string& error, std::uint32_t control_set) {
  if (bytes.size() > kMaxRegFileBytes) {
    error = over_file_limit(file_name, std::to_string(bytes.size()));
    return false;
  }
  std::string storage;
  std::string_view text;
  ImportState st{registry, stats, control_set};
  if (!decode(bytes, storage, text, st.version4, error)) {
    error = file_name + ":" + error;
    return false;
  }
  LogicalLines lines(text);
  std::size_t number = 0;
  std::string line;
  bool header = true;
  for (;;) {
    const LogicalLines::Next got = lines.next(number, line);
    if (got == LogicalLines::Next::kEnd) return true;
    if (got == LogicalLines::Next::kTooLong) {
      error = file_name + ":" + line_too_long(number);
      return false;
    }
    if (header) {  // checked by decode
      header = false;
      continue;
    }
    if (line.empty() || line[0] == ';') continue;
    std::string why;
    const bool ok =
        line[0] == '[' ? apply_key_line(line, st, why) : apply_value_line(line, st, why);
    if (!ok) {
      error = file_name + ":" + std::to_string(number) + ": " + why;
      return false;
    }
  }
}

bool export_reg(const Registry& registry, const std::u16string& root,
                const std::function<bool(std::string_view)>& sink) {
  bool ok = sink("Windows Registry Editor Version 5.00\r\n");
  std::string out;  // one key's section at a time
  const std::u16string folded_root = fold(root);
  registry.walk([&](const std::u16string& path, const Key& key) {
    if (!ok) return;  // the sink failed: nothing more to write
    if (path.size() < root.size() || fold(path.substr(0, root.size())) != folded_root) return;
    if (path.size() > root.size() && path[root.size()] != u'\\') return;
    if (split_path(path).size() < 2) return;  // \REGISTRY itself
    out = "\r\n[" + user_root(path) + "]\r\n";
    for (const auto& [folded, v] : key.values) {
      out += v.name.empty() ? std::string("@") : "\"" + escape(utf16_to_utf8(v.name)) + "\"";
      out += "=";
      if (v.type == reg_type::kSz && v.data.size() % 2 == 0 && v.data.size() >= 2 &&
          v.data[v.data.size() - 1] == 0 && v.data[v.data.size() - 2] == 0) {
        const std::u16string s =
            read_utf16le(std::string_view(v.data).substr(0, v.data.size() - 2));
        // Line breaks cannot stand in a quoted string: such values go out as hex(1), as regedit
        // does.
        if (s.find_first_of(std::u16string(u"\0\r\n", 3)) == std::u16string::npos) {
          out += "\"" + escape(utf16_to_utf8(s)) + "\"\r\n";
          continue;
        }
      }
      if (v.type == reg_type::kDword && v.data.size() == 4) {
        char b[16];
        std::snprintf(b, sizeof b, "dword:%08x", static_cast<unsigned>(read_little_endian(v.data)));
        out += std::string(b) + "\r\n";
        continue;
      }
      char t[16];
      std::snprintf(t, sizeof t, v.type == reg_type::kBinary ? "hex:" : "hex(%x):", v.type);
      out += std::string(t) + hex_list(v.data) + "\r\n";
    }
    ok = sink(out);
  });
  return ok;
}

std::string export_reg(const Registry& registry, const std::u16string& root) {
  std::string out;
  export_reg(registry, root, [&out](std::string_view piece) {
    out += piece;
    return true;
  });
  return out;
}

bool load_subtree(const std::string& bytes, const std::string& file_name, Subtree& out,
                  std::string& error, std::uint32_t control_set) {
  Registry scratch;
  RegImportStats stats;
  if (!import_reg(bytes, file_name, scratch, stats, error, control_set)) return false;
  std::string storage;
  std::string_view text;
  bool v4 = false;
  decode(bytes, storage, text, v4, error);  // succeeded in import_reg
  LogicalLines lines(text);
  std::size_t number = 0;
  std::string line;
  lines.next(number, line);  // the header
  while (lines.next(number, line) == LogicalLines::Next::kLine) {
    if (line.size() > 2 && line[0] == '[' && line[1] != '-') {
      std::u16string first;
      if (!kernel_path(line.substr(1, line.size() - 2), control_set, first, error)) return false;
      return scratch.save_key(first, out) == Status::kSuccess ||
             (error = file_name + ": no key to restore", false);
    }
  }
  error = file_name + ": no [key] section to restore";
  return false;
}

}  // namespace hivewarden::host
