// The last step of compiling the tree: the flattened tree packed into the blob's hot records
// (16-byte nodes and literal edges, tables for wide nodes, client data only where there is some).
#pragma once

#include <cstdint>
#include <vector>

#include "hivewarden/core/policy_format.hpp"
#include "monitored_tree.hpp"
#include "string_pool.hpp"

namespace hivewarden::policy {

// The tree's sections of format 5. Node indices and pattern edges stay as flattened; each
// node's literal edges are reordered for its lookup (policy_format.hpp).
struct HotTree {
  std::vector<blob::Node> nodes;  // one per node, then the sentinel
  std::vector<blob::LiteralEdge> literal_edges;
  std::vector<std::uint32_t> edge_displays;  // per literal edge: its display name's offset
  std::vector<std::uint32_t> edge_slots;     // the wide nodes' tables, one after another
  std::vector<blob::Attachment> attachments;
};

HotTree hot_layout(const FlatTree& flat, const StringPool& strings);

}  // namespace hivewarden::policy
