// Format 5's hot layout (policy_format.hpp): CSR node runs closed by a sentinel, attachments only
// on nodes with clients, 16-byte literal edges, and open-addressing tables for wide nodes. Each
// invariant the validator keeps is broken here on purpose and must be refused with its reason
// (format 6 adds the order of pattern edges: by kind, globs by literal prefix);
// lookups through a wide node's table must find exactly the children a scan would.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "../support/test_policy.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/policy_format.hpp"

namespace hivewarden {
namespace {

using Bytes = std::vector<unsigned char>;

blob::Header header_of(const Bytes& bytes) {
  blob::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  return h;
}

std::uint64_t record_at(const Bytes& bytes, blob::Section s, std::uint64_t i, std::size_t size) {
  return header_of(bytes).sections[s].offset + i * size;
}

template <class T>
T get(const Bytes& bytes, blob::Section s, std::uint64_t i) {
  T out;
  std::memcpy(&out, bytes.data() + record_at(bytes, s, i, sizeof(T)), sizeof out);
  return out;
}

template <class T>
void put(Bytes& bytes, blob::Section s, std::uint64_t i, const T& v) {
  std::memcpy(bytes.data() + record_at(bytes, s, i, sizeof(T)), &v, sizeof v);
}

void set_header(Bytes& bytes, const blob::Header& h) {
  std::memcpy(bytes.data(), &h, sizeof h);
}

// Reseals the checksum and returns the validator's reason ("" when accepted).
std::string refusal(Bytes bytes) {
  blob::Header h = header_of(bytes);
  h.checksum = checksum32(bytes.data() + sizeof h, bytes.size() - sizeof h);
  set_header(bytes, h);
  PolicyError error;
  return test::load_blob(bytes, &error) ? std::string() : std::string(error.what);
}

std::uint32_t home_of(std::u16string_view folded, std::uint32_t edges) {
  return static_cast<std::uint32_t>(component_hash(folded)) &
         static_cast<std::uint32_t>(blob::edge_table_homes(edges) - 1);
}

// Digit names (folding leaves them alone): 40 children of one key, the first two sharing a home
// slot of the 40-edge table so that the table has a cluster of one home.
struct WidePolicy {
  std::vector<std::u16string> names;
  std::string yaml;
};

std::u16string four_digits(std::uint32_t n) {
  std::u16string out;
  for (std::uint32_t div = 1000; div > 0; div /= 10)
    out.push_back(static_cast<char16_t>(u'0' + n / div % 10));
  return out;
}

WidePolicy wide_policy() {
  constexpr std::uint32_t kChildren = 40;
  WidePolicy w;
  w.names.push_back(u"1000");
  for (std::uint32_t n = 1001; w.names.size() < 2; ++n) {
    if (home_of(four_digits(n), kChildren) == home_of(w.names[0], kChildren))
      w.names.push_back(four_digits(n));
  }
  for (std::uint32_t n = 2000; w.names.size() < kChildren; ++n) w.names.push_back(four_digits(n));
  w.yaml = "version: 1\nmonitored:\n";
  for (const std::u16string& name : w.names) {
    std::string ascii(name.begin(), name.end());
    w.yaml +=
        "  - key: 'HKLM\\SOFTWARE\\W\\" + ascii + "'\n    client: c\n    rules: [delete-key]\n";
  }
  return w;
}

Bytes wide_bytes() {
  return test::compile_yaml_blob(wide_policy().yaml, "wide.yaml");
}

// The node with a table, and its first edge.
std::uint32_t wide_node(const Bytes& bytes) {
  const blob::Header h = header_of(bytes);
  for (std::uint32_t n = 0; n + 1 < h.sections[blob::kNodes].count; ++n) {
    if (get<blob::Node>(bytes, blob::kNodes, n).edge_table != blob::kNoIndex) return n;
  }
  ADD_FAILURE() << "no wide node";
  return 0;
}

TEST(PolicyLayout, WideNodeHasATableAndSmallNodesNone) {
  const Bytes bytes = wide_bytes();
  ASSERT_EQ(refusal(bytes), "");
  const blob::Header h = header_of(bytes);
  std::uint32_t tables = 0;
  for (std::uint32_t n = 0; n + 1 < h.sections[blob::kNodes].count; ++n) {
    const blob::Node node = get<blob::Node>(bytes, blob::kNodes, n);
    const blob::Node after = get<blob::Node>(bytes, blob::kNodes, n + 1);
    const std::uint32_t edges = after.literal_first - node.literal_first;
    EXPECT_EQ(node.edge_table != blob::kNoIndex, edges >= blob::kEdgeTableMin) << n;
    tables += node.edge_table != blob::kNoIndex;
  }
  EXPECT_EQ(tables, 1u);
  EXPECT_EQ(h.sections[blob::kEdgeSlots].count, blob::edge_table_slots(40));
  // Only the 40 leaves have clients: the other nodes carry no attachment.
  EXPECT_EQ(h.sections[blob::kAttachments].count, 40u);
  static_assert(sizeof(blob::Node) == 16 && sizeof(blob::LiteralEdge) == 16);
}

// Every child is found through the table (the two of one home too), and near misses are not.
TEST(PolicyLayout, WideNodeLookupFindsExactlyItsChildren) {
  const WidePolicy w = wide_policy();
  auto policy = test::load_blob(test::compile_yaml_blob(w.yaml, "wide.yaml"));
  ASSERT_TRUE(policy);
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  const auto rules_for = [&](const std::u16string& name) {
    const std::u16string key = u"HKLM\\SOFTWARE\\W\\" + name;
    EXPECT_EQ(canonicalize_key(key, {1, {}}, *path), PathStatus::kOk);
    scratch->reset();
    return match_entries(policy->view, *path, path->count, rule::kAll, nullptr, *scratch);
  };
  const Rules expected = rules_for(w.names[0]);
  EXPECT_NE(expected, 0u);
  for (const std::u16string& name : w.names) EXPECT_EQ(rules_for(name), expected);
  EXPECT_EQ(rules_for(u"1001x"), 0u);
  EXPECT_EQ(rules_for(u"3999"), 0u);
  EXPECT_EQ(rules_for(u"100"), 0u);
}

TEST(PolicyLayout, OldFormatIsRefusedByVersion) {
  Bytes bytes = wide_bytes();
  blob::Header h = header_of(bytes);
  h.version = 4;
  set_header(bytes, h);
  EXPECT_EQ(refusal(bytes), "unsupported policy format version");
}

TEST(PolicyLayout, SentinelAndRunsAreChecked) {
  const Bytes good = wide_bytes();
  const blob::Header h = header_of(good);
  const std::uint64_t last = h.sections[blob::kNodes].count - 1;
  Bytes bytes = good;
  blob::Node sentinel = get<blob::Node>(bytes, blob::kNodes, last);
  sentinel.literal_first += 1;  // past the section: the last node's run would read beyond it
  put(bytes, blob::kNodes, last, sentinel);
  EXPECT_EQ(refusal(bytes), "bad sentinel node");

  bytes = good;
  sentinel = get<blob::Node>(bytes, blob::kNodes, last);
  sentinel.attachment = 0;
  put(bytes, blob::kNodes, last, sentinel);
  EXPECT_EQ(refusal(bytes), "bad sentinel node");

  bytes = good;
  blob::Node root = get<blob::Node>(bytes, blob::kNodes, 0);
  root.literal_first = 1;
  put(bytes, blob::kNodes, 0, root);
  EXPECT_EQ(refusal(bytes), "node runs do not start at the first edge");

  // Node 2's run starting before node 1's: node 1's run would have a negative length.
  bytes = good;
  blob::Node two = get<blob::Node>(bytes, blob::kNodes, 2);
  ASSERT_GT(two.literal_first, 0u);
  two.literal_first = 0;
  put(bytes, blob::kNodes, 2, two);
  EXPECT_EQ(refusal(bytes), "node edge runs not monotone");

  bytes = good;
  blob::Header cut = header_of(bytes);
  cut.sections[blob::kNodes].count = 1;  // the root only: no sentinel
  set_header(bytes, cut);
  EXPECT_EQ(refusal(bytes), "no root node or no sentinel node");
}

TEST(PolicyLayout, AttachmentsAreOwnedOnceInOrder) {
  const Bytes good = wide_bytes();
  const blob::Header h = header_of(good);
  std::uint32_t with = 0, without = 0;  // a node with an attachment, and one without
  for (std::uint32_t n = 0; n + 1 < h.sections[blob::kNodes].count; ++n) {
    (get<blob::Node>(good, blob::kNodes, n).attachment == blob::kNoIndex ? without : with) = n;
  }
  Bytes bytes = good;
  blob::Node node = get<blob::Node>(bytes, blob::kNodes, with);
  node.attachment = static_cast<std::uint32_t>(h.sections[blob::kAttachments].count);
  put(bytes, blob::kNodes, with, node);
  EXPECT_EQ(refusal(bytes), "node attachment out of order or bounds");

  bytes = good;
  node = get<blob::Node>(bytes, blob::kNodes, with);
  node.attachment = blob::kNoIndex;  // the last attachment left without its node
  put(bytes, blob::kNodes, with, node);
  EXPECT_EQ(refusal(bytes), "attachment not owned by a node");

  bytes = good;
  node = get<blob::Node>(bytes, blob::kNodes, without);
  node.attachment = 0;  // shares the first node's attachment
  put(bytes, blob::kNodes, without, node);
  EXPECT_EQ(refusal(bytes), "node attachment out of order or bounds");

  bytes = good;
  blob::Attachment a = get<blob::Attachment>(bytes, blob::kAttachments, 0);
  a.key_clients.count = 1000;
  put(bytes, blob::kAttachments, 0, a);
  EXPECT_EQ(refusal(bytes), "node range out of bounds");
}

TEST(PolicyLayout, EdgeNamesHashesAndDisplaysAreChecked) {
  const Bytes good = wide_bytes();
  const blob::Header h = header_of(good);
  Bytes bytes = good;
  blob::LiteralEdge e = get<blob::LiteralEdge>(bytes, blob::kLiteralEdges, 0);
  e.hash_high ^= 1;  // the second check must be the name's too
  put(bytes, blob::kLiteralEdges, 0, e);
  EXPECT_EQ(refusal(bytes), "literal edge hash does not match its name");

  bytes = good;
  e = get<blob::LiteralEdge>(bytes, blob::kLiteralEdges, 0);
  e.length = 0;
  put(bytes, blob::kLiteralEdges, 0, e);
  EXPECT_EQ(refusal(bytes), "bad literal edge name");

  bytes = good;
  put<std::uint32_t>(bytes, blob::kEdgeDisplays, 0,
                     static_cast<std::uint32_t>(h.sections[blob::kStrings].count));
  EXPECT_EQ(refusal(bytes), "bad literal edge name");

  bytes = good;
  blob::Header fewer = header_of(bytes);
  fewer.sections[blob::kEdgeDisplays].count -= 1;
  set_header(bytes, fewer);
  EXPECT_EQ(refusal(bytes), "edge display names do not cover every literal edge");
}

TEST(PolicyLayout, TablePresenceFollowsTheEdgeCount) {
  const Bytes good = wide_bytes();
  const std::uint32_t wide = wide_node(good);
  Bytes bytes = good;
  blob::Node node = get<blob::Node>(bytes, blob::kNodes, wide);
  node.edge_table = blob::kNoIndex;  // a 40-edge scan where a table was promised
  put(bytes, blob::kNodes, wide, node);
  EXPECT_EQ(refusal(bytes), "wide node without an edge table");

  bytes = good;
  node = get<blob::Node>(bytes, blob::kNodes, 0);
  node.edge_table = 0;
  put(bytes, blob::kNodes, 0, node);
  EXPECT_EQ(refusal(bytes), "small node with an edge table");

  bytes = good;
  node = get<blob::Node>(bytes, blob::kNodes, wide);
  node.edge_table = 1;  // the table would run one slot past the section
  put(bytes, blob::kNodes, wide, node);
  EXPECT_EQ(refusal(bytes), "edge table out of bounds");
}

// The slots of the wide node's table, and the home of the edge each full slot holds.
struct Table {
  std::uint32_t first_slot = 0, first_edge = 0, size = 0, mask = 0;
};

Table table_of(const Bytes& bytes) {
  const std::uint32_t n = wide_node(bytes);
  const blob::Node node = get<blob::Node>(bytes, blob::kNodes, n);
  const blob::Node after = get<blob::Node>(bytes, blob::kNodes, n + 1);
  const std::uint32_t edges = after.literal_first - node.literal_first;
  return {node.edge_table, node.literal_first,
          static_cast<std::uint32_t>(blob::edge_table_slots(edges)),
          static_cast<std::uint32_t>(blob::edge_table_homes(edges) - 1)};
}

std::uint32_t slot(const Bytes& b, const Table& t, std::uint32_t s) {
  return get<std::uint32_t>(b, blob::kEdgeSlots, t.first_slot + s);
}
void set_slot(Bytes& b, const Table& t, std::uint32_t s, std::uint32_t v) {
  put<std::uint32_t>(b, blob::kEdgeSlots, t.first_slot + s, v);
}
std::uint32_t home(const Bytes& b, const Table& t, std::uint32_t edge) {
  return get<blob::LiteralEdge>(b, blob::kLiteralEdges, edge).hash & t.mask;
}

TEST(PolicyLayout, EveryEdgeSitsWhereALookupFindsIt) {
  const Bytes good = wide_bytes();
  const Table t = table_of(good);
  // An edge alone at its home with a free slot on either side: moved one slot back it sits
  // before its home, one slot on it is cut off from its home by the free slot.
  std::uint32_t lone = 0;
  for (std::uint32_t s = 1; s + 1 < t.size; ++s) {
    const std::uint32_t e = slot(good, t, s);
    if (e != blob::kNoIndex && slot(good, t, s - 1) == blob::kNoIndex &&
        slot(good, t, s + 1) == blob::kNoIndex && home(good, t, e) == s) {
      lone = s;
      break;
    }
  }
  ASSERT_NE(lone, 0u);
  Bytes bytes = good;
  set_slot(bytes, t, lone - 1, slot(good, t, lone));
  set_slot(bytes, t, lone, blob::kNoIndex);
  EXPECT_EQ(refusal(bytes), "edge table: edge before its home slot");

  bytes = good;
  set_slot(bytes, t, lone + 1, slot(good, t, lone));
  set_slot(bytes, t, lone, blob::kNoIndex);
  EXPECT_EQ(refusal(bytes), "edge table: edge not reachable from its home slot");

  bytes = good;
  set_slot(bytes, t, lone, blob::kNoIndex);  // an edge no lookup finds: the next is out of turn
  EXPECT_EQ(refusal(bytes), "edge table slot does not hold its node's next edge");

  bytes = good;  // the node's last edge in no slot
  for (std::uint32_t s = 0; s < t.size; ++s) {
    if (slot(good, t, s) == t.first_edge + 39) set_slot(bytes, t, s, blob::kNoIndex);
  }
  EXPECT_EQ(refusal(bytes), "edge table does not hold every edge of its node");

  bytes = good;
  const std::uint32_t other = slot(good, t, lone) == t.first_edge ? t.first_edge + 1 : t.first_edge;
  set_slot(bytes, t, lone, other);  // another edge of the node, out of run order
  EXPECT_EQ(refusal(bytes), "edge table slot does not hold its node's next edge");

  bytes = good;
  set_slot(bytes, t, lone + 1, slot(good, t, lone));  // one edge in two slots
  EXPECT_EQ(refusal(bytes), "edge table slot does not hold its node's next edge");
}

// The two names of one home sit in adjacent slots in edge order; swapped (both the edges and so
// their order) or made the same name, the table is refused.
TEST(PolicyLayout, EdgesOfOneHomeAreOrderedAndDistinct) {
  const Bytes good = wide_bytes();
  const Table t = table_of(good);
  std::uint32_t pair = 0;
  for (std::uint32_t s = 0; s + 1 < t.size; ++s) {
    const std::uint32_t a = slot(good, t, s), b = slot(good, t, s + 1);
    if (a != blob::kNoIndex && b != blob::kNoIndex && home(good, t, a) == home(good, t, b)) {
      pair = a;
      break;
    }
  }
  ASSERT_NE(pair, 0u) << "the policy's two names of one home are not adjacent";
  const auto first = get<blob::LiteralEdge>(good, blob::kLiteralEdges, pair);
  const auto second = get<blob::LiteralEdge>(good, blob::kLiteralEdges, pair + 1);
  const auto first_display = get<std::uint32_t>(good, blob::kEdgeDisplays, pair);
  const auto second_display = get<std::uint32_t>(good, blob::kEdgeDisplays, pair + 1);
  Bytes bytes = good;
  put(bytes, blob::kLiteralEdges, pair, second);
  put(bytes, blob::kLiteralEdges, pair + 1, first);
  put(bytes, blob::kEdgeDisplays, pair, second_display);
  put(bytes, blob::kEdgeDisplays, pair + 1, first_display);
  EXPECT_EQ(refusal(bytes), "edge table: edges not in order of home or duplicated");

  bytes = good;
  blob::LiteralEdge twin = first;
  twin.child = second.child;
  put(bytes, blob::kLiteralEdges, pair + 1, twin);
  EXPECT_EQ(refusal(bytes), "edge table: edges not in order of home or duplicated");
}

// Small nodes are scanned and the scan stops at a greater hash: their runs must be sorted.
TEST(PolicyLayout, SmallNodeRunsAreSorted) {
  const Bytes good = test::compile_yaml_blob(
      "version: 1\nmonitored:\n  - {key: 'HKLM\\SOFTWARE\\A', client: c, rules: [delete-key]}\n"
      "  - {key: 'HKLM\\SOFTWARE\\B', client: c, rules: [delete-key]}\n",
      "small.yaml");
  const blob::Header h = header_of(good);
  for (std::uint32_t n = 0; n + 1 < h.sections[blob::kNodes].count; ++n) {
    const blob::Node node = get<blob::Node>(good, blob::kNodes, n);
    if (get<blob::Node>(good, blob::kNodes, n + 1).literal_first - node.literal_first != 2)
      continue;
    const std::uint32_t e = node.literal_first;
    Bytes bytes = good;
    put(bytes, blob::kLiteralEdges, e, get<blob::LiteralEdge>(good, blob::kLiteralEdges, e + 1));
    put(bytes, blob::kLiteralEdges, e + 1, get<blob::LiteralEdge>(good, blob::kLiteralEdges, e));
    put(bytes, blob::kEdgeDisplays, e, get<std::uint32_t>(good, blob::kEdgeDisplays, e + 1));
    put(bytes, blob::kEdgeDisplays, e + 1, get<std::uint32_t>(good, blob::kEdgeDisplays, e));
    EXPECT_EQ(refusal(bytes), "literal edges not sorted or duplicated");
    return;
  }
  FAIL() << "no node with two literal edges";
}

// Format 6: a node's pattern edges in order of kind, its globs in order of literal prefix with the
// prefix length stored; the matcher's search relies on both, so a blob that breaks either (or
// stores a wrong prefix) is refused rather than matched incompletely.
TEST(PolicyLayout, PatternEdgesAreInOrderOfKindAndGlobPrefix) {
  const Bytes good = test::compile_yaml_blob(
      "version: 1\nmonitored:\n"
      "  - {key: 'HKLM\\SOFTWARE\\G\\b?', client: c, rules: [delete-key]}\n"
      "  - {key: 'HKLM\\SOFTWARE\\G\\ab*x', client: c, rules: [delete-key]}\n"
      "  - {key: 'HKLM\\SOFTWARE\\G\\**', client: c, rules: [delete-key]}\n",
      "globs.yaml");
  ASSERT_EQ(refusal(good), "");
  const blob::Header h = header_of(good);
  std::uint32_t first = blob::kNoIndex;
  for (std::uint32_t n = 0; n + 1 < h.sections[blob::kNodes].count; ++n) {
    const blob::Node node = get<blob::Node>(good, blob::kNodes, n);
    if (get<blob::Node>(good, blob::kNodes, n + 1).pattern_first - node.pattern_first == 3)
      first = node.pattern_first;
  }
  ASSERT_NE(first, blob::kNoIndex);
  const auto edge = [&](std::uint32_t i) {
    return get<blob::PatternEdge>(good, blob::kPatternEdges, first + i);
  };
  // As compiled: `**`, then `ab*x` (prefix "ab") before `b?` (prefix "b").
  ASSERT_EQ(edge(0).kind, blob::kAnyDeep);
  ASSERT_EQ(edge(1).kind, blob::kGlob);
  EXPECT_EQ(edge(1).prefix, 2u);
  EXPECT_EQ(edge(2).prefix, 1u);
  const auto swapped = [&](std::uint32_t a, std::uint32_t b) {
    Bytes bytes = good;
    put(bytes, blob::kPatternEdges, first + a, edge(b));
    put(bytes, blob::kPatternEdges, first + b, edge(a));
    return refusal(bytes);
  };
  EXPECT_EQ(swapped(1, 2), "pattern edges not in order of kind and glob prefix");
  EXPECT_EQ(swapped(0, 1), "pattern edges not in order of kind and glob prefix");
  Bytes bytes = good;
  blob::PatternEdge wrong = edge(1);
  wrong.prefix = 1;
  put(bytes, blob::kPatternEdges, first + 1, wrong);
  EXPECT_EQ(refusal(bytes), "bad glob edge");
  bytes = good;
  blob::PatternEdge deep = edge(0);
  deep.prefix = 1;
  put(bytes, blob::kPatternEdges, first, deep);
  EXPECT_EQ(refusal(bytes), "prefix of a pattern edge that is no glob");
}

}  // namespace
}  // namespace hivewarden
