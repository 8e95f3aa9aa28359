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

const char* const kRoots[] = {"HKLM", "HKEY_LOCAL_MACHINE", "HKU", "HKEY_USERS", "HKCU", "HKEY_CURRENT_USER",
                              "HKCR", "HKEY_CLASSES_ROOT", "HKCC", "HKEY_CURRENT_CONFIG"};

bool is_root(const std::string& s) {
  for (const char* r : kRoots) {
    if (s.size() == std::char_traits<char>::length(r) &&
        std::equal(s.begin(), s.end(), r, [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; })) {
      return true;
    }
  }
  return false;
}

// Appends a gap, never two in a row.
void gap(Components& c) {
  if (c.empty() || c.back() != "**") c.push_back("**");
}

// A contains part: "...\p0\p1\...\pk..." -> `*p0`, p1 ... p(k-1), `pk*`, each side open.
// Returns true when the part ends with `\`: some component must follow it (which the next part
// or the end may provide).
bool append_contains(Components& c, const std::string& text) {
  const std::vector<std::string> parts = split(text);
  gap(c);
  if (parts.size() == 1) {
    c.push_back("*" + parts[0] + "*");
    gap(c);
    return false;
  }
  if (!parts.front().empty()) c.push_back("*" + parts.front());
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) c.push_back(parts[i]);
  if (!parts.back().empty()) c.push_back(parts.back() + "*");
  gap(c);
  return parts.back().empty();
}

// CurrentControlSet is a link the engine resolves to ControlSet00N: name its targets. Also when
// a contains/startswith cut left a `*` on either side of the name (`\CurrentControlSet` gives
// `CurrentControlSet*`): the policy compiler refuses a glob that can only mean the link.
void resolve_links(Components& c) {
  for (std::string& part : c) {
    std::string_view name = part;
    if (!name.empty() && name.front() == '*') name.remove_prefix(1);
    if (!name.empty() && name.back() == '*') name.remove_suffix(1);
    if (name.size() == 17 && std::equal(name.begin(), name.end(), "CURRENTCONTROLSET", [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == b;
        })) {
      part = "ControlSet*";
    }
  }
}

// The prefix of a path: root, literal components, and the start of the last one.
bool start_components(const std::string& text, Components& c, std::vector<std::string>& notes) {
  std::vector<std::string> parts = split(text);
  if (parts.size() >= 2 && parts[0].empty()) {  // kernel form: \REGISTRY\...
    parts.erase(parts.begin());
    parts[0] = "\\" + parts[0];
    if (parts[0] != "\\REGISTRY" && parts[0] != "\\registry") {
      notes.push_back("startswith '" + text + "': not a registry root");
      return false;
    }
  } else if (!is_root(parts[0]) || parts.size() < 2) {
    notes.push_back("startswith '" + text + "': does not start with a whole root key");
    return false;
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) c.push_back(parts[i]);
  if (!parts.back().empty()) c.push_back(parts.back() + "*");
  gap(c);
  return true;
}

bool end_components(const std::string& text, Components& c) {
  const std::vector<std::string> parts = split(text);
  if (parts.back().empty()) return false;  // a path never ends with `\`
  if (parts.size() == 1) {
    c.push_back("*" + parts[0]);
    return true;
  }
  if (!parts.front().empty()) c.push_back("*" + parts.front());
  for (std::size_t i = 1; i < parts.size(); ++i) c.push_back(parts[i]);
  return true;
}

}  // namespace

std::string join(const Components& components) {
  std::string out;
  for (std::size_t i = 0; i < components.size(); ++i) out += (i ? "\\" : "") + components[i];
  return out;
}

bool build_patterns(const std::vector<PathConstraint>& constraints, std::vector<Components>& out,
                    std::vector<std::string>& notes) {
  std::deque<PathConstraint> rooted_;
  const PathConstraint* starts = nullptr;
  const PathConstraint* ends = nullptr;
  std::vector<std::string> contains;
  for (const PathConstraint& c : constraints) {
    if (c.text.find('*') != std::string::npos || c.text.find('?') != std::string::npos) {
      notes.push_back("'" + c.text + "': a Sigma wildcard is kept as a name glob, which does not cross `\\`");
    }
    switch (c.match) {
      case Match::kEquals: {
        Components exact;
        if (!start_components(c.text + "\\", exact, notes)) return false;
        exact.pop_back();  // no gap after an exact path
        if (constraints.size() > 1) notes.push_back("an exact TargetObject with further conditions: only the exact path is kept");
        out.push_back(exact);
        return true;
      }
      case Match::kStartsWith:
        if (starts != nullptr && starts->text.size() >= c.text.size()) break;
        starts = &c;
        break;
      case Match::kEndsWith:
        if (ends != nullptr && ends->text.size() >= c.text.size()) break;
        ends = &c;
        break;
      case Match::kContains: {
        // A root key name only ever stands at the start: "HKU\..." anywhere means "starts with".
        const std::string first = split(c.text)[0];
        if (split(c.text).size() > 1 && is_root(first)) {
          if (starts == nullptr) {
            rooted_.push_back({Match::kStartsWith, c.text});
            starts = &rooted_.back();
            notes.push_back("contains '" + c.text + "': a root key only stands at the start, matched as startswith");
            break;
          }
          notes.push_back("contains '" + c.text + "' beside a startswith: kept as a name part");
        }
        contains.push_back(c.text);
        break;
      }
    }
  }
  if (contains.size() <= 4) {  // every order is tried, starting from the sorted one
    std::sort(contains.begin(), contains.end());
    contains.erase(std::unique(contains.begin(), contains.end()), contains.end());
  } else {
    notes.push_back("more than four `contains` parts: kept in the order written, not every order");
  }
  std::vector<std::string> order = contains;
  do {
    Components c;
    if (starts != nullptr) {
      if (!start_components(starts->text, c, notes)) return false;
    } else {
      c = {"\\REGISTRY", "**"};
    }
    bool needs_follower = false;
    for (const std::string& part : order) needs_follower = append_contains(c, part);
    if (ends != nullptr) {
      if (!end_components(ends->text, c)) {
        notes.push_back("endswith '" + ends->text + "': a path never ends with `\\`");
        return false;
      }
    } else {
      if (needs_follower) {  // the last part ended with `\` and nothing else comes after it
        c.back() = "*";
        c.push_back("**");
      }
      gap(c);
    }
    resolve_links(c);
    out.push_back(std::move(c));
  } while (contains.size() <= 4 && std::next_permutation(order.begin(), order.end()));
  if (contains.size() > 1 && contains.size() <= 4) {
    notes.push_back("several `contains` parts: matched in any order but each at its own place, not overlapping");
  }
  return true;
}

}  // namespace hivewarden::sigma
