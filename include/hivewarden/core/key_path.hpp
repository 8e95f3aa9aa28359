// Key-path canonicalisation (SPEC §6): every accepted spelling of a key becomes its kernel form
// (\REGISTRY\MACHINE\..., \REGISTRY\USER\<SID>\...), split into components, folded and hashed.
#pragma once

#include <cstdint>
#include <string_view>

namespace hivewarden {

inline constexpr std::uint32_t kMaxComponentUnits = 255;  // the registry's key-name limit
inline constexpr std::uint32_t kMaxPathUnits = 32767;     // UNICODE_STRING's limit
inline constexpr std::uint32_t kMaxPathDepth = 512;       // the registry's nesting limit
inline constexpr std::uint32_t kMaxValueNameUnits = 16383;

struct PathComponent {
  std::uint32_t offset;  // into KeyPath::display
  std::uint32_t length;
  std::uint64_t hash;  // component_hash of the folded text (the text itself is folded as it is
                       // compared: no folded copy is kept)
};

// A canonical key path. Large (about 72 KiB, the text of the longest name the registry takes):
// callers keep one per thread, never per call.
struct KeyPath {
  char16_t display[kMaxPathUnits + 1];  // as given, with roots spelled in kernel form
  std::uint32_t length = 0;
  PathComponent components[kMaxPathDepth + 2];  // +1 for a rename's new name
  std::uint32_t count = 0;
  bool native_form = false;  // given as \REGISTRY\...: names may hold NUL

  std::u16string_view text() const { return {display, length}; }
  std::u16string_view display_component(std::uint32_t i) const {
    return {display + components[i].offset, components[i].length};
  }
};

enum class PathStatus : std::uint8_t {
  kOk,
  kInvalidName,   // empty component, NUL where the form cannot carry one, over a limit
  kUnknownRoot,   // not \REGISTRY\... and not a root key hivewarden knows
  kNeedsUserSid,  // HKCU without the user's SID
};

struct CanonicalOptions {
  std::uint32_t control_set = 1;  // CurrentControlSet means ControlSet00N
  std::u16string_view user_sid;   // for HKCU; empty when unknown
};

// Canonicalises `input` into `out`. Accepts the kernel form (\REGISTRY\..., NUL allowed in names
// since the native API counts lengths) and the Win32 forms HKLM, HKEY_LOCAL_MACHINE, HKU,
// HKEY_USERS, HKCU, HKEY_CURRENT_USER, HKCR, HKEY_CLASSES_ROOT, HKCC, HKEY_CURRENT_CONFIG
// (NUL not allowed: Win32 strings end at NUL). Root names compare case-insensitively. One
// trailing `\` is ignored. \REGISTRY\MACHINE\SYSTEM\CurrentControlSet becomes ControlSet00N.
PathStatus canonicalize_key(std::u16string_view input, const CanonicalOptions& options,
                            KeyPath& out);

// Appends one more component (a rename's new name) to a canonical path, without changing the
// components before it. Returns kInvalidName for an empty name, a `\` in it, or a limit.
PathStatus append_component(KeyPath& path, std::u16string_view name, bool allow_nul);

// Names \REGISTRY\MACHINE\SYSTEM\CurrentControlSet (a link) as its target ControlSet00N, in
// place; any other path is left alone. canonicalize_key does this; a path built component by
// component (a rename's target) needs it too.
void resolve_current_control_set(KeyPath& path, std::uint32_t control_set);

// Removes the last component (used to build a rename's target: parent + new name).
void drop_last_component(KeyPath& path);

// Human-readable text of a status.
const char* path_status_text(PathStatus status);

}  // namespace hivewarden
