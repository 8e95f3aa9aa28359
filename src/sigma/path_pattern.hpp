// TargetObject string constraints (Sigma's equals / startswith / contains / endswith) turned
// into component patterns over a registry path.
#pragma once

#include <string>
#include <vector>

namespace hivewarden::sigma {

enum class Match { kEquals, kStartsWith, kContains, kEndsWith };

struct PathConstraint {
  Match match;
  std::string text;
};

// A path pattern: components in policy key-pattern syntax, `**` for a gap. The first component
// is a root ("HKLM", "\REGISTRY", ...).
using Components = std::vector<std::string>;

// Builds the patterns whose paths satisfy every constraint (several when `contains` parts may
// come in any order). Appends to `notes` whatever is only approximated. False (with a note)
// when the constraints cannot be put in one pattern.
bool build_patterns(const std::vector<PathConstraint>& constraints, std::vector<Components>& out,
                    std::vector<std::string>& notes);

// The pattern as policy key text ("HKLM\SOFTWARE\**\Run").
std::string join(const Components& components);

}  // namespace hivewarden::sigma
