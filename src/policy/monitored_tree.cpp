#include "monitored_tree.hpp"

#include <algorithm>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/core/hash.hpp"

namespace hivewarden::policy {
namespace {

constexpr std::uint32_t kFree = 0xFFFFFFFFu;
constexpr std::uint64_t kLiteralTag = 1ull << 32;
constexpr std::uint64_t kValueTag = 2ull << 32;
constexpr std::uint64_t kValueGlobTag = 3ull << 32;
constexpr std::uint64_t kPatternTag = 4ull << 32;
constexpr std::uint64_t kGlobTag = 5ull << 32;

std::uint64_t packed(blob::StrRef ref) {
  return (static_cast<std::uint64_t>(ref.offset) << 32) | ref.length;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a << 6));
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

// Indices of `items` grouped by key(item) in 0..groups-1, keeping their order inside a group;
// begin[g]..begin[g+1] is group g's run.
template <class Items, class Key>
std::vector<std::uint32_t> group_by(const Items& items, std::size_t groups, Key key,
                                    std::vector<std::uint32_t>& begin) {
  begin.assign(groups + 1, 0);
  for (const auto& item : items) ++begin[key(item) + 1];
  for (std::size_t g = 0; g < groups; ++g) begin[g + 1] += begin[g];
  std::vector<std::uint32_t> order(items.size());
  std::vector<std::uint32_t> next(begin.begin(), begin.end() - 1);
  for (std::uint32_t i = 0; i < items.size(); ++i) order[next[key(items[i])]++] = i;
  return order;
}

// Sorts each group's run of `order` (as group_by made them) by `less`.
template <class Less>
void sort_each_group(std::vector<std::uint32_t>& order, const std::vector<std::uint32_t>& begin,
                     Less less) {
  for (std::size_t g = 0; g + 1 < begin.size(); ++g) {
    std::sort(order.begin() + begin[g], order.begin() + begin[g + 1], less);
  }
}

// The kind and count as the tree keys a pattern edge: `*{1}` is `*`, `**` has no count.
std::pair<std::uint32_t, std::uint32_t> pattern_key(const HashedComponent& c) {
  switch (c.kind) {
    case ComponentKind::kAnyN:
      return {c.count == 1 ? blob::kAnyOne : blob::kAnyN, c.count};
    case ComponentKind::kAnyDeep:
      return {blob::kAnyDeep, 0};
    case ComponentKind::kGlob:
      return {blob::kGlob, 1};
    default:
      return {blob::kAnyOne, 1};
  }
}

// Moves every used slot of `slots` into a table of `size` slots (a power of two), each at its
// home or the first free slot after it (linear probing): the one rehash of both tables.
template <class SlotType, class IsFree, class Home>
void rehash(std::vector<SlotType>& slots, std::size_t size, IsFree is_free, Home home) {
  std::vector<SlotType> old(size);
  old.swap(slots);
  const std::size_t mask = slots.size() - 1;
  for (const SlotType& s : old) {
    if (is_free(s)) continue;
    std::size_t j = home(s) & mask;
    while (!is_free(slots[j])) j = (j + 1) & mask;
    slots[j] = s;
  }
}

}  // namespace

MonitoredTree::MonitoredTree(StringPool& strings)
    : strings_(strings), slots_(1024), literal_slots_(1024) {}

std::uint64_t MonitoredTree::place_hash(std::uint64_t previous, const HashedComponent& c) {
  if (c.kind == ComponentKind::kLiteral) return mix(previous ^ kLiteralTag, c.hash);
  const auto [kind, count] = pattern_key(c);
  const std::uint64_t edge = kind == blob::kGlob ? c.hash : (std::uint64_t{kind} << 32) | count;
  return mix(previous ^ (kPatternTag | kind), edge);
}

void MonitoredTree::reserve(std::size_t nodes, std::size_t values) {
  std::size_t size = slots_.size();
  while (size < values * 2) size *= 2;
  if (size != slots_.size()) grow_slots(size);
  size = literal_slots_.size();
  while (size < nodes * 2) size *= 2;
  if (size != literal_slots_.size()) grow_literal_slots(size);
  literals_.reserve(nodes);
  values_.reserve(values);
  value_clients_.reserve(values);
}

void MonitoredTree::grow_slots(std::size_t size) {
  rehash(
      slots_, size, [](const Slot& s) { return s.index == kFree; },
      [](const Slot& s) { return mix(s.key_a, s.key_b); });
}

void MonitoredTree::grow_literal_slots(std::size_t size) {
  rehash(
      literal_slots_, size, [](const LiteralSlot& s) { return s.child == kFree; },
      [](const LiteralSlot& s) { return s.place_hash; });
}

void MonitoredTree::store(std::size_t i, const Slot& slot) {
  slots_[i] = slot;
  if (++used_slots_ * 2 > slots_.size()) grow_slots(slots_.size() * 2);
}

std::uint32_t MonitoredTree::find_or_add(std::uint64_t a, std::uint64_t b, std::uint32_t fresh,
                                         bool& added) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = mix(a, b) & mask;
  for (; slots_[i].index != kFree; i = (i + 1) & mask) {
    if (slots_[i].key_a == a && slots_[i].key_b == b) {
      added = false;
      return slots_[i].index;
    }
  }
  added = true;
  store(i, {a, b, fresh});
  return fresh;
}

// A literal edge is found at its child's place_hash and checked against its parent and name: a
// known edge costs the slot and the name, and interns nothing (its names are in the pool
// already, so the pool is the same as if they had been added again).
std::uint32_t MonitoredTree::child_literal(std::uint32_t parent, const HashedComponent& c) {
  const auto length = static_cast<std::uint32_t>(c.folded.size());
  const std::size_t mask = literal_slots_.size() - 1;
  std::size_t i = c.place_hash & mask;
  for (; literal_slots_[i].child != kFree; i = (i + 1) & mask) {
    const LiteralSlot& s = literal_slots_[i];
    if (s.place_hash == c.place_hash && s.parent == parent && s.length == length &&
        strings_.view({s.text, length}) == c.folded)
      return s.child;
  }
  const blob::StrRef folded = strings_.add(c.folded, c.hash);
  literal_slots_[i] = {c.place_hash, parent, node_count_, folded.offset, length};
  literals_.push_back({parent, node_count_, c.hash, folded, strings_.add(c.display)});
  if (++used_literal_slots_ * 2 > literal_slots_.size())
    grow_literal_slots(literal_slots_.size() * 2);
  return node_count_++;
}

std::uint32_t MonitoredTree::child_pattern(std::uint32_t parent, const HashedComponent& c) {
  const auto [kind, count] = pattern_key(c);
  const blob::StrRef glob =
      kind == blob::kGlob ? strings_.add(c.folded, c.hash) : blob::StrRef{0, 0};
  const std::uint64_t key_b =
      kind == blob::kGlob ? packed(glob) : (static_cast<std::uint64_t>(kind) << 32) | count;
  bool added = false;
  const auto child = find_or_add((kind == blob::kGlob ? kGlobTag : kPatternTag) | parent, key_b,
                                 node_count_, added);
  if (!added) return child;
  patterns_.push_back({parent, node_count_, kind, count, glob});
  return node_count_++;
}

std::uint32_t MonitoredTree::insert(const HashedComponent* components, std::size_t count) {
  std::uint32_t node = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const HashedComponent& c = components[k];
    node = c.kind == ComponentKind::kLiteral ? child_literal(node, c) : child_pattern(node, c);
  }
  return node;
}

void MonitoredTree::add_key_client(std::uint32_t node, blob::ClientRule rule) {
  key_clients_.emplace_back(node, rule);
}

void MonitoredTree::add_value_client(std::uint32_t node, const HashedValueName& name,
                                     blob::ClientRule rule) {
  const blob::StrRef folded = strings_.add(name.folded, name.folded_hash);
  bool added = false;
  const auto value = find_or_add((name.is_glob ? kValueGlobTag : kValueTag) | node, packed(folded),
                                 static_cast<std::uint32_t>(values_.size()), added);
  if (added) values_.push_back({node, folded, name.is_glob});
  value_clients_.emplace_back(value, rule);
}

MonitoredTree::Order MonitoredTree::order() const {
  const std::size_t n = node_count_;
  Order o;
  o.lits = group_by(
      literals_, n, [](const LiteralEdge& e) { return e.parent; }, o.lit_begin);
  sort_each_group(o.lits, o.lit_begin, [&](std::uint32_t a, std::uint32_t b) {
    const LiteralEdge& x = literals_[a];
    const LiteralEdge& y = literals_[b];
    if (x.hash != y.hash) return x.hash < y.hash;
    return strings_.view(x.folded) < strings_.view(y.folded);
  });
  o.pats = group_by(
      patterns_, n, [](const PatternEdge& e) { return e.parent; }, o.pat_begin);
  sort_each_group(o.pats, o.pat_begin, [&](std::uint32_t a, std::uint32_t b) {
    const PatternEdge& x = patterns_[a];
    const PatternEdge& y = patterns_[b];
    if (x.kind != y.kind) return x.kind < y.kind;
    if (x.count != y.count) return x.count < y.count;
    // Globs in order of literal prefix (blob::PatternEdge), then of the whole glob.
    const std::u16string_view gx = strings_.view(x.glob), gy = strings_.view(y.glob);
    const std::u16string_view px = gx.substr(0, glob_literal_prefix(gx));
    const std::u16string_view py = gy.substr(0, glob_literal_prefix(gy));
    if (px != py) return px < py;
    return gx < gy;
  });
  o.keys = group_by(
      key_clients_, n, [](const auto& kc) { return kc.first; }, o.key_begin);
  o.vals = group_by(
      values_, n, [](const Value& v) { return v.node; }, o.value_begin);
  o.vclients = group_by(
      value_clients_, values_.size(), [](const auto& vc) { return vc.first; },
      o.value_client_begin);
  return o;
}

void MonitoredTree::append_node(const Order& o, std::uint32_t node, FlatTree& flat,
                                FlatNode& out) const {
  out.literal_edges = {static_cast<std::uint32_t>(flat.literal_edges.size()),
                       o.lit_begin[node + 1] - o.lit_begin[node]};
  for (std::uint32_t i = o.lit_begin[node]; i < o.lit_begin[node + 1]; ++i) {
    const LiteralEdge& e = literals_[o.lits[i]];
    flat.literal_edges.push_back({e.hash, e.folded, e.display, e.child});  // child renumbered
  }
  out.pattern_edges = {static_cast<std::uint32_t>(flat.pattern_edges.size()),
                       o.pat_begin[node + 1] - o.pat_begin[node]};
  for (std::uint32_t i = o.pat_begin[node]; i < o.pat_begin[node + 1]; ++i) {
    const PatternEdge& p = patterns_[o.pats[i]];
    const auto prefix = p.kind == blob::kGlob
                            ? static_cast<std::uint32_t>(glob_literal_prefix(strings_.view(p.glob)))
                            : 0u;
    flat.pattern_edges.push_back({p.kind, p.count, p.glob, p.child, prefix});
  }
  out.key_clients = {static_cast<std::uint32_t>(flat.key_clients.size()),
                     o.key_begin[node + 1] - o.key_begin[node]};
  for (std::uint32_t i = o.key_begin[node]; i < o.key_begin[node + 1]; ++i)
    flat.key_clients.push_back(key_clients_[o.keys[i]].second);
  out.values = {static_cast<std::uint32_t>(flat.values.size()),
                o.value_begin[node + 1] - o.value_begin[node]};
  for (std::uint32_t i = o.value_begin[node]; i < o.value_begin[node + 1]; ++i) {
    const std::uint32_t v = o.vals[i];
    const Value& value = values_[v];
    blob::ValuePattern vp{};
    vp.folded = value.folded;
    vp.is_glob = value.is_glob ? 1 : 0;
    vp.hash = value.is_glob ? 0 : component_hash(strings_.view(value.folded));
    vp.clients = {static_cast<std::uint32_t>(flat.value_clients.size()),
                  o.value_client_begin[v + 1] - o.value_client_begin[v]};
    for (std::uint32_t c = o.value_client_begin[v]; c < o.value_client_begin[v + 1]; ++c) {
      flat.value_clients.push_back(value_clients_[o.vclients[c]].second);
    }
    flat.values.push_back(vp);
  }
}

namespace {

// Children come after their parents, so one backward pass sees every child first.
void fill_subtree_rules(FlatTree& flat) {
  const std::size_t n = flat.nodes.size();
  flat.subtree_rules.assign(n, 0);
  for (std::size_t i = n; i-- > 0;) {
    const FlatNode& node = flat.nodes[i];
    std::uint32_t r = 0;
    for (std::uint32_t k = 0; k < node.key_clients.count; ++k)
      r |= flat.key_clients[node.key_clients.first + k].rules;
    for (std::uint32_t v = 0; v < node.values.count; ++v) {
      const blob::ValuePattern& vp = flat.values[node.values.first + v];
      for (std::uint32_t k = 0; k < vp.clients.count; ++k)
        r |= flat.value_clients[vp.clients.first + k].rules;
    }
    for (std::uint32_t e = 0; e < node.literal_edges.count; ++e)
      r |= flat.subtree_rules[flat.literal_edges[node.literal_edges.first + e].child];
    for (std::uint32_t e = 0; e < node.pattern_edges.count; ++e)
      r |= flat.subtree_rules[flat.pattern_edges[node.pattern_edges.first + e].child];
    flat.subtree_rules[i] = r;
  }
}

}  // namespace

FlatTree MonitoredTree::flatten() const {
  const std::size_t n = node_count_;
  const Order o = order();
  FlatTree flat;
  flat.nodes.resize(n);
  flat.literal_edges.reserve(literals_.size());
  flat.pattern_edges.reserve(o.pats.size());
  flat.key_clients.reserve(key_clients_.size());
  flat.values.reserve(values_.size());
  flat.value_clients.reserve(value_clients_.size());
  std::vector<std::uint32_t> position(n, 0);  // tree node -> index in the blob (pre-order)
  std::uint32_t next_index = 0;
  std::vector<std::uint32_t> stack{0};
  while (!stack.empty()) {
    const std::uint32_t node = stack.back();
    stack.pop_back();
    const std::uint32_t index = next_index++;
    position[node] = index;
    append_node(o, node, flat, flat.nodes[index]);
    // Children in reverse, so the first literal child is visited next and each subtree is whole.
    for (std::uint32_t i = o.pat_begin[node + 1]; i-- > o.pat_begin[node];)
      stack.push_back(patterns_[o.pats[i]].child);
    for (std::uint32_t i = o.lit_begin[node + 1]; i-- > o.lit_begin[node];)
      stack.push_back(literals_[o.lits[i]].child);
  }
  for (auto& e : flat.literal_edges) e.child = position[e.child];
  for (auto& e : flat.pattern_edges) e.child = position[e.child];
  fill_subtree_rules(flat);
  return flat;
}

}  // namespace hivewarden::policy
