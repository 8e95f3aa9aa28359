// The bypass suite's attempts as data (SPEC §9 `eval` lines), for the script that replays them with
// reg.exe on a real Windows test machine (scripts/windows/bypass-on-windows.ps1). The lines are
// rendered from the suite's own attempts() (bypass_test.cpp), never kept by hand; each line says
// whether reg.exe can reproduce it on a machine and, when it cannot, why.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/core/operation.hpp"

namespace hivewarden::test::bypass_data {

// The fields of one attempt the data carries (the suite's Attempt, minus its C++ types).
struct AttemptFields {
  std::size_t id = 0;  // position in attempts(), 1-based, the same as the line number
  std::string_view route;
  std::string_view what;
  std::string_view expect;  // denied | reported | distinct
  Operation op = Operation::kCreateKey;
  std::u16string_view key;
  std::u16string_view value;
  std::u16string_view new_name;
  std::u16string_view image;
  std::uint32_t pid = 0;
  std::u16string_view user_sid;
};

// Windows' own limits on names (MSDN "Registry Element Size Limits"): past them the configuration
// manager refuses the name itself, so a refusal on a machine says nothing about hivewarden.
inline constexpr std::size_t kMaxKeyComponent = 255;
inline constexpr std::size_t kMaxValueName = 16383;
inline constexpr std::size_t kMaxKeyLevels = 512;

// JSON string text for UTF-16 `s`: ASCII only (every other unit as \uXXXX, surrogates as they
// are), so that the file reads the same in any code page (PowerShell 5.1 reads ANSI by default).
inline std::string json_string(std::u16string_view s) {
  std::string out = "\"";
  for (const char16_t c : s) {
    if (c == u'"' || c == u'\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out + "\"";
}

inline std::string json_string(std::string_view ascii) {
  return json_string(std::u16string(ascii.begin(), ascii.end()));
}

inline char16_t ascii_upper(char16_t c) {
  return c >= u'a' && c <= u'z' ? c - 32 : c;
}

inline bool starts_with_nocase(std::u16string_view s, std::u16string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_upper(s[i]) != ascii_upper(prefix[i])) return false;
  return true;
}

// The key's first component is `root` (any case), followed by a separator or the end.
inline bool has_root(std::u16string_view key, std::u16string_view root) {
  return starts_with_nocase(key, root) && (key.size() == root.size() || key[root.size()] == u'\\');
}

inline bool is_kernel_form(std::u16string_view key) {
  return starts_with_nocase(key, u"\\REGISTRY\\") || starts_with_nocase(key, u"REGISTRY\\");
}

inline bool is_per_user(std::u16string_view key) {
  return has_root(key, u"HKU") || has_root(key, u"HKEY_USERS") || has_root(key, u"HKCU") ||
         has_root(key, u"HKEY_CURRENT_USER") || starts_with_nocase(key, u"\\REGISTRY\\USER\\") ||
         starts_with_nocase(key, u"REGISTRY\\USER\\");
}

inline bool over_windows_limits(const AttemptFields& a) {
  if (a.value.size() > kMaxValueName) return true;
  std::size_t levels = 1, component = 0;
  for (const char16_t c : a.key) {
    if (c == u'\\') {
      ++levels;
      component = 0;
    } else if (++component > kMaxKeyComponent) {
      return true;
    }
  }
  return levels > kMaxKeyLevels;
}

// Why reg.exe on a real machine cannot perform `a` as the suite states it; empty when it can.
// `ordinary_images` are the suite's stand-ins for "any process the policy gives nothing": only
// those can be played by the script's own reg.exe / powershell.exe.
inline std::string machine_obstacle(const AttemptFields& a,
                                    const std::vector<std::u16string_view>& ordinary_images) {
  const auto has_nul = [](std::u16string_view s) { return s.find(u'\0') != s.npos; };
  if (has_nul(a.key) || has_nul(a.value) || has_nul(a.new_name))
    return "a NUL inside a name: reg.exe and the Win32 registry calls take NUL-terminated names";
  if (a.pid == 4)
    return "pid 4 is the System process: the script's operations come from its own process";
  bool ordinary = false;
  for (const auto image : ordinary_images) ordinary = ordinary || image == a.image;
  if (!ordinary)
    return "the process image is not the script's own (reg.exe / powershell.exe): the attempt is "
           "about which image performs it";
  if (!a.user_sid.empty())
    return "HKCU through another user's SID: reg.exe's HKCU is the hive of the user running it";
  if (is_per_user(a.key)) return "a per-user hive of a SID that is not loaded on a test machine";
  if (is_kernel_form(a.key))
    return "a kernel-form name (\\REGISTRY\\...): reg.exe takes only Win32 roots (HKLM, HKU...)";
  if (over_windows_limits(a))
    return "over Windows' own name limits (255-unit component, 16,383-unit value name, 512 "
           "levels): Windows refuses it whatever hivewarden decides";
  if (a.op == Operation::kReplaceKey)
    return "replace-key (RegReplaceKey) swaps a hive file at the next boot: not done on a live "
           "test machine";
  return {};
}

// One `eval` input line (SPEC §9) for `a`, with the fields the script reads: `id`, `route`,
// `what`, `expect`, and `reg_exe` (true, or false with `unreproducible` saying why). `eval`
// ignores the fields it does not know.
inline std::string render_line(const AttemptFields& a,
                               const std::vector<std::u16string_view>& ordinary_images) {
  const OperationTraits& t = traits(a.op);
  std::string line = "{\"id\":" + std::to_string(a.id) + ",\"op\":" + json_string(t.name) +
                     ",\"key\":" + json_string(a.key);
  if (t.matches_values) line += ",\"value\":" + json_string(a.value);
  if (a.op == Operation::kRenameKey) line += ",\"new_name\":" + json_string(a.new_name);
  if (a.op == Operation::kCreateKey) line += ",\"key_exists\":false";
  line += ",\"image\":" + json_string(a.image) + ",\"pid\":" + std::to_string(a.pid);
  if (!a.user_sid.empty()) line += ",\"user_sid\":" + json_string(a.user_sid);
  line += ",\"route\":" + json_string(a.route) + ",\"what\":" + json_string(a.what) +
          ",\"expect\":" + json_string(a.expect);
  const std::string obstacle = machine_obstacle(a, ordinary_images);
  if (obstacle.empty()) return line + ",\"reg_exe\":true}";
  return line + ",\"reg_exe\":false,\"unreproducible\":" + json_string(obstacle) + "}";
}

}  // namespace hivewarden::test::bypass_data
