#include "hivewarden/core/key_path.hpp"

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

// Appends components split at `\` to out; empty components are invalid names.
PathStatus append_split(KeyPath& out, std::u16string_view text, bool allow_nul) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(kSep, start);
    if (end == std::u16string_view::npos) end = text.size();
    const PathStatus status = append_component(out, text.substr(start, end - start), allow_nul);
    if (status != PathStatus::kOk) return status;
    start = end + 1;
  }
  return PathStatus::kOk;
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
  if (name.empty() || name.size() > kMaxComponentUnits) return PathStatus::kInvalidName;
  if (path.count >= kMaxPathDepth) return PathStatus::kInvalidName;
  const std::uint32_t offset = path.length + 1;  // after the `\`
  if (offset + name.size() > kMaxPathUnits) return PathStatus::kInvalidName;
  path.display[path.length] = kSep;
  // One pass: copy, fold and hash (component_hash's FNV-1a, inlined). The folded text is not
  // kept: compares fold the path's units as they go.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  char16_t* display = path.display + offset;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char16_t unit = name[i];
    if (unit == kSep || (unit == 0 && !allow_nul)) return PathStatus::kInvalidName;
    display[i] = unit;
    hash = (hash ^ fold_unit(unit)) * 0x100000001b3ull;
  }
  const auto length = static_cast<std::uint32_t>(name.size());
  path.components[path.count] = {offset, length, hash};
  ++path.count;
  path.length = offset + length;
  return PathStatus::kOk;
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
