// Conditions on a monitored entry (SPEC §10): checked only for entries whose path already matched,
// bounded in work and allocation-free.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/core/registry_data.hpp"

namespace hivewarden {

// Limits of the condition section, checked by validate_policy (and, with the same numbers, by the
// YAML reader): conditions per `when` / `unless` of an entry, tests per condition, operands per
// test, units per operand.
// Imported Sigma rules and Sysmon configurations multiply out into hundreds of alternatives (a
// Sysmon exclude list is one `unless` per rule): the work bound below, not this, keeps them cheap.
inline constexpr std::uint32_t kMaxConditionGroups = 1024;
inline constexpr std::uint32_t kMaxConditionTests = 64;
inline constexpr std::uint32_t kMaxConditionOperands = 1024;
inline constexpr std::uint32_t kMaxConditionOperandUnits = 4096;

// The work one decision may spend on conditions, in unit compares (one more per test and per
// operand tried). Every compare is counted as it is made, so the bound holds whatever the blob
// holds; past it the match is incomplete and the decision is `match-limit` (denied, fail closed).
// A unit compare takes about a nanosecond: at most about a millisecond per decision. A 512 KiB
// string written to a conditioned value and searched once stays well inside it.
inline constexpr std::uint64_t kMaxConditionWork = 1u << 21;

// What the conditions of one entry said about one operation.
struct ConditionVerdict {
  bool applies = true;
  bool over_budget = false;  // the work bound was reached: the answer is not to be used
  std::uint32_t when_held = blob::kNoIndex;    // index in entry.when of the group that held
  std::uint32_t when_failed = blob::kNoIndex;  // no `when` group held: the first group's first
                                               // failed test (index into kConditionTests)
  std::uint32_t unless_held = blob::kNoIndex;  // index in entry.unless of the group that held
};

// Evaluates an entry's conditions against an operation. `work` is the decision's running count
// (see kMaxConditionWork). The policy's control set says which ControlSet00N is
// CurrentControlSet in target_object.
ConditionVerdict evaluate_conditions(const PolicyView& policy, const blob::Entry& entry,
                                     const OperationRequest& request, std::uint64_t& work);

inline bool has_conditions(const blob::Entry& entry) {
  return (entry.when.count | entry.unless.count) != 0;
}

// A field's name as the policy writes it ("image", "target_object"...); "?" when unknown.
const char* condition_field_name(std::uint32_t field);

// Writes the operation's field as the conditions see it (unfolded) into `out` (up to `capacity`
// units, cut there); returns its length, or -1 when the operation has no such field. For
// explanations and tests: the decision itself never copies a field.
std::int64_t condition_field_text(const PolicyView& policy, std::uint32_t field,
                                  const OperationRequest& request, char16_t* out,
                                  std::uint32_t capacity);

}  // namespace hivewarden
