// A read-only view of a compiled policy blob that validate_policy has accepted. Every index and
// string reference in it is in bounds, and the node graph is a tree walked from low to high index,
// so the matcher can trust it without further checks.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {

// Why a blob was rejected: a fixed message and the byte offset it concerns.
struct PolicyError {
  const char* what = "";
  std::uint64_t offset = 0;
};

template <class T>
struct Span {
  const T* data = nullptr;
  std::uint32_t size = 0;
  const T& operator[](std::uint32_t i) const { return data[i]; }
  const T* begin() const { return data; }
  const T* end() const { return data + size; }
};

class PolicyView {
 public:
  const blob::Header& header() const { return *header_; }
  std::u16string_view str(blob::StrRef ref) const { return {strings_ + ref.offset, ref.length}; }

  // The nodes without the sentinel; a node's edges and attachment through the accessors below.
  Span<blob::Node> nodes() const { return nodes_; }
  std::uint32_t literal_first(std::uint32_t n) const { return nodes_.data[n].literal_first; }
  Span<blob::LiteralEdge> literal_edges(std::uint32_t n) const {
    const std::uint32_t first = nodes_.data[n].literal_first;
    return {literal_edges_ + first, nodes_.data[n + 1].literal_first - first};
  }
  Span<blob::PatternEdge> pattern_edges(std::uint32_t n) const {
    const std::uint32_t first = nodes_.data[n].pattern_first;
    return {pattern_edges_ + first, nodes_.data[n + 1].pattern_first - first};
  }
  // A wide node's table (empty when the node is scanned).
  Span<std::uint32_t> edge_table(std::uint32_t n) const {
    const std::uint32_t first = nodes_.data[n].edge_table;
    if (first == blob::kNoIndex) return {};
    const std::uint32_t edges = nodes_.data[n + 1].literal_first - nodes_.data[n].literal_first;
    return {edge_slots_ + first, static_cast<std::uint32_t>(blob::edge_table_slots(edges))};
  }
  const blob::LiteralEdge& literal_edge(std::uint32_t i) const { return literal_edges_[i]; }
  std::u16string_view edge_name(const blob::LiteralEdge& e) const {
    return {strings_ + e.folded, e.length};
  }
  // The name as first written in the policy (explanations and dumps; not on the decision path).
  std::u16string_view edge_display(std::uint32_t edge) const {
    return {strings_ + edge_displays_[edge], literal_edges_[edge].length};
  }
  Span<blob::ClientRule> node_key_clients(std::uint32_t n) const {
    const std::uint32_t a = nodes_.data[n].attachment;
    return a == blob::kNoIndex ? Span<blob::ClientRule>{}
                               : key_clients(attachments_[a].key_clients);
  }
  Span<blob::ValuePattern> node_values(std::uint32_t n) const {
    const std::uint32_t a = nodes_.data[n].attachment;
    return a == blob::kNoIndex ? Span<blob::ValuePattern>{} : values(attachments_[a].values);
  }
  const blob::PatternEdge& pattern_edge(std::uint32_t i) const { return pattern_edges_[i]; }
  Span<blob::ClientRule> key_clients(blob::Range r) const {
    return {key_clients_ + r.first, r.count};
  }
  Span<blob::ValuePattern> values(blob::Range r) const { return {values_ + r.first, r.count}; }
  Span<blob::ClientRule> value_clients(blob::Range r) const {
    return {value_clients_ + r.first, r.count};
  }
  Span<blob::Client> clients() const { return clients_; }
  Span<blob::Entry> entries() const { return entries_; }
  Span<blob::Range> hardened_keys() const { return hardened_keys_; }
  Span<blob::StrRef> hardened_parts(blob::Range r) const {
    return {hardened_parts_ + r.first, r.count};
  }
  Span<blob::ProcessRule> processes() const { return processes_; }
  // Conditions (SPEC §10): an entry's when / unless groups, a group's tests, a test's operands.
  Span<blob::Range> condition_groups(blob::Range r) const {
    return {condition_groups_ + r.first, r.count};
  }
  Span<blob::ConditionTest> condition_tests(blob::Range r) const {
    return {condition_tests_ + r.first, r.count};
  }
  Span<blob::ConditionOperand> condition_operands(blob::Range r) const {
    return {condition_operands_ + r.first, r.count};
  }
  const blob::ConditionTest& condition_test(std::uint32_t i) const { return condition_tests_[i]; }

  // Every rule at node `n` or below it (key and value rules): what an operation that moves or
  // overwrites the node's key would affect.
  Rules subtree_rules(std::uint32_t n) const { return subtree_rules_[n]; }

  Rules rule_union() const { return rule_union_; }
  bool legacy_hardening() const { return (header_->flags & blob::kFlagLegacyHardening) != 0; }
  std::uint32_t control_set() const { return header_->control_set; }
  std::uint32_t entry_count() const { return entries_.size; }
  // Whether any entry has conditions: when none has, matching never looks at them.
  bool has_conditions() const { return condition_group_count_ != 0; }

 private:
  friend bool validate_policy(const void*, std::uint64_t, PolicyView&, PolicyError&);
  const blob::Header* header_ = nullptr;
  const char16_t* strings_ = nullptr;
  Span<blob::Node> nodes_;
  const blob::LiteralEdge* literal_edges_ = nullptr;
  const std::uint32_t* edge_slots_ = nullptr;
  const std::uint32_t* edge_displays_ = nullptr;
  const blob::Attachment* attachments_ = nullptr;
  const blob::PatternEdge* pattern_edges_ = nullptr;
  const blob::ClientRule* key_clients_ = nullptr;
  const blob::ValuePattern* values_ = nullptr;
  const blob::ClientRule* value_clients_ = nullptr;
  Span<blob::Client> clients_;
  Span<blob::Entry> entries_;
  Span<blob::Range> hardened_keys_;
  const blob::StrRef* hardened_parts_ = nullptr;
  Span<blob::ProcessRule> processes_;
  const Rules* subtree_rules_ = nullptr;
  const blob::Range* condition_groups_ = nullptr;
  const blob::ConditionTest* condition_tests_ = nullptr;
  const blob::ConditionOperand* condition_operands_ = nullptr;
  std::uint32_t condition_group_count_ = 0;
  Rules rule_union_ = 0;
};

// Checks every byte of a blob that the engine will ever read: header, version, size, checksum,
// section bounds and alignment, string references, indices, tree order (children after parents,
// so walks end), the node runs (monotone, closed by the sentinel), sort order and hashes of
// literal edges, every wide node's table (each edge where a lookup finds it), pattern kinds and
// counts. `data` must be 8-byte aligned and stay alive while `out` is used. Runs in time linear in
// the blob's size.
bool validate_policy(const void* data, std::uint64_t size, PolicyView& out, PolicyError& error);

}  // namespace hivewarden
