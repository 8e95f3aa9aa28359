#include "hivewarden/policy/key_pattern.hpp"

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

}  // namespace

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
  std::unique_ptr<KeyPath> path(new KeyPath);  // default-initialised: no 140 KiB memset per pattern
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
  return true;
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
