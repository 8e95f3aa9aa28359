// The monitored tree while it is being compiled: one node per distinct pattern prefix, kept in
// flat tables (edges keyed by parent and interned name), then laid out in the blob's order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "string_pool.hpp"

namespace hivewarden::policy {

// A node and a literal edge as flattened, before hot_layout packs them into the blob's 16-byte
// records (policy_format.hpp).
struct FlatNode {
  blob::Range literal_edges;
  blob::Range pattern_edges;
  blob::Range key_clients;
  blob::Range values;
};
struct FlatLiteralEdge {
  std::uint64_t hash;  // component_hash(folded)
  blob::StrRef folded;
  blob::StrRef display;  // the first spelling seen
  std::uint32_t child;
};

// The tree's sections, in blob order: nodes in pre-order (every child after its parent), each
// node's literal edges sorted by (hash, folded name), its pattern edges by (kind, count, glob).
struct FlatTree {
  std::vector<FlatNode> nodes;
  std::vector<FlatLiteralEdge> literal_edges;
  std::vector<blob::PatternEdge> pattern_edges;
  std::vector<blob::ClientRule> key_clients;
  std::vector<blob::ValuePattern> values;
  std::vector<blob::ClientRule> value_clients;
  std::vector<std::uint32_t> subtree_rules;  // per node: its rules and those of every node below
};

// A key pattern's component with its folded text and hash worked out beforehand (by the
// compiler's workers, on another core): the tree then only looks it up.
struct HashedComponent {
  ComponentKind kind = ComponentKind::kLiteral;
  std::uint32_t count = 1;       // N of `*{N}`
  std::u16string_view folded;    // literal: the name folded; glob: the glob folded
  std::u16string_view display;   // literal: the name as written
  std::uint64_t hash = 0;        // component_hash(folded)
  std::uint64_t place_hash = 0;  // MonitoredTree::place_hash of the components up to this one
};

// A value name as written and folded, each with its component_hash.
struct HashedValueName {
  std::u16string_view name;
  std::uint64_t name_hash = 0;
  std::u16string_view folded;
  std::uint64_t folded_hash = 0;
  bool is_glob = false;  // the folded name holds `*` or `?`
};

class MonitoredTree {
 public:
  explicit MonitoredTree(StringPool& strings);

  // A hash of the path of edges from the root to a component's node, each edge as the tree keys
  // it: the previous component's place_hash (0 for the first) and this component. Literal edges
  // are found by it, so the slots of a pattern's every component are known before the first is
  // read, and can be fetched from memory together (prefetch).
  static std::uint64_t place_hash(std::uint64_t previous, const HashedComponent& c);
  void prefetch(std::uint64_t place_hash) const {
    __builtin_prefetch(&literal_slots_[place_hash & (literal_slots_.size() - 1)]);
  }
  // Room for about this many nodes and values without growing the lookup tables.
  void reserve(std::size_t nodes, std::size_t values);
  // The node a pattern ends at, made when new.
  std::uint32_t insert(const HashedComponent* components, std::size_t count);
  void add_key_client(std::uint32_t node, blob::ClientRule rule);
  // Values with the same folded name (and globbiness) share one record.
  void add_value_client(std::uint32_t node, const HashedValueName& name, blob::ClientRule rule);

  std::size_t node_count() const { return node_count_; }
  FlatTree flatten() const;

 private:
  struct LiteralEdge {
    std::uint32_t parent;
    std::uint32_t child;
    std::uint64_t hash;
    blob::StrRef folded;
    blob::StrRef display;  // the first spelling seen
  };
  struct PatternEdge {
    std::uint32_t parent;
    std::uint32_t child;
    std::uint32_t kind;
    std::uint32_t count;
    blob::StrRef glob;  // folded, for kGlob
  };
  struct Value {
    std::uint32_t node;
    blob::StrRef folded;
    bool is_glob;
  };
  struct Slot {
    std::uint64_t key_a = 0;
    std::uint64_t key_b = 0;
    std::uint32_t index = 0xFFFFFFFFu;
  };

  // Each table's records grouped by owner (node, or value for value clients) in blob order:
  // `lits[lit_begin[n] .. lit_begin[n + 1])` are node n's literal edges, and so on.
  struct Order {
    std::vector<std::uint32_t> lits, pats, keys, vals, vclients;
    std::vector<std::uint32_t> lit_begin, pat_begin, key_begin, value_begin, value_client_begin;
  };
  Order order() const;
  // Appends one node's edges, key clients and values to `flat`, and points `out` at them.
  void append_node(const Order& o, std::uint32_t node, FlatTree& flat, FlatNode& out) const;

  std::uint32_t child_literal(std::uint32_t parent, const HashedComponent& c);
  std::uint32_t child_pattern(std::uint32_t parent, const HashedComponent& c);
  // Index stored under (a, b) in the flat lookup table, or `fresh` stored there when absent.
  std::uint32_t find_or_add(std::uint64_t a, std::uint64_t b, std::uint32_t fresh, bool& added);
  // Stores a slot at free place i, growing the table when it gets half full.
  void store(std::size_t i, const Slot& slot);
  void grow_slots(std::size_t size);

  StringPool& strings_;
  std::uint32_t node_count_ = 1;  // the root
  std::vector<LiteralEdge> literals_;
  std::vector<PatternEdge> patterns_;
  std::vector<std::pair<std::uint32_t, blob::ClientRule>> key_clients_;  // (node, rule)
  std::vector<Value> values_;
  std::vector<std::pair<std::uint32_t, blob::ClientRule>> value_clients_;  // (value, rule)
  std::vector<Slot> slots_;  // one table for pattern edges and values
  std::size_t used_slots_ = 0;
  // Literal edges, at their child's place_hash: checked against the parent and the name.
  struct LiteralSlot {
    std::uint64_t place_hash = 0;
    std::uint32_t parent = 0;
    std::uint32_t child = 0xFFFFFFFFu;
    std::uint32_t text = 0;  // the folded name in the pool
    std::uint32_t length = 0;
  };
  std::vector<LiteralSlot> literal_slots_;
  std::size_t used_literal_slots_ = 0;
  void grow_literal_slots(std::size_t size);
};

}  // namespace hivewarden::policy
