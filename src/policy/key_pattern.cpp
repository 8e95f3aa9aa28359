#include "hivewarden/policy/key_pattern.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {
namespace {

std::vector<std::u16string_view> split(std::u16string_view text) {
  std::vector<std::u16string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(u'\\', start);
    parts.push_back(text.substr(start, end == std::u16string_view::npos ? text.npos : end - start));
    if (end == std::u16string_view::npos) return parts;
    start = end + 1;
  }
}

bool parse_any_n(std::u16string_view text, std::uint32_t& n) {
  if (text.size() < 4 || text.substr(0, 2) != u"*{" || text.back() != u'}') return false;
  n = 0;
  for (char16_t c : text.substr(2, text.size() - 3)) {
    if (c < u'0' || c > u'9' || n > kMaxPathDepth) return false;
    n = n * 10 + static_cast<std::uint32_t>(c - u'0');
  }
  return true;
}

bool parse_component(std::u16string_view text, PatternComponent& out, std::string& error) {
  if (text.empty()) {
    error = "empty component (a doubled `\\`)";
    return false;
  }
  if (text.find(u'\0') != std::u16string_view::npos) {
    error = "NUL in a key pattern";
    return false;
  }
  std::uint32_t n = 0;
  if (text == u"**") {
    out = {ComponentKind::kAnyDeep, 0, {}};
  } else if (text == u"*") {
    out = {ComponentKind::kAnyOne, 1, {}};
  } else if (parse_any_n(text, n)) {
    if (n < 1 || n > kMaxPathDepth) {
      error = "`*{N}` needs N from 1 to 512";
      return false;
    }
    out = {ComponentKind::kAnyN, n, {}};
  } else if (text.size() > kMaxComponentUnits) {
    error = "component longer than 255 characters (the registry's limit)";
    return false;
  } else if (has_glob_chars(text)) {
    if (text.find(u"**") != std::u16string_view::npos) {
      error = "`**` must be a whole component (use `*` inside a name)";
      return false;
    }
    out = {ComponentKind::kGlob, 1, std::u16string(text)};
  } else {
    out = {ComponentKind::kLiteral, 1, std::u16string(text)};
  }
  return true;
}

bool is_literal(const KeyPattern& p, std::size_t i, std::u16string_view upper) {
  if (i >= p.components.size() || p.components[i].kind != ComponentKind::kLiteral) return false;
  return equal_folded(p.components[i].text, upper);
}

// For each component: can it stand at the component right below \REGISTRY\MACHINE\SYSTEM (the
// control set's place), that is, can the components before it match exactly those three names?
// A small set simulation over "how many of the three names are consumed" (0..3).
std::vector<bool> control_set_places(const KeyPattern& p) {
  static constexpr std::u16string_view kNames[] = {u"REGISTRY", u"MACHINE", u"SYSTEM"};
  std::vector<bool> out(p.components.size(), false);
  unsigned reach = 1;  // bit j: j names consumed
  for (std::size_t i = 0; i < p.components.size() && reach != 0; ++i) {
    out[i] = (reach & 8u) != 0;
    const PatternComponent& c = p.components[i];
    unsigned next = 0;
    for (unsigned j = 0; j <= 3; ++j) {
      if ((reach & (1u << j)) == 0) continue;
      switch (c.kind) {
        case ComponentKind::kLiteral:
          if (j < 3 && equal_folded(c.text, kNames[j])) next |= 1u << (j + 1);
          break;
        case ComponentKind::kGlob:
          if (j < 3 && glob_match(folded(c.text), kNames[j])) next |= 1u << (j + 1);
          break;
        case ComponentKind::kAnyOne:
        case ComponentKind::kAnyN:
          if (j + c.count <= 3) next |= 1u << (j + c.count);
          break;
        case ComponentKind::kAnyDeep:
          for (unsigned k = j; k <= 3; ++k) next |= 1u << k;
          break;
      }
    }
    reach = next;
  }
  return out;
}

// A glob that matches the name CurrentControlSet but no ControlSet000..ControlSet999 can only be
// meant for the current control set.
bool glob_only_means_current_control_set(std::u16string_view glob) {
  const std::u16string pattern = folded(glob);
  if (!glob_match(pattern, u"CURRENTCONTROLSET")) return false;
  char16_t name[] = u"CONTROLSET000";
  for (unsigned n = 0; n < 1000; ++n) {
    name[10] = static_cast<char16_t>(u'0' + n / 100);
    name[11] = static_cast<char16_t>(u'0' + (n / 10) % 10);
    name[12] = static_cast<char16_t>(u'0' + n % 10);
    if (glob_match(pattern, std::u16string_view(name, 13))) return false;
  }
  return true;
}

// SPEC §6: CurrentControlSet is a link that exists only right below \REGISTRY\MACHINE\SYSTEM and
// operations arrive through it as ControlSet00N, so the policy resolves it only as the literal
// component there (after literal names). Any other use could never match: an error.
bool check_current_control_set(const KeyPattern& p, std::string& error) {
  const auto mentions = [](const PatternComponent& c) {
    return (c.kind == ComponentKind::kLiteral && equal_folded(c.text, u"CURRENTCONTROLSET")) ||
           (c.kind == ComponentKind::kGlob && glob_match(folded(c.text), u"CURRENTCONTROLSET"));
  };
  if (std::none_of(p.components.begin(), p.components.end(), mentions)) return true;  // common
  const std::vector<bool> places = control_set_places(p);
  for (std::size_t i = 0; i < p.components.size(); ++i) {
    const PatternComponent& c = p.components[i];
    if (c.kind == ComponentKind::kLiteral && equal_folded(c.text, u"CURRENTCONTROLSET")) {
      error = places[i] ? "`CurrentControlSet` after a wildcard can never match: it is resolved to "
                          "ControlSet00N (control_set) only as the literal component right below a "
                          "literal HKLM\\SYSTEM; write HKLM\\SYSTEM\\CurrentControlSet\\... or use "
                          "ControlSet* for every control set"
                        : "`CurrentControlSet` can never match here: it exists only right below "
                          "HKLM\\SYSTEM (operations arrive as ControlSet00N); write "
                          "HKLM\\SYSTEM\\CurrentControlSet\\...";
      return false;
    }
    if (c.kind == ComponentKind::kGlob && places[i] &&
        glob_only_means_current_control_set(c.text)) {
      error =
          "the glob `" + utf16_to_utf8(c.text) +
          "` can stand right below HKLM\\SYSTEM, where it matches CurrentControlSet but none of "
          "ControlSet000-ControlSet999, and operations never carry CurrentControlSet (they "
          "arrive as ControlSet00N): write HKLM\\SYSTEM\\CurrentControlSet\\... for the active "
          "control set, or ControlSet* for every control set";
      return false;
    }
  }
  return true;
}

// The fewest levels and UTF-16 units (a `\` before each name) of a kernel-form path the pattern
// matches: a name is never empty, `**` may match no level, `*{N}` is N levels.
struct ShortestMatch {
  std::size_t depth = 0;
  std::size_t units = 0;
};

ShortestMatch shortest_match(const KeyPattern& p) {
  ShortestMatch m;
  for (const PatternComponent& c : p.components) {
    std::size_t levels = 1, name_units = 1;
    switch (c.kind) {
      case ComponentKind::kLiteral:
        name_units = c.text.size();
        break;
      case ComponentKind::kGlob:
        name_units = std::max<std::size_t>(
            1, static_cast<std::size_t>(std::count_if(c.text.begin(), c.text.end(),
                                                      [](char16_t u) { return u != u'*'; })));
        break;
      case ComponentKind::kAnyOne:
        break;
      case ComponentKind::kAnyN:
        levels = c.count;
        break;
      case ComponentKind::kAnyDeep:
        levels = 0;
        break;
    }
    m.depth += levels;
    m.units += levels * (1 + name_units);
  }
  return m;
}

bool fits(const ShortestMatch& m) {
  return m.depth <= kMaxPathDepth && m.units <= kMaxPathUnits;
}

// A pattern whose every place is deeper or longer than the registry allows can never match: the
// engine refuses such an operation as invalid-name before any rule (SPEC §6; key_path.hpp). A
// place that can match must also keep within the compiled policy's 513 components.
bool check_registry_limits(const KeyPattern& p, std::string& error) {
  std::vector<KeyPattern> others;
  classes_root_user_places(p, others);
  ShortestMatch best = shortest_match(p);
  bool any_fits = fits(best);
  bool too_many_components = any_fits && p.components.size() > kMaxPathDepth + 1;
  for (const KeyPattern& place : others) {
    const ShortestMatch m = shortest_match(place);
    best.depth = std::min(best.depth, m.depth);
    best.units = std::min(best.units, m.units);
    any_fits = any_fits || fits(m);
    too_many_components =
        too_many_components || (fits(m) && place.components.size() > kMaxPathDepth + 1);
  }
  if (too_many_components) {
    error = "key pattern deeper than the registry allows (512 levels): more than " +
            std::to_string(kMaxPathDepth + 1) + " components (write fewer `**`)";
    return false;
  }
  if (any_fits) return true;
  if (best.depth > kMaxPathDepth) {
    error = "can never match: every path it matches is deeper than the registry allows (" +
            std::to_string(best.depth) + " levels in the kernel form \\REGISTRY\\..., limit 512)";
  } else if (best.units > kMaxPathUnits) {
    error =
        "can never match: longer than 32,767 UTF-16 units (the registry's limit for a key "
        "path), counted in the kernel form \\REGISTRY\\... with its separators (" +
        std::to_string(best.units) + ")";
  } else {
    error =
        "can never match: each of its places is deeper than the registry allows (512 levels) "
        "or longer than 32,767 UTF-16 units";
  }
  return false;
}

}  // namespace

std::u16string folded(std::u16string_view name) {
  std::u16string out(name.size(), u'\0');
  fold_units(name, out.data());
  return out;
}

bool parse_key_pattern(std::string_view utf8, std::uint32_t control_set, KeyPattern& out,
                       std::string& error) {
  out.components.clear();
  const auto text16 = utf8_to_utf16(utf8);
  if (!text16) {
    error = "not valid UTF-8";
    return false;
  }
  std::u16string_view text = *text16;
  if (text.empty()) {
    error = "empty key";
    return false;
  }
  if (text.back() == u'\\') text.remove_suffix(1);
  const bool kernel_form = !text.empty() && text.front() == u'\\';
  if (kernel_form) text.remove_prefix(1);
  const std::vector<std::u16string_view> parts = split(text);

  // The root: resolved by the engine's own canonicaliser, so both sides agree on every alias.
  const std::u16string_view root = parts[0];
  if (has_glob_chars(root)) {
    error = "the root key must be written out (no wildcards)";
    return false;
  }
  // One per thread, kept: allocating 140 KiB for each of a million patterns churns the heap
  // (default-initialised, so no memset either). The compiler parses on several threads.
  thread_local const std::unique_ptr<KeyPath> path(new KeyPath);
  std::u16string root_text = kernel_form ? u"\\" + std::u16string(root) : std::u16string(root);
  PathStatus status = canonicalize_key(root_text, CanonicalOptions{control_set, {}}, *path);
  bool every_user = false;
  if (status == PathStatus::kNeedsUserSid) {  // HKCU in a policy: every user's
    every_user = true;
    status = canonicalize_key(u"HKU", CanonicalOptions{control_set, {}}, *path);
  }
  if (status != PathStatus::kOk) {
    error = std::string("unknown root key '") + utf16_to_utf8(root) +
            "' (expected \\REGISTRY\\..., HKLM, HKU, HKCU, HKCR, HKCC or a long form)";
    return false;
  }
  for (std::uint32_t i = 0; i < path->count; ++i) {
    out.components.push_back(
        {ComponentKind::kLiteral, 1, std::u16string(path->display_component(i))});
  }
  if (every_user) out.components.push_back({ComponentKind::kAnyOne, 1, {}});
  for (std::size_t i = 1; i < parts.size(); ++i) {
    PatternComponent c;
    if (!parse_component(parts[i], c, error)) return false;
    out.components.push_back(std::move(c));
  }
  if (out.components.size() > kMaxPathDepth + 1) {
    error = "key pattern deeper than the registry allows (512 levels)";
    return false;
  }
  // CurrentControlSet is a link to ControlSet00N: write it as the engine will see it.
  if (is_literal(out, 0, u"REGISTRY") && is_literal(out, 1, u"MACHINE") &&
      is_literal(out, 2, u"SYSTEM") && is_literal(out, 3, u"CURRENTCONTROLSET")) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "ControlSet%03u", control_set % 1000);
    out.components[3].text = *utf8_to_utf16(buffer);
  }
  out.classes_root = equal_folded(root, u"HKCR") || equal_folded(root, u"HKEY_CLASSES_ROOT");
  return check_current_control_set(out, error) && check_registry_limits(out, error);
}

bool fits_the_registry(const KeyPattern& place) {
  return fits(shortest_match(place));
}

void classes_root_user_places(const KeyPattern& pattern, std::vector<KeyPattern>& out) {
  out.clear();
  if (!pattern.classes_root) return;
  // \REGISTRY\MACHINE\SOFTWARE\Classes\X: the rest X starts after four components.
  constexpr std::size_t kMachineClassesParts = 4;
  const auto rest = pattern.components.begin() + kMachineClassesParts;
  KeyPattern user;  // \REGISTRY\USER\*\Software\Classes\X
  user.components = {{ComponentKind::kLiteral, 1, u"REGISTRY"},
                     {ComponentKind::kLiteral, 1, u"USER"},
                     {ComponentKind::kAnyOne, 1, {}},
                     {ComponentKind::kLiteral, 1, u"Software"},
                     {ComponentKind::kLiteral, 1, u"Classes"}};
  user.components.insert(user.components.end(), rest, pattern.components.end());
  KeyPattern user_classes;  // \REGISTRY\USER\*_Classes\X
  user_classes.components = {{ComponentKind::kLiteral, 1, u"REGISTRY"},
                             {ComponentKind::kLiteral, 1, u"USER"},
                             {ComponentKind::kGlob, 1, u"*_Classes"}};
  user_classes.components.insert(user_classes.components.end(), rest, pattern.components.end());
  out.push_back(std::move(user));
  out.push_back(std::move(user_classes));
}

bool parse_literal_key(std::string_view utf8, std::uint32_t control_set, KeyPattern& out,
                       std::string& error) {
  if (!parse_key_pattern(utf8, control_set, out, error)) return false;
  for (const PatternComponent& c : out.components) {
    if (c.kind != ComponentKind::kLiteral && c.kind != ComponentKind::kGlob) {
      error =
          "a hardened key is a path of names, where a name may hold `*` / `?` globs (e.g. "
          "ControlSet*); "
          "whole-component wildcards `*`, `*{N}`, `**` and HKCU are not allowed";
      return false;
    }
  }
  return true;
}

}  // namespace hivewarden::policy
