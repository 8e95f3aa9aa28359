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
  bool classes_root = false;  // written as HKCR\... (components hold the machine's place)
};

// The folded form of a name (case_fold's fold_units), as the compiler stores names.
std::u16string folded(std::u16string_view name);

// Parses a key pattern. The root must be literal: \REGISTRY\..., HKLM, HKU, HKCR, HKCC or their
// long forms; HKCU means every user's (\REGISTRY\USER\*). CurrentControlSet right under
// \REGISTRY\MACHINE\SYSTEM becomes ControlSet00N; anywhere else (or after a wildcard), and a glob
// in that place that matches CurrentControlSet but no ControlSet000-999, is an error since it
// could never match (SPEC §6). HKCR gives the machine's place (\REGISTRY\MACHINE\SOFTWARE\Classes)
// with classes_root set: classes_root_user_places gives the other places it means. On failure
// returns false and says why.
bool parse_key_pattern(std::string_view utf8, std::uint32_t control_set, KeyPattern& out,
                       std::string& error);

// The places a pattern stands for besides its own (SPEC §6): none, or for HKCR\X the per-user
// classes \REGISTRY\USER\*\Software\Classes\X and \REGISTRY\USER\*_Classes\X, where a per-user
// class overrides the machine's (the COM-hijack route). Replaces the contents of `out`.
void classes_root_user_places(const KeyPattern& pattern, std::vector<KeyPattern>& out);

// True when some path the registry can hold (512 levels, 32,767 units in the kernel form) can
// match this place. parse_key_pattern refuses a pattern none of whose places fits; the compiler
// leaves out the places that do not (for HKCR\X near the depth limit, the machine's place).
bool fits_the_registry(const KeyPattern& place);

// Parses a hardened key: like a key pattern, but every component a name (globs inside a name
// allowed, whole-component wildcards not).
bool parse_literal_key(std::string_view utf8, std::uint32_t control_set, KeyPattern& out,
                       std::string& error);

}  // namespace hivewarden::policy
