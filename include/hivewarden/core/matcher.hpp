// The monitored-tree matcher (SPEC §6): which entries of a validated policy apply to a key path,
// for an operation's flag. Walks every alternative at once (no backtracking), so the cost grows
// with the path's depth and the number of wildcard alternatives alive, not with the entry count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {

struct OperationRequest;

// One matched (entry, client) pair and the rules it brought.
struct MatchHit {
  std::uint32_t entry;
  std::uint32_t client;
  Rules rules;
};

// The live wildcard alternatives one walk may keep at once (states at a node, inside a `**` or a
// `*{N}` edge). What bounds the scratch: two sets of them, not one per level, so the path's depth
// does not. Beyond it the decision is `match-limit` (SPEC §9: denied, fail closed). Real policies
// keep far fewer alive (docs/DESIGN-NOTES.md, *Scratch*: the default policy, Sysmon and Sigma
// imports and the bench's generated policies peak at a few dozen); it takes a policy written to
// keep a hundred `**` or globs alive on one path to reach it.
inline constexpr std::uint32_t kMaxActiveStates = 128;
inline constexpr std::uint32_t kMaxMatchHits = 256;
// Entries whose path matched but whose conditions did not hold, kept for explanations.
inline constexpr std::uint32_t kMaxConditionMisses = 64;

// The work one decision may spend walking the policy tree, in steps: one per live state carried
// over a path component, one per wildcard edge tried there (and per `**` edge looked for when
// closing over it), and for a key or value glob one more per kGlobUnitsPerStep units of glob length
// x name length (glob_match's worst case). A decision that would take more is `match-limit`
// (denied, fail closed), like one that keeps more than kMaxActiveStates alternatives alive. A
// step costs some 10-30 ns, so one decision matches in about a millisecond at most, whatever the
// policy; sane policies take far fewer steps (a 512-component path with a dozen alternatives
// alive at every level: about 10,000).
inline constexpr std::uint32_t kMaxMatchSteps = 1u << 15;
inline constexpr std::uint32_t kGlobUnitsPerStep = 32;

// The steps a glob compare of a `pattern`-unit glob against a `text`-unit name is charged
// beyond the edge itself: glob_match takes up to pattern x text unit compares.
constexpr std::uint64_t glob_steps(std::size_t pattern, std::size_t text) {
  return static_cast<std::uint64_t>(pattern) * text / kGlobUnitsPerStep;
}

// Slots of the hash index that keeps adding a state to a large live set O(1) (load <= 1/2). A
// slot holds the state's position in its set + 1 (0: empty), so a byte is enough.
inline constexpr std::uint32_t kStateIndexBits = 8;
inline constexpr std::uint32_t kStateIndexSlots = 1u << kStateIndexBits;
static_assert(kStateIndexSlots >= 2 * kMaxActiveStates);
static_assert(kMaxActiveStates < 256, "index slots hold a position + 1 in a byte");

// Working memory of one match, owned by the caller (one per thread), so matching allocates nothing.
// A few kilobytes whatever the policy and the names: no copy of a name is kept (names are folded
// as they are compared), and the live states are bounded by kMaxActiveStates.
struct MatchScratch {
  std::uint64_t current[kMaxActiveStates];
  std::uint64_t next[kMaxActiveStates];
  MatchHit hits[kMaxMatchHits];
  std::uint32_t hit_count = 0;
  bool hits_truncated = false;  // more pairs matched than kMaxMatchHits; rules stay exact
  bool state_overflow = false;  // too many alternatives alive, or the step budget spent: incomplete
  std::uint32_t peak_states =
      0;                    // the largest live set of this decision's walks (for bench, tests)
  std::uint64_t steps = 0;  // work spent by this decision's walks (see kMaxMatchSteps)
  // The operation whose fields conditions test (SPEC §10); null: no conditioned entry matches.
  const OperationRequest* request = nullptr;
  std::uint64_t condition_work = 0;  // see kMaxConditionWork
  MatchHit condition_misses[kMaxConditionMisses];
  std::uint32_t condition_miss_count = 0;
  // The index of the live set being built (position in the set + 1 per used slot); all zero
  // between walks.
  std::uint8_t state_index[kStateIndexSlots] = {};

  void reset() {
    hit_count = 0;
    hits_truncated = false;
    state_overflow = false;
    peak_states = 0;
    steps = 0;
    condition_work = 0;
    condition_miss_count = 0;
  }
};

// The live states at the end of one walk of a path (they sit in the scratch): valid until the
// next walk with the same scratch. One walk serves every question a decision asks of one path.
struct MatchWalk {
  const std::uint64_t* states = nullptr;
  std::uint32_t count = 0;
};

// Walks the first `depth` components of `path` through the policy tree. Sets
// scratch.state_overflow (and returns no states) when the walk would keep more than
// kMaxActiveStates alternatives alive or take the decision past kMaxMatchSteps steps.
MatchWalk walk_path(const PolicyView& policy, const KeyPath& path, std::uint32_t depth,
                    MatchScratch& scratch);

// The questions below, asked of a walk's end. Same meaning as the path forms further down.
Rules match_entries(const PolicyView& policy, const MatchWalk& walk, Rules flag,
                    const std::u16string_view* value_name, MatchScratch& scratch);
Rules value_entry_rules(const PolicyView& policy, const MatchWalk& walk, Rules flag,
                        MatchScratch& scratch);
Rules subtree_rules_at(const PolicyView& policy, const MatchWalk& walk);

// Adds to scratch.hits every (entry, client) whose key pattern matches the first `depth`
// components of `path` fully and whose rules share a bit with `flag`, and returns the OR of their
// rules. For a value operation (`value_name` not null) the entry's value list is matched
// against the value name (as given: it is folded as it is compared) instead of its key clients.
// Pairs already in scratch.hits are not added twice (a rename matches twice into the same scratch).
// When scratch.state_overflow is set the result may miss entries and the caller must fail closed.
Rules match_entries(const PolicyView& policy, const KeyPath& path, std::uint32_t depth, Rules flag,
                    const std::u16string_view* value_name, MatchScratch& scratch);

// The OR of the rules of every value entry (any value name, globs included) of the entries whose
// key pattern matches the path's first `depth` components fully, counting only value clients
// whose rules share a bit with `flag`; those pairs are added to scratch.hits. What deleting the
// key would delete with it (SPEC §4.3). When scratch.state_overflow is set the caller must fail
// closed.
Rules value_entry_rules(const PolicyView& policy, const KeyPath& path, std::uint32_t depth,
                        Rules flag, MatchScratch& scratch);

// The OR of every rule of every entry at or below the key the path's first `depth` components
// name (key and value rules alike): what moving or overwriting that key would touch. When
// scratch.state_overflow is set the caller must fail closed.
Rules subtree_rules_at(const PolicyView& policy, const KeyPath& path, std::uint32_t depth,
                       MatchScratch& scratch);

// True when the path's first `depth` components are a prefix of (or equal to) a hardened key:
// the key is the hardened key or one of its ancestors.
bool is_hardened_below(const PolicyView& policy, const KeyPath& path, std::uint32_t depth);

// True when a hardened key of the policy is a component-wise prefix of the path's first `depth`
// components (SPEC §4.1).
bool is_hardened(const PolicyView& policy, const KeyPath& path, std::uint32_t depth);

}  // namespace hivewarden
