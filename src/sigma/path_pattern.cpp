#include "path_pattern.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <string_view>

namespace hivewarden::sigma {
namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : s) {
    if (c == '\\') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  return parts;
}

}  // namespace

std::string join(const Components& components) {
  std::string out;
  for (std::size_t i = 0; i < components.size(); ++i) out += (i ? "\\" : "") + components[i];
  return out;
}

namespace {

bool equal_folded(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

bool contains_folded(std::string_view hay, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (equal_folded(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// Names that differ between Sysmon's TargetObject text and the kernel path the tree sees: a part
// touching one of them cannot be put on the tree as written (HKLM is MACHINE, CurrentControlSet is
// ControlSet00N, HKCR is three places).
constexpr std::string_view kRenamed[] = {"HKLM",
                                         "HKU",
                                         "HKCR",
                                         "HKCU",
                                         "HKCC",
                                         "HKEY_LOCAL_MACHINE",
                                         "HKEY_USERS",
                                         "HKEY_CLASSES_ROOT",
                                         "HKEY_CURRENT_USER",
                                         "HKEY_CURRENT_CONFIG",
                                         "REGISTRY",
                                         "MACHINE",
                                         "USER",
                                         "CurrentControlSet"};

// Names the tree sees as written but Sysmon does not always write: it hides the machine's
// `SOFTWARE\Classes` behind HKCR and the active set (ControlSet001 on the policies we write)
// behind CurrentControlSet. A pattern naming one reaches keys whose TargetObject lacks it, so the
// text test stays as a condition.
constexpr std::string_view kSometimesHidden[] = {"Classes", "ControlSet001"};

// A name part open on the left (the tail of a component), on the right (its head) or on both
// sides (a piece) may be a piece of one of `names`.
template <std::size_t N>
bool may_touch(const std::string_view (&names)[N], const std::string& part, bool open_left,
               bool open_right) {
  for (const std::string_view name : names) {
    if (equal_folded(part, name)) return true;
    if (open_left && open_right && contains_folded(name, part)) return true;
    if (open_left && part.size() <= name.size() &&
        equal_folded(name.substr(name.size() - part.size()), part))
      return true;
    if (open_right && part.size() <= name.size() && equal_folded(name.substr(0, part.size()), part))
      return true;
  }
  return false;
}

bool may_touch_renamed(const std::string& part, bool open_left, bool open_right) {
  return may_touch(kRenamed, part, open_left, open_right);
}

bool has_wildcard(const std::string& s) {
  return s.find_first_of("*?") != std::string::npos;
}

// Which Sysmon roots stand for exactly one kernel root.
bool exact_root(const std::string& root) {
  return equal_folded(root, "HKLM") || equal_folded(root, "HKU");
}
bool index_root(const std::string& root) {
  return exact_root(root) || equal_folded(root, "HKCR");
}

// An equals / startswith test on a rooted path (HKLM, HKU, HKCR): the components from the root.
// False when it cannot be an index (no root, an empty component).
bool rooted_components(Match match, const std::vector<std::string>& parts, Components& c,
                       bool& exact) {
  if (parts.size() < 2 || !index_root(parts[0])) return false;
  exact = exact_root(parts[0]);
  std::string root = parts[0];  // HKLM, HKU or HKCR, spelt so
  for (char& ch : root) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  c.push_back(root);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const bool open_right = i + 1 == parts.size() && match == Match::kStartsWith;
    if (may_touch_renamed(parts[i], false, open_right) ||
        may_touch(kSometimesHidden, parts[i], false, open_right))
      exact = false;
    if (open_right) {
      c.push_back(parts[i].empty() ? "*" : parts[i] + "*");  // `X\` : some component follows
      c.push_back("**");
    } else if (parts[i].empty()) {
      return false;  // an empty component never occurs in a path
    } else {
      c.push_back(parts[i]);
    }
  }
  return true;
}

// A contains / endswith test: the components anywhere below the root. False when it cannot be an
// index (a path never ends with `\`).
bool floating_components(Match match, const std::vector<std::string>& parts, Components& c,
                         bool& exact) {
  c = {"\\REGISTRY", "**"};
  const std::size_t n = parts.size();
  for (std::size_t i = 0; i < n; ++i) {
    const bool first = i == 0, last = i + 1 == n;
    const bool open_left = first, open_right = last && match == Match::kContains;
    if (parts[i].empty()) {
      if (last && match == Match::kEndsWith) return false;
      if (last) {
        c.push_back("*");
        c.push_back("**");
      }
      continue;
    }
    if (may_touch(kSometimesHidden, parts[i], open_left, open_right)) exact = false;
    if (may_touch_renamed(parts[i], open_left, open_right)) {
      exact = false;
      if (first || last) {  // the tail or head of a name: leave it to the condition
        if (last) c.push_back("**");
        continue;
      }
    }
    std::string name = parts[i];
    if (open_left) name = "*" + name;
    if (open_right) name += "*";
    c.push_back(name);
    if (open_right) c.push_back("**");
  }
  return true;
}

}  // namespace

IndexPattern index_pattern(Match match, const std::string& text) {
  IndexPattern out;
  if (has_wildcard(text) || text.empty()) return out;  // Sigma's `*` crosses `\`, a glob does not
  const std::vector<std::string> parts = split(text);
  bool exact = true;
  Components& c = out.components;
  const bool rooted = match == Match::kEquals || match == Match::kStartsWith;
  if (!(rooted ? rooted_components(match, parts, c, exact)
               : floating_components(match, parts, c, exact))) {
    c.clear();
    return out;
  }
  // The tree never sees the active set as CurrentControlSet: name its targets (superset, so not
  // exact). Deeper than HKLM\SYSTEM it can also be a key's own name, which Sysmon writes as is.
  for (std::size_t i = 0; i < c.size(); ++i) {
    std::string_view name = c[i];
    if (!name.empty() && name.front() == '*') name.remove_prefix(1);
    if (!name.empty() && name.back() == '*') name.remove_suffix(1);
    if (equal_folded(name, "CurrentControlSet")) {
      const bool active_set = i == 2 && equal_folded(c[0], "HKLM") && equal_folded(c[1], "SYSTEM");
      c[i] = active_set ? "ControlSet*" : "*ControlSet*";
      exact = false;
    }
  }
  // Never two gaps in a row, never a gap right after the root gap.
  Components tidy;
  for (std::string& part : c) {
    if (part == "**" && !tidy.empty() && tidy.back() == "**") continue;
    tidy.push_back(std::move(part));
  }
  c = std::move(tidy);
  out.usable = true;
  out.exact = exact;
  return out;
}

}  // namespace hivewarden::sigma
