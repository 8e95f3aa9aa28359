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

class MonitoredTree {
 public:
  explicit MonitoredTree(StringPool& strings);

  // The node a pattern ends at, made when new.
  std::uint32_t insert(const KeyPattern& pattern);
  void add_key_client(std::uint32_t node, blob::ClientRule rule);
  // `name` as written; values with the same folded name (and globbiness) share one record.
  void add_value_client(std::uint32_t node, std::u16string_view name, blob::ClientRule rule);

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

  std::uint32_t child_literal(std::uint32_t parent, std::u16string_view name);
  std::uint32_t child_pattern(std::uint32_t parent, const PatternComponent& c);
  std::u16string_view fold(std::u16string_view s);
  // Index stored under (a, b) in the flat lookup table, or `fresh` stored there when absent.
  std::uint32_t find_or_add(std::uint64_t a, std::uint64_t b, std::uint32_t fresh, bool& added);

  StringPool& strings_;
  std::u16string fold_buffer_;
  std::uint32_t node_count_ = 1;  // the root
  std::vector<LiteralEdge> literals_;
  std::vector<PatternEdge> patterns_;
  std::vector<std::pair<std::uint32_t, blob::ClientRule>> key_clients_;  // (node, rule)
  std::vector<Value> values_;
  std::vector<std::pair<std::uint32_t, blob::ClientRule>> value_clients_;  // (value, rule)
  std::vector<Slot> slots_;  // one table for literal edges, pattern edges and values
  std::size_t used_slots_ = 0;
};

}  // namespace hivewarden::policy
