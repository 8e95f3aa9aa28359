#include "hivewarden/core/key_path.hpp"

#include <cstring>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"

namespace hivewarden {
namespace {

constexpr char16_t kSep = u'\\';

struct RootAlias {
  std::u16string_view name;         // first component of a Win32 path
  std::u16string_view replacement;  // its kernel form, without the leading `\`
  bool needs_sid;
};

// HKCR is HKLM\SOFTWARE\Classes (SPEC §6); HKCC is the current hardware profile.
constexpr RootAlias kRoots[] = {
    {u"REGISTRY", u"REGISTRY", false},  // first: the kernel form is the common case
    {u"HKLM", u"REGISTRY\\MACHINE", false},
    {u"HKEY_LOCAL_MACHINE", u"REGISTRY\\MACHINE", false},
    {u"HKU", u"REGISTRY\\USER", false},
    {u"HKEY_USERS", u"REGISTRY\\USER", false},
    {u"HKCU", u"REGISTRY\\USER", true},
    {u"HKEY_CURRENT_USER", u"REGISTRY\\USER", true},
    {u"HKCR", u"REGISTRY\\MACHINE\\SOFTWARE\\Classes", false},
    {u"HKEY_CLASSES_ROOT", u"REGISTRY\\MACHINE\\SOFTWARE\\Classes", false},
    {u"HKCC", u"REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current", false},
    {u"HKEY_CURRENT_CONFIG",
     u"REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current", false},
};

// Names are read four UTF-16 units at a time as one 64-bit word (unit k in bits 16k..16k+15, as a
// little-endian load gives them; ComponentHasher takes words in the same order). A word of ASCII
// units is folded, checked for `\` and NUL and hashed with a few integer operations; a word with
// any other unit goes through the fold table one unit at a time.
static_assert(sizeof(char16_t) == 2);
constexpr std::uint64_t every_unit(std::uint64_t unit) {
  return unit * 0x0001000100010001ull;
}
constexpr std::uint64_t kNotAscii = every_unit(0xFF80);
constexpr std::uint64_t kBit7 = every_unit(0x0080);

std::uint64_t load_units(const char16_t* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

void store_units(char16_t* p, std::uint64_t w) {
  std::memcpy(p, &w, sizeof w);
}

// For a word of ASCII units: bit 7 of each unit that is zero (no carry leaves a unit: <= 0xFE).
std::uint64_t zero_units(std::uint64_t ascii) {
  return ~(ascii + every_unit(0x7F)) & kBit7;
}

// a-z to A-Z in a word of ASCII units: bit 7 is set by +0x1F from 'a' up and by +0x05 above 'z'.
std::uint64_t fold_ascii_word(std::uint64_t ascii) {
  const std::uint64_t lower = (ascii + every_unit(0x1F)) & ~(ascii + every_unit(0x05)) & kBit7;
  return ascii - (lower >> 2);  // 0x80 >> 2 == 'a' - 'A'
}

// The index (0-3) of the first unit whose bit 7 is set in a non-zero mask of zero_units().
std::size_t first_marked_unit(std::uint64_t mask) {
  const std::uint64_t lowest = mask & (0 - mask);
  return static_cast<std::size_t>(lowest > 0x80u) + static_cast<std::size_t>(lowest > 0x800000u) +
         static_cast<std::size_t>(lowest > 0x8000000000ull);
}

// Copies, folds and hashes the units of `text` before the first `\` (or all of it) as the next
// component of `path`, and returns the number of units it took in `length`. NUL ends nothing: it is
// invalid unless allow_nul.
PathStatus append_next_component(KeyPath& path, std::u16string_view text, bool allow_nul,
                                 std::size_t& length) {
  if (path.count >= kMaxPathDepth) return PathStatus::kInvalidName;
  const std::uint32_t offset = path.length + 1;  // after the `\`
  if (offset > kMaxPathUnits) return PathStatus::kInvalidName;
  path.display[path.length] = kSep;
  // Read at most one unit past either limit: writes stay below display[kMaxPathUnits + 1].
  std::size_t scan = text.size();
  if (scan > kMaxComponentUnits + 1) scan = kMaxComponentUnits + 1;
  if (scan > kMaxPathUnits + 1 - offset) scan = kMaxPathUnits + 1 - offset;
  const char16_t* in = text.data();
  char16_t* display = path.display + offset;
  const std::uint64_t nul_stops = allow_nul ? 0 : ~0ull;
  ComponentHasher hash;
  std::size_t i = 0;
  std::size_t end = scan;  // the first unit not in the component
  for (; i + 4 <= scan; i += 4) {
    const std::uint64_t w = load_units(in + i);
    if ((w & kNotAscii) == 0) {
      const std::uint64_t f = fold_ascii_word(w);
      store_units(display + i, w);
      const std::uint64_t stops = zero_units(w ^ every_unit(kSep)) | (zero_units(w) & nul_stops);
      if (stops == 0) {
        hash.add_word(f);
        continue;
      }
      const std::size_t n = first_marked_unit(stops);
      for (std::size_t k = 0; k < n; ++k) hash.add_unit(static_cast<char16_t>(f >> (16 * k)));
      end = i + n;
      break;
    }
    std::size_t k = 0;
    for (; k < 4; ++k) {  // the rare word with a non-ASCII unit: the table
      const char16_t unit = in[i + k];
      if (unit == kSep || (unit == 0 && !allow_nul)) break;
      const char16_t f = fold_unit(unit);
      display[i + k] = unit;
      hash.add_unit(f);
    }
    if (k < 4) {
      end = i + k;
      break;
    }
  }
  if (end == scan) {  // no stop met in the words: the last units one by one
    for (; i < scan; ++i) {
      const char16_t unit = in[i];
      if (unit == kSep || (unit == 0 && !allow_nul)) break;
      const char16_t f = fold_unit(unit);
      display[i] = unit;
      hash.add_unit(f);
    }
    end = i;
  }
  const bool stopped = end < text.size();
  if (stopped && text[end] != kSep) return PathStatus::kInvalidName;  // NUL, or over a limit
  if (end == 0 || end > kMaxComponentUnits || offset + end > kMaxPathUnits)
    return PathStatus::kInvalidName;
  const auto units = static_cast<std::uint32_t>(end);
  path.components[path.count] = {offset, units, hash.finish()};
  ++path.count;
  path.length = offset + units;
  length = end;
  return PathStatus::kOk;
}

// Appends components split at `\`; empty components are invalid names.
PathStatus append_split(KeyPath& out, std::u16string_view text, bool allow_nul) {
  for (;;) {
    std::size_t length = 0;
    const PathStatus status = append_next_component(out, text, allow_nul, length);
    if (status != PathStatus::kOk) return status;
    if (length == text.size()) return PathStatus::kOk;
    text.remove_prefix(length + 1);  // the component and its `\`
  }
}

bool component_is(const KeyPath& path, std::uint32_t i, std::u16string_view upper_name) {
  return i < path.count && equals_when_folded(upper_name, path.display_component(i));
}

}  // namespace

// "ControlSet00N" is shorter than "CurrentControlSet", so the rest of the path moves left in place.
void resolve_current_control_set(KeyPath& path, std::uint32_t control_set) {
  // The fourth component first: its length alone rules out almost every path, without folding.
  if (!(component_is(path, 3, u"CURRENTCONTROLSET") && component_is(path, 0, u"REGISTRY") &&
        component_is(path, 1, u"MACHINE") && component_is(path, 2, u"SYSTEM"))) {
    return;
  }
  char16_t name[] = u"ControlSet000";
  const std::uint32_t n = control_set % 1000;
  name[10] = static_cast<char16_t>(u'0' + n / 100);
  name[11] = static_cast<char16_t>(u'0' + (n / 10) % 10);
  name[12] = static_cast<char16_t>(u'0' + n % 10);
  constexpr std::uint32_t kNameLength = 13;
  PathComponent& ccs = path.components[3];
  const std::uint32_t shift = ccs.length - kNameLength;
  for (std::uint32_t i = 0; i < kNameLength; ++i) path.display[ccs.offset + i] = name[i];
  for (std::uint32_t i = ccs.offset + ccs.length; i < path.length; ++i)
    path.display[i - shift] = path.display[i];
  ccs.length = kNameLength;
  ccs.hash = folded_component_hash(std::u16string_view(path.display + ccs.offset, kNameLength));
  for (std::uint32_t i = 4; i < path.count; ++i) path.components[i].offset -= shift;
  path.length -= shift;
}

PathStatus append_component(KeyPath& path, std::u16string_view name, bool allow_nul) {
  std::size_t length = 0;
  const PathStatus status = append_next_component(path, name, allow_nul, length);
  if (status == PathStatus::kOk && length != name.size()) {  // a `\` in the name
    drop_last_component(path);
    return PathStatus::kInvalidName;
  }
  return status;
}

void drop_last_component(KeyPath& path) {
  if (path.count == 0) return;
  --path.count;
  path.length = path.count == 0 ? 0 : path.components[path.count].offset - 1;
}

PathStatus canonicalize_key(std::u16string_view input, const CanonicalOptions& options,
                            KeyPath& out) {
  out.count = 0;
  out.length = 0;
  if (input.size() > kMaxPathUnits) return PathStatus::kInvalidName;
  if (!input.empty() && input.back() == kSep) input.remove_suffix(1);  // one trailing `\`
  const bool kernel_form = !input.empty() && input.front() == kSep;
  if (kernel_form) input.remove_prefix(1);

  std::size_t first_end = input.find(kSep);
  if (first_end == std::u16string_view::npos) first_end = input.size();
  const std::u16string_view first = input.substr(0, first_end);
  const RootAlias* root = nullptr;
  for (const RootAlias& alias : kRoots) {
    if (equal_folded(first, alias.name)) {
      root = &alias;
      break;
    }
  }
  if (root == nullptr) return first.empty() ? PathStatus::kInvalidName : PathStatus::kUnknownRoot;
  // The kernel form is \REGISTRY\... (the leading `\` may be left out); a Win32 path starts with
  // a root key name. Only the kernel form counts lengths, so only it can carry a NUL.
  const bool is_registry = root->name == u"REGISTRY";
  if (kernel_form && !is_registry) return PathStatus::kUnknownRoot;
  const bool allow_nul = is_registry;
  out.native_form = is_registry;

  PathStatus status = append_split(out, root->replacement, false);
  if (status != PathStatus::kOk) return status;
  if (root->needs_sid) {
    if (options.user_sid.empty()) return PathStatus::kNeedsUserSid;
    status = append_component(out, options.user_sid, false);
    if (status != PathStatus::kOk) return status;
  }
  if (first_end < input.size()) {
    status = append_split(out, input.substr(first_end + 1), allow_nul);
    if (status != PathStatus::kOk) return status;
  }
  resolve_current_control_set(out, options.control_set);
  return PathStatus::kOk;
}

const char* path_status_text(PathStatus status) {
  switch (status) {
    case PathStatus::kOk:
      return "ok";
    case PathStatus::kInvalidName:
      return "invalid key name (empty component, NUL in a Win32 path, or over a registry limit)";
    case PathStatus::kUnknownRoot:
      return "unknown root key (expected \\REGISTRY\\..., HKLM, HKU, HKCU, HKCR, HKCC or their "
             "long forms)";
    case PathStatus::kNeedsUserSid:
      return "HKCU needs the user's SID";
  }
  return "?";
}

}  // namespace hivewarden
