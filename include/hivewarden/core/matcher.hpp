// The monitored-tree matcher (SPEC §6): which entries of a validated policy apply to a key path,
// for an operation's flag. Walks every alternative at once (no backtracking), so the cost grows
// with the path's depth and the number of wildcard alternatives alive, not with the entry count.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {

// One matched (entry, client) pair and the rules it brought.
struct MatchHit {
  std::uint32_t entry;
  std::uint32_t client;
  Rules rules;
};

inline constexpr std::uint32_t kMaxActiveStates = 2048;
inline constexpr std::uint32_t kMaxMatchHits = 256;

// Working memory of one match, owned by the caller (one per thread), so matching allocates nothing.
struct MatchScratch {
  std::uint64_t current[kMaxActiveStates];
  std::uint64_t next[kMaxActiveStates];
  MatchHit hits[kMaxMatchHits];
  std::uint32_t hit_count = 0;
  bool hits_truncated = false;  // more pairs matched than kMaxMatchHits; rules stay exact
  bool state_overflow = false;  // too many wildcard alternatives alive: result is incomplete
  char16_t value_folded[kMaxValueNameUnits + 1];

  void reset() {
    hit_count = 0;
    hits_truncated = false;
    state_overflow = false;
  }
};

// Adds to scratch.hits every (entry, client) whose key pattern matches the first `depth`
// components of `path` fully and whose rules share a bit with `flag`, and returns the OR of their
// rules. For a value operation (`value_folded` not null) the entry's value list is matched
// against the folded value name instead of its key clients. Pairs already in scratch.hits are not
// added twice (a rename matches twice into the same scratch). When scratch.state_overflow is set
// the result may miss entries and the caller must fail closed.
Rules match_entries(const PolicyView& policy, const KeyPath& path, std::uint32_t depth, Rules flag,
                    const std::u16string_view* value_folded, MatchScratch& scratch);

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
Rules subtree_rules_at(const PolicyView& policy, const KeyPath& path, std::uint32_t depth, MatchScratch& scratch);

// True when the path's first `depth` components are a prefix of (or equal to) a hardened key:
// the key is the hardened key or one of its ancestors.
bool is_hardened_below(const PolicyView& policy, const KeyPath& path, std::uint32_t depth);

// True when a hardened key of the policy is a component-wise prefix of the path's first `depth`
// components (SPEC §4.1).
bool is_hardened(const PolicyView& policy, const KeyPath& path, std::uint32_t depth);

}  // namespace hivewarden
