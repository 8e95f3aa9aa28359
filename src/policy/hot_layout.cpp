#include "hot_layout.hpp"

#include <algorithm>
#include <tuple>

namespace hivewarden::policy {
namespace {

using blob::kNoIndex;

std::uint32_t low_hash(const FlatLiteralEdge& e) {
  return static_cast<std::uint32_t>(e.hash);
}
std::uint16_t high_hash(const FlatLiteralEdge& e) {
  return static_cast<std::uint16_t>(e.hash >> 32);
}

class Packer {
 public:
  Packer(const FlatTree& flat, const StringPool& strings, HotTree& out)
      : flat_(flat), strings_(strings), out_(out) {}

  void node(std::uint32_t n) {
    const FlatNode& f = flat_.nodes[n];
    blob::Node node{static_cast<std::uint32_t>(out_.literal_edges.size()), f.pattern_edges.first,
                    kNoIndex, kNoIndex};
    if (f.key_clients.count > 0 || f.values.count > 0) {
      node.attachment = static_cast<std::uint32_t>(out_.attachments.size());
      out_.attachments.push_back({f.key_clients, f.values});
    }
    order_.resize(f.literal_edges.count);
    for (std::uint32_t i = 0; i < f.literal_edges.count; ++i) order_[i] = f.literal_edges.first + i;
    const bool wide = f.literal_edges.count >= blob::kEdgeTableMin;
    const std::uint32_t mask =
        wide ? static_cast<std::uint32_t>(blob::edge_table_homes(f.literal_edges.count) - 1) : 0;
    // Small nodes: by (hash, hash_high, name), so a scan stops at a greater hash. Wide nodes: by
    // home slot first, the order of the table.
    std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
      const FlatLiteralEdge& x = flat_.literal_edges[a];
      const FlatLiteralEdge& y = flat_.literal_edges[b];
      return std::make_tuple(low_hash(x) & mask, low_hash(x), high_hash(x),
                             strings_.view(x.folded)) < std::make_tuple(low_hash(y) & mask,
                                                                        low_hash(y), high_hash(y),
                                                                        strings_.view(y.folded));
    });
    for (const std::uint32_t i : order_) append_edge(flat_.literal_edges[i]);
    if (wide) node.edge_table = add_table(node.literal_first, mask);
    out_.nodes.push_back(node);
  }

 private:
  void append_edge(const FlatLiteralEdge& e) {
    out_.literal_edges.push_back({low_hash(e), e.child, e.folded.offset,
                                  static_cast<std::uint16_t>(e.folded.length), high_hash(e)});
    out_.edge_displays.push_back(e.display.offset);
  }

  // The node's edges (just appended, in order of home) each at its home slot or just after the
  // edge before it: linear probing without wrap-around, in edge_table_slots slots.
  std::uint32_t add_table(std::uint32_t first, std::uint32_t mask) {
    const auto count = static_cast<std::uint32_t>(out_.literal_edges.size()) - first;
    const auto table = static_cast<std::uint32_t>(out_.edge_slots.size());
    out_.edge_slots.resize(table + blob::edge_table_slots(count), kNoIndex);
    std::uint32_t next_free = 0;
    for (std::uint32_t e = first; e < first + count; ++e) {
      const std::uint32_t slot = std::max(out_.literal_edges[e].hash & mask, next_free);
      out_.edge_slots[table + slot] = e;
      next_free = slot + 1;
    }
    return table;
  }

  const FlatTree& flat_;
  const StringPool& strings_;
  HotTree& out_;
  std::vector<std::uint32_t> order_;  // reused from node to node
};

}  // namespace

HotTree hot_layout(const FlatTree& flat, const StringPool& strings) {
  HotTree out;
  out.nodes.reserve(flat.nodes.size() + 1);
  out.literal_edges.reserve(flat.literal_edges.size());
  out.edge_displays.reserve(flat.literal_edges.size());
  Packer packer(flat, strings, out);
  for (std::uint32_t n = 0; n < flat.nodes.size(); ++n) packer.node(n);
  out.nodes.push_back({static_cast<std::uint32_t>(flat.literal_edges.size()),
                       static_cast<std::uint32_t>(flat.pattern_edges.size()), kNoIndex, kNoIndex});
  return out;
}

}  // namespace hivewarden::policy
