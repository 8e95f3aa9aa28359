// Key patterns of monitored entries (SPEC §6): a root key, then literal names, `*`, `*{N}`,
// `**` and name globs, turned into components of the kernel form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hivewarden::policy {

enum class ComponentKind : std::uint8_t { kLiteral, kAnyOne, kAnyN, kAnyDeep, kGlob };

struct PatternComponent {
  ComponentKind kind = ComponentKind::kLiteral;
  std::uint32_t count = 1;  // N of `*{N}`
  std::u16string text;      // name or glob, as written (literal and glob)
};

struct KeyPattern {
  std::vector<PatternComponent> components;
};

// Parses a key pattern. The root must be literal: \REGISTRY\..., HKLM, HKU, HKCR, HKCC or their
// long forms; HKCU means every user's (\REGISTRY\USER\*). CurrentControlSet right under
// \REGISTRY\MACHINE\SYSTEM becomes ControlSet00N. On failure returns false and says why.
bool parse_key_pattern(std::string_view utf8, std::uint32_t control_set, KeyPattern& out, std::string& error);

// Parses a hardened key: like a key pattern, but every component a name (globs inside a name
// allowed, whole-component wildcards not).
bool parse_literal_key(std::string_view utf8, std::uint32_t control_set, KeyPattern& out, std::string& error);

}  // namespace hivewarden::policy
