// TargetObject string tests (Sigma's equals / startswith / contains / endswith) put on the
// monitored tree: the tree is the index, the `target_object` condition the exact test.
#pragma once

#include <string>
#include <vector>

namespace hivewarden::sigma {

enum class Match { kEquals, kStartsWith, kContains, kEndsWith };

// A path pattern: components in policy key-pattern syntax, `**` for a gap. The first component
// is a root ("HKLM", "HKU", "HKCR" in upper case, or "\REGISTRY").
using Components = std::vector<std::string>;

struct IndexPattern {
  bool usable = false;  // the pattern holds every path whose TargetObject passes the test
  bool exact = false;   // ... and only those: the test need not be repeated as a condition
  Components components;
};

// The tree pattern for one TargetObject test. Not usable when the text has a Sigma wildcard
// (which crosses `\`), a root the tree cannot name, or nothing to anchor on.
IndexPattern index_pattern(Match match, const std::string& text);

// The pattern as policy key text ("HKLM\SOFTWARE\**\Run").
std::string join(const Components& components);

}  // namespace hivewarden::sigma
