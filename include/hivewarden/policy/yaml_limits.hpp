// The policy YAML reader's limits, all in one place (documented in docs/DESIGN-NOTES.md, "Limits").
// Each one is checked before the work it bounds, and the error names the limit that was hit.
#pragma once

#include <cstddef>

#include "hivewarden/core/condition.hpp"

namespace hivewarden::policy::limits {

// A policy file larger than this is refused before it is read whole (YAML and .hwp alike).
inline constexpr std::size_t kMaxPolicyFileBytes = 16u << 20;
// Collections inside collections (the document's top mapping is level 1). A policy needs 6.
inline constexpr std::size_t kMaxNestingDepth = 64;
// Nodes (scalars, lists, mappings, aliases) written in the document. yaml-cpp keeps ~0.5 KB per
// node, so this bounds its node graph (~150 MB at worst); the Sigma import (2,545 entries) has 33k.
inline constexpr std::size_t kMaxDocumentNodes = 300'000;
// Nodes the loader would visit with every alias expanded to the node it names.
inline constexpr std::size_t kMaxExpandedNodes = 1'000'000;
// Bytes of scalar text with every alias expanded: one long string named by many aliases would
// otherwise be copied into every entry. The document's own text stays under it.
inline constexpr std::size_t kMaxExpandedTextBytes = 24u << 20;
// Entries after alias expansion.
inline constexpr std::size_t kMaxMonitoredEntries = 50'000;
inline constexpr std::size_t kMaxValueRules = 150'000;  // over all monitored entries
inline constexpr std::size_t kMaxProcesses = 10'000;
inline constexpr std::size_t kMaxHardenedKeys = 10'000;
// Windows' own limits, counted in UTF-16 units as Windows counts them.
inline constexpr std::size_t kMaxValueNameUnits = 16'383;
inline constexpr std::size_t kMaxKeyPathUnits = 32'767;
inline constexpr std::size_t kMaxImagePathUnits = 32'767;
// Conditions (SPEC §10), the numbers validate_policy holds a blob to: conditions in one `when` or
// `unless`, fields in one condition, values of one field test, UTF-16 units of one value.
inline constexpr std::size_t kMaxConditionsPerList = kMaxConditionGroups;
inline constexpr std::size_t kMaxTestsPerCondition = kMaxConditionTests;
inline constexpr std::size_t kMaxValuesPerTest = kMaxConditionOperands;
inline constexpr std::size_t kMaxConditionValueUnits = kMaxConditionOperandUnits;
// Problems reported for one file; the rest are summed up in one last line.
inline constexpr std::size_t kMaxReportedProblems = 200;

}  // namespace hivewarden::policy::limits
