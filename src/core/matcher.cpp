#include "hivewarden/core/matcher.hpp"

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/condition.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/core/hash.hpp"

namespace hivewarden {
namespace {

using namespace blob;

bool part_matches(std::u16string_view part, std::u16string_view component);

// Names in the policy are folded; an operation's names are folded as they are compared.
constexpr auto fold = [](char16_t unit) { return fold_unit(unit); };

// An alternative alive during the walk: at a node, inside a `**` edge (which may consume any
// number of further components), or inside a `*{N}` edge with components still to consume.
enum StateKind : std::uint64_t { kAtNode = 0, kInDeep = 1, kInSkip = 2 };

constexpr std::uint64_t make_state(StateKind kind, std::uint32_t index,
                                   std::uint32_t remaining = 0) {
  return (static_cast<std::uint64_t>(kind) << 62) | (static_cast<std::uint64_t>(remaining) << 32) |
         index;
}
constexpr StateKind state_kind(std::uint64_t s) {
  return static_cast<StateKind>(s >> 62);
}
constexpr std::uint32_t state_index(std::uint64_t s) {
  return static_cast<std::uint32_t>(s);
}
constexpr std::uint32_t state_remaining(std::uint64_t s) {
  return static_cast<std::uint32_t>(s >> 32) & 0x3FFFFFFF;
}

// A set of states with insertion order kept (the order is the worklist of the closure). A small
// set is searched in place; past kLinearStates it is indexed by a hash table in the scratch (only
// one set is built at a time) whose slots hold positions in the set, so adding a state stays O(1).
class StateSet {
 public:
  StateSet(std::uint64_t* items, MatchScratch& scratch) : items_(items), scratch_(scratch) {}
  StateSet(const StateSet&) = delete;
  StateSet& operator=(const StateSet&) = delete;
  ~StateSet() { release_index(); }

  // Adds a state; false when it was there already or there is no room (then overflow is set:
  // the walk is incomplete, and the decision `match-limit`).
  bool add(std::uint64_t state) {
    std::uint32_t slot = 0;
    if (indexed_) {
      slot = find_slot(state);
      if (scratch_.state_index[slot] != 0) return false;
    } else {
      for (std::uint32_t i = 0; i < size_; ++i) {
        if (items_[i] == state) return false;
      }
    }
    if (size_ == kMaxActiveStates) {
      scratch_.state_overflow = true;
      return false;
    }
    if (!indexed_ && size_ == kLinearStates) {
      build_index();
      slot = find_slot(state);
    }
    if (indexed_) scratch_.state_index[slot] = static_cast<std::uint8_t>(size_ + 1);
    items_[size_++] = state;
    return true;
  }
  std::uint32_t size() const { return size_; }
  void clear() {
    release_index();
    size_ = 0;
  }
  // Empties the shared index (the set keeps its states): done building. The index is a few
  // hundred bytes, so it is cleared whole.
  void release_index() {
    if (!indexed_) return;
    for (std::uint8_t& slot : scratch_.state_index) slot = 0;
    indexed_ = false;
  }
  std::uint64_t operator[](std::uint32_t i) const { return items_[i]; }
  const std::uint64_t* items() const { return items_; }

 private:
  static constexpr std::uint32_t kLinearStates = 16;

  // The slot holding `state`, or the empty slot where it belongs (linear probing; never full).
  std::uint32_t find_slot(std::uint64_t state) const {
    constexpr std::uint32_t kMask = kStateIndexSlots - 1;
    std::uint32_t slot =
        static_cast<std::uint32_t>((state * 0x9E3779B97F4A7C15ull) >> (64 - kStateIndexBits));
    while (scratch_.state_index[slot] != 0 && items_[scratch_.state_index[slot] - 1] != state)
      slot = (slot + 1) & kMask;
    return slot;
  }
  void build_index() {
    indexed_ = true;
    for (std::uint32_t i = 0; i < size_; ++i)
      scratch_.state_index[find_slot(items_[i])] = static_cast<std::uint8_t>(i + 1);
  }

  std::uint64_t* items_;
  MatchScratch& scratch_;
  std::uint32_t size_ = 0;
  bool indexed_ = false;
};

class Walker {
 public:
  Walker(const PolicyView& policy, MatchScratch& scratch) : policy_(policy), scratch_(scratch) {}

  // Adds the states reachable without consuming a component: a node's `**` edges (zero
  // components), and the child behind every `**` state.
  void close(StateSet& set, std::uint32_t from) {
    for (std::uint32_t i = from; i < set.size(); ++i) {
      const std::uint64_t s = set[i];
      if (state_kind(s) == kAtNode) {
        const std::uint32_t n = state_index(s);
        const Span<PatternEdge> patterns = policy_.pattern_edges(n);
        const std::uint32_t first = policy_.nodes()[n].pattern_first;
        std::uint32_t k = 0;
        for (; k < patterns.size && patterns[k].kind <= kAnyDeep; ++k) {  // in order of kind
          if (patterns[k].kind == kAnyDeep) set.add(make_state(kInDeep, first + k));
        }
        spend(k);
      } else if (state_kind(s) == kInDeep) {
        set.add(make_state(kAtNode, policy_.pattern_edge(state_index(s)).child));
      }
    }
  }

  // Adds to `next` every state reached from `s` by consuming the component.
  void step(std::uint64_t s, std::u16string_view component, std::uint64_t hash, StateSet& next) {
    spend(1);
    switch (state_kind(s)) {
      case kAtNode: {
        const std::uint32_t n = state_index(s);
        const Span<PatternEdge> patterns = policy_.pattern_edges(n);
        const std::uint32_t first = policy_.nodes()[n].pattern_first;
        literal_step(n, component, hash, next);
        std::uint32_t i = 0;
        for (; i < patterns.size && patterns[i].kind != kGlob; ++i) {  // the globs end the run
          const PatternEdge& edge = patterns[i];
          if (edge.kind == kAnyOne) {
            next.add(make_state(kAtNode, edge.child));
          } else if (edge.kind == kAnyN) {
            next.add(edge.count == 1 ? make_state(kAtNode, edge.child)
                                     : make_state(kInSkip, first + i, edge.count - 1));
          }  // kAnyDeep: its own state consumes components
        }
        spend(i);
        glob_step({patterns.data + i, patterns.size - i}, component, next);
        break;
      }
      case kInDeep:
        next.add(s);
        break;
      case kInSkip: {
        const PatternEdge& edge = policy_.pattern_edge(state_index(s));
        const std::uint32_t remaining = state_remaining(s);
        next.add(remaining == 1 ? make_state(kAtNode, edge.child)
                                : make_state(kInSkip, state_index(s), remaining - 1));
        break;
      }
    }
  }

  // Counts work against the decision's budget; past it the match is incomplete (fail closed).
  void spend(std::uint64_t steps) {
    scratch_.steps += steps;
    if (scratch_.steps > kMaxMatchSteps) scratch_.state_overflow = true;
  }

  // A glob compare takes up to pattern x text unit compares (glob_match): a long glob against a
  // long name counts as many steps, so that thousands of them cannot hide in one step each.
  // False when that spends the budget: then the compare must not be made.
  bool spend_glob(std::size_t pattern, std::size_t text) {
    spend(glob_steps(pattern, text));
    return !scratch_.state_overflow;
  }

  void add_hit(std::uint32_t entry, std::uint32_t client, Rules rules) {
    for (std::uint32_t i = 0; i < scratch_.hit_count; ++i) {
      if (scratch_.hits[i].entry == entry && scratch_.hits[i].client == client) return;
    }
    if (scratch_.hit_count == kMaxMatchHits) {
      scratch_.hits_truncated = true;
      return;
    }
    scratch_.hits[scratch_.hit_count++] = {entry, client, rules};
  }

  bool conditions_hold(const ClientRule& rule) {
    const Entry& entry = policy_.entries()[rule.entry];
    if (!has_conditions(entry)) return true;
    bool holds = false;
    if (scratch_.request != nullptr) {
      const ConditionVerdict v =
          evaluate_conditions(policy_, entry, *scratch_.request, scratch_.condition_work);
      if (v.over_budget) {  // the answer is incomplete: the decision fails closed
        scratch_.state_overflow = true;
        return false;
      }
      holds = v.applies;
    }
    if (!holds && scratch_.condition_miss_count < kMaxConditionMisses)
      scratch_.condition_misses[scratch_.condition_miss_count++] = {rule.entry, rule.client,
                                                                    rule.rules};
    return holds;
  }

  Rules collect_clients(Span<ClientRule> rules, Rules flag) {
    Rules out = 0;
    for (const ClientRule& rule : rules) {
      if ((rule.rules & flag) == 0) continue;
      // SPEC §4.3: an entry with conditions matches only when they hold (checked only here, after
      // the path matched; a policy without conditions never looks).
      if (policy_.has_conditions() && !conditions_hold(rule)) continue;
      out |= rule.rules;
      add_hit(rule.entry, rule.client, rule.rules);
    }
    return out;
  }

 private:
  // The edges of node n named `component`: a short scan of a small node's sorted run, or probes
  // of a wide node's table from the name's home slot (policy_format.hpp).
  void literal_step(std::uint32_t n, std::u16string_view component, std::uint64_t hash,
                    StateSet& next) {
    const std::uint32_t low = static_cast<std::uint32_t>(hash);
    const Span<LiteralEdge> edges = policy_.literal_edges(n);
    const Span<std::uint32_t> table = policy_.edge_table(n);
    if (table.size == 0) {
      for (const LiteralEdge& edge : edges) {
        if (edge.hash > low) break;  // sorted by hash
        if (edge.hash == low) try_edge(edge, component, hash, next);
      }
      return;
    }
    const std::uint32_t mask = table.size - edges.size - 1;  // home slots: a power of two
    const std::uint32_t home = low & mask;
    std::uint32_t slot = home;
    for (; slot < table.size && table[slot] != kNoIndex; ++slot) {
      const LiteralEdge& edge = policy_.literal_edge(table[slot]);
      const std::uint32_t edge_home = edge.hash & mask;
      if (edge_home > home) break;  // the edges sit in order of home
      if (edge.hash == low) try_edge(edge, component, hash, next);
    }
    spend((slot - home) / 4);  // a long cluster (names chosen to collide) costs its length
  }

  // The globs of a node (in order of literal prefix) that match the component. Only a glob whose
  // prefix the component starts with can match: the last glob whose prefix sorts at or before the
  // component's first `limit` units is found by binary search; if it is such a prefix, it and the
  // globs with the same prefix are tried, and the search goes on for shorter prefixes; if not, no
  // prefix longer than the part they share can be one. Each round shortens `limit`, so a
  // component costs at most its length in searches, however many globs the node has.
  void glob_step(Span<PatternEdge> globs, std::u16string_view component, StateSet& next) {
    std::uint32_t end = globs.size;
    std::size_t limit = component.size();
    while (end > 0 && !scratch_.state_overflow) {
      std::uint32_t low = 0, high = end;  // the first glob whose prefix sorts after
      while (low < high) {
        const std::uint32_t mid = low + (high - low) / 2;
        if (compare_prefix(globs[mid], component, limit).after) {
          high = mid;
        } else {
          low = mid + 1;
        }
      }
      if (low == 0) return;
      const std::uint32_t last = low - 1;
      const PrefixOrder order = compare_prefix(globs[last], component, limit);
      if (order.common < globs[last].prefix) {  // not a prefix: look only at shorter ones
        limit = order.common;
        end = last;
        continue;
      }
      std::uint32_t k = low;  // every glob with this prefix, then shorter prefixes
      for (; k > 0 && same_prefix(globs[k - 1], globs[last]); --k) {
        const PatternEdge& edge = globs[k - 1];
        const std::u16string_view glob = policy_.str(edge.folded);
        spend(1);  // a step per glob tried, as per wildcard edge
        if (!spend_glob(glob.size(), component.size())) return;  // spent: stop trying globs
        if (glob_match_folding(glob, component, fold)) next.add(make_state(kAtNode, edge.child));
      }
      if (globs[last].prefix == 0) return;
      limit = globs[last].prefix - 1;
      end = k;
    }
  }

  struct PrefixOrder {
    std::size_t common;  // units the glob's prefix shares with the component's first `limit`
    bool after;          // the prefix sorts after those units
  };

  // A glob's literal prefix (folded) against the component's first `limit` units, folded as
  // compared. One step, and one more per kGlobUnitsPerStep units compared.
  PrefixOrder compare_prefix(const PatternEdge& edge, std::u16string_view component,
                             std::size_t limit) {
    const std::u16string_view prefix = policy_.str(edge.folded).substr(0, edge.prefix);
    const std::size_t n = prefix.size() < limit ? prefix.size() : limit;
    std::size_t i = 0;
    while (i < n && prefix[i] == fold(component[i])) ++i;
    spend(1 + i / kGlobUnitsPerStep);
    if (i < n) return {i, prefix[i] > fold(component[i])};
    return {i, prefix.size() > limit};
  }

  bool same_prefix(const PatternEdge& a, const PatternEdge& b) const {
    return a.prefix == b.prefix &&
           policy_.str(a.folded).substr(0, a.prefix) == policy_.str(b.folded).substr(0, b.prefix);
  }

  void try_edge(const LiteralEdge& edge, std::u16string_view component, std::uint64_t hash,
                StateSet& next) {
    if (edge.hash_high != static_cast<std::uint16_t>(hash >> 32)) return;
    // The child is read at the next component: start fetching it while the name is compared.
    prefetch(&policy_.nodes().data[edge.child]);
    if (equals_when_folded(policy_.edge_name(edge), component))
      next.add(make_state(kAtNode, edge.child));
  }

  static void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
  }

  const PolicyView& policy_;
  MatchScratch& scratch_;
};

void note_peak(std::uint32_t live, MatchScratch& scratch) {
  if (live > scratch.peak_states) scratch.peak_states = live;
}

}  // namespace

MatchWalk walk_path(const PolicyView& policy, const KeyPath& path, std::uint32_t depth,
                    MatchScratch& scratch) {
  Walker walker(policy, scratch);
  StateSet a(scratch.current, scratch), b(scratch.next, scratch);
  StateSet* current = &a;
  StateSet* next = &b;
  current->add(make_state(kAtNode, 0));
  walker.close(*current, 0);
  current->release_index();
  note_peak(current->size(), scratch);
  // An overflowed walk is abandoned: its answer cannot be used, so the rest is wasted work.
  for (std::uint32_t i = 0; i < depth && current->size() > 0 && !scratch.state_overflow; ++i) {
    next->clear();
    const std::u16string_view component = path.display_component(i);  // folded as compared
    const std::uint64_t hash = path.components[i].hash;
    for (std::uint32_t k = 0; k < current->size() && !scratch.state_overflow; ++k)
      walker.step((*current)[k], component, hash, *next);
    walker.close(*next, 0);
    next->release_index();
    note_peak(next->size(), scratch);
    StateSet* t = current;
    current = next;
    next = t;
  }
  if (scratch.state_overflow) return {};
  return {current->items(), current->size()};
}

Rules match_entries(const PolicyView& policy, const MatchWalk& walk, Rules flag,
                    const std::u16string_view* value_name, MatchScratch& scratch) {
  Walker walker(policy, scratch);
  Rules rules = 0;
  // The value name is folded as it is compared (hash, then the name after a hash hit, or a glob).
  const std::uint64_t value_hash = value_name != nullptr ? folded_component_hash(*value_name) : 0;
  for (std::uint32_t k = 0; k < walk.count; ++k) {
    const std::uint64_t s = walk.states[k];
    if (state_kind(s) != kAtNode) continue;
    const std::uint32_t n = state_index(s);
    if (value_name == nullptr) {
      rules |= walker.collect_clients(policy.node_key_clients(n), flag);
      continue;
    }
    for (const ValuePattern& value : policy.node_values(n)) {
      const std::u16string_view pattern = policy.str(value.folded);
      if (value.is_glob != 0 && !walker.spend_glob(pattern.size(), value_name->size()))
        return rules;
      const bool hit = value.is_glob != 0
                           ? glob_match_folding(pattern, *value_name, fold)
                           : (value.hash == value_hash && equals_when_folded(pattern, *value_name));
      if (hit) rules |= walker.collect_clients(policy.value_clients(value.clients), flag);
    }
  }
  return rules;
}

Rules value_entry_rules(const PolicyView& policy, const MatchWalk& walk, Rules flag,
                        MatchScratch& scratch) {
  Walker walker(policy, scratch);
  Rules rules = 0;
  for (std::uint32_t k = 0; k < walk.count; ++k) {
    const std::uint64_t s = walk.states[k];
    if (state_kind(s) != kAtNode) continue;  // inside `**` or `*{N}`: the pattern is not done
    for (const ValuePattern& value : policy.node_values(state_index(s))) {
      rules |= walker.collect_clients(policy.value_clients(value.clients), flag);
    }
  }
  return rules;
}

Rules subtree_rules_at(const PolicyView& policy, const MatchWalk& walk) {
  Rules rules = 0;
  for (std::uint32_t k = 0; k < walk.count; ++k) {
    const std::uint64_t s = walk.states[k];
    // A node: everything at it and below. Inside a `**` or `*{N}` edge: everything its child
    // leads to, since some deeper path reaches it.
    rules |= policy.subtree_rules(
        state_kind(s) == kAtNode ? state_index(s) : policy.pattern_edge(state_index(s)).child);
  }
  return rules;
}

Rules match_entries(const PolicyView& policy, const KeyPath& path, std::uint32_t depth, Rules flag,
                    const std::u16string_view* value_name, MatchScratch& scratch) {
  return match_entries(policy, walk_path(policy, path, depth, scratch), flag, value_name, scratch);
}

Rules value_entry_rules(const PolicyView& policy, const KeyPath& path, std::uint32_t depth,
                        Rules flag, MatchScratch& scratch) {
  return value_entry_rules(policy, walk_path(policy, path, depth, scratch), flag, scratch);
}

Rules subtree_rules_at(const PolicyView& policy, const KeyPath& path, std::uint32_t depth,
                       MatchScratch& scratch) {
  return subtree_rules_at(policy, walk_path(policy, path, depth, scratch));
}

namespace {
// A hardened key's component (folded) against a path component (as given, folded as compared):
// a name, or a name glob.
bool part_matches(std::u16string_view part, std::u16string_view component) {
  return equals_when_folded(part, component) ||
         (has_glob_chars(part) && glob_match_folding(part, component, fold));
}
}  // namespace

bool is_hardened_below(const PolicyView& policy, const KeyPath& path, std::uint32_t depth) {
  for (const Range& key : policy.hardened_keys()) {
    if (key.count < depth) continue;
    const Span<StrRef> parts = policy.hardened_parts(key);
    std::uint32_t i = 0;
    while (i < depth && part_matches(policy.str(parts[i]), path.display_component(i))) ++i;
    if (i == depth) return true;
  }
  return false;
}

bool is_hardened(const PolicyView& policy, const KeyPath& path, std::uint32_t depth) {
  for (const Range& key : policy.hardened_keys()) {
    if (key.count > depth) continue;
    const Span<StrRef> parts = policy.hardened_parts(key);
    std::uint32_t i = 0;
    while (i < parts.size && part_matches(policy.str(parts[i]), path.display_component(i))) ++i;
    if (i == parts.size) return true;
  }
  return false;
}

}  // namespace hivewarden
