// validate_policy: the only gate between a blob from user mode and the matcher.
#include <cstring>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/condition.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/policy_view.hpp"

namespace hivewarden {
namespace {

using namespace blob;

constexpr std::uint32_t kRecordSize[kSectionCount] = {
    sizeof(char16_t),   sizeof(Node),          sizeof(LiteralEdge),   sizeof(PatternEdge),
    sizeof(ClientRule), sizeof(ValuePattern),  sizeof(ClientRule),    sizeof(Client),
    sizeof(Entry),      sizeof(Range),         sizeof(StrRef),        sizeof(ProcessRule),
    sizeof(Rules),      sizeof(Range),         sizeof(ConditionTest), sizeof(ConditionOperand),
    sizeof(Attachment), sizeof(std::uint32_t), sizeof(std::uint32_t),
};

class Checker {
 public:
  Checker(const unsigned char* base, std::uint64_t size, PolicyError& error)
      : base_(base), size_(size), error_(error) {}

  bool fail(const char* what, std::uint64_t offset) {
    error_.what = what;
    error_.offset = offset;
    return false;
  }
  std::uint64_t offset_of(const void* p) const {
    return static_cast<std::uint64_t>(static_cast<const unsigned char*>(p) - base_);
  }

  bool header(const Header*& out) {
    if (size_ < sizeof(Header)) return fail("blob shorter than its header", 0);
    const auto* h = reinterpret_cast<const Header*>(base_);
    if (std::memcmp(h->magic, kMagic, sizeof(kMagic)) != 0)
      return fail("bad magic: not a hivewarden policy", 0);
    if (h->version != kPolicyFormatVersion)
      return fail("unsupported policy format version", offsetof(Header, version));
    if (h->header_size != sizeof(Header))
      return fail("bad header size", offsetof(Header, header_size));
    if (h->total_size != size_)
      return fail("total size does not match the blob's length (truncated or padded)",
                  offsetof(Header, total_size));
    if (h->checksum != checksum32(base_ + sizeof(Header), size_ - sizeof(Header)))
      return fail("checksum mismatch: the blob is corrupt", offsetof(Header, checksum));
    if ((h->flags & ~kFlagLegacyHardening) != 0)
      return fail("unknown header flags", offsetof(Header, flags));
    if (h->control_set < 1 || h->control_set > 999)
      return fail("control set out of range 1..999", offsetof(Header, control_set));
    if (h->max_depth > kMaxPathDepth + 1)
      return fail("max depth over the registry's limit", offsetof(Header, max_depth));
    for (std::uint32_t s = 0; s < kSectionCount; ++s) {
      const SectionRef& ref = h->sections[s];
      const std::uint64_t at = offsetof(Header, sections) + s * sizeof(SectionRef);
      if (ref.offset % 8 != 0) return fail("section not 8-byte aligned", at);
      if (ref.offset < sizeof(Header) || ref.offset > size_)
        return fail("section outside the blob", at);
      if (ref.count > 0xFFFFFFFFull) return fail("section count too large", at);
      if (ref.count > (size_ - ref.offset) / kRecordSize[s])
        return fail("section runs past the end of the blob", at);
    }
    out = h;
    return true;
  }

  template <class T>
  const T* section(const Header& h, Section s, std::uint32_t& count) const {
    count = static_cast<std::uint32_t>(h.sections[s].count);
    return reinterpret_cast<const T*>(base_ + h.sections[s].offset);
  }

 private:
  const unsigned char* base_;
  std::uint64_t size_;
  PolicyError& error_;
};

bool range_ok(Range r, std::uint32_t count) {
  return r.first <= count && r.count <= count - r.first;
}

// The sections of a blob whose header has been checked (each lies inside the blob), and the
// checks on what they hold. Each check stops at the first fault and names it.
class Sections {
 public:
  Sections(Checker& check, const Header& h) : check_(check), h_(h) {
    strings = check.section<char16_t>(h, kStrings, n_strings);
    nodes = check.section<Node>(h, kNodes, n_node_records);
    n_nodes = n_node_records > 0 ? n_node_records - 1 : 0;  // the last record is the sentinel
    lit = check.section<LiteralEdge>(h, kLiteralEdges, n_lit);
    pat = check.section<PatternEdge>(h, kPatternEdges, n_pat);
    kc = check.section<ClientRule>(h, kKeyClients, n_kc);
    val = check.section<ValuePattern>(h, kValues, n_val);
    vc = check.section<ClientRule>(h, kValueClients, n_vc);
    cli = check.section<Client>(h, kClients, n_cli);
    ent = check.section<Entry>(h, kEntries, n_ent);
    hk = check.section<Range>(h, kHardenedKeys, n_hk);
    hp = check.section<StrRef>(h, kHardenedParts, n_hp);
    proc = check.section<ProcessRule>(h, kProcesses, n_proc);
    subtree = check.section<Rules>(h, kSubtreeRules, n_subtree);
    groups = check.section<Range>(h, kConditionGroups, n_groups);
    tests = check.section<ConditionTest>(h, kConditionTests, n_tests);
    operands = check.section<ConditionOperand>(h, kConditionOperands, n_operands);
    att = check.section<Attachment>(h, kAttachments, n_att);
    slots = check.section<std::uint32_t>(h, kEdgeSlots, n_slots);
    displays = check.section<std::uint32_t>(h, kEdgeDisplays, n_displays);
  }

  // Conditions (SPEC §10): every group, test and operand in bounds and of a known kind, within
  // the per-entry limits, so that evaluation reads nothing outside the blob. Its time is bounded
  // by kMaxConditionWork at evaluation, whatever the sizes here.
  bool conditions_ok() {
    for (std::uint32_t g = 0; g < n_groups; ++g) {
      if (!range_ok(groups[g], n_tests) || groups[g].count == 0 ||
          groups[g].count > kMaxConditionTests)
        return check_.fail("bad condition group", check_.offset_of(&groups[g]));
    }
    // Each test's operands follow the previous test's (as the compiler writes them), so every
    // operand is checked once: linear in the blob's size.
    std::uint32_t next_operand = 0;
    for (std::uint32_t t = 0; t < n_tests; ++t) {
      if (!test_ok(tests[t]) || tests[t].operands.first != next_operand)
        return check_.fail("bad condition test", check_.offset_of(&tests[t]));
      next_operand += tests[t].operands.count;
    }
    return true;
  }

  // The walk only ever moves to a child with a higher index, so every walk ends; the matcher
  // merges alternatives that reach the same node, so even a hand-made graph costs no more.
  // Each node's runs end where the next node's begin: monotone runs closed by the sentinel lie
  // inside their sections and own every edge once.
  bool nodes_ok() {
    if (n_node_records < 2)
      return check_.fail("no root node or no sentinel node", h_.sections[kNodes].offset);
    const Node& sentinel = nodes[n_nodes];
    if (sentinel.literal_first != n_lit || sentinel.pattern_first != n_pat ||
        sentinel.edge_table != kNoIndex || sentinel.attachment != kNoIndex)
      return check_.fail("bad sentinel node", check_.offset_of(&sentinel));
    if (nodes[0].literal_first != 0 || nodes[0].pattern_first != 0)
      return check_.fail("node runs do not start at the first edge", check_.offset_of(nodes));
    if (n_displays != n_lit)
      return check_.fail("edge display names do not cover every literal edge",
                         h_.sections[kEdgeDisplays].offset);
    std::uint32_t next_attachment = 0;
    for (std::uint32_t n = 0; n < n_nodes; ++n) {
      const Node& node = nodes[n];
      if (nodes[n + 1].literal_first < node.literal_first ||
          nodes[n + 1].pattern_first < node.pattern_first)
        return check_.fail("node edge runs not monotone", check_.offset_of(&node));
      if (!attachment_ok(node, next_attachment)) return false;
      if (!literal_edges_ok(n) || !pattern_edges_ok(n)) return false;
    }
    if (next_attachment != n_att)
      return check_.fail("attachment not owned by a node", h_.sections[kAttachments].offset);
    return true;
  }

  // Subtree rules: each node's must be its own rules and its children's subtree rules. Children
  // come after parents, so checking every node's equation checks them all.
  bool subtree_rules_ok() {
    if (n_subtree != n_nodes)
      return check_.fail("subtree rules do not cover every node",
                         h_.sections[kSubtreeRules].offset);
    for (std::uint32_t n = 0; n < n_nodes; ++n) {
      if (subtree[n] != expected_subtree_rules(n)) {
        return check_.fail("subtree rules do not match the tree", check_.offset_of(&subtree[n]));
      }
    }
    // The compiler writes a tree: one edge into every node but the root.
    std::uint64_t edge_total = static_cast<std::uint64_t>(n_lit) + n_pat;
    if (edge_total != n_nodes - 1ull)
      return check_.fail("edge count does not make a tree", h_.sections[kNodes].offset);
    return true;
  }

  // The tables the tree points into: clients, entries, hardened keys and their parts, processes.
  bool tables_ok() {
    for (std::uint32_t c = 0; c < n_cli; ++c) {
      if (!str_ok(cli[c].name)) return check_.fail("bad client name", check_.offset_of(&cli[c]));
    }
    for (std::uint32_t e = 0; e < n_ent; ++e) {
      if (!str_ok(ent[e].key) || !str_ok(ent[e].value) || ent[e].has_value > 1 ||
          !group_range_ok(ent[e].when) || !group_range_ok(ent[e].unless)) {
        return check_.fail("bad entry", check_.offset_of(&ent[e]));
      }
    }
    for (std::uint32_t k = 0; k < n_hk; ++k) {
      if (!range_ok(hk[k], n_hp) || hk[k].count == 0 || hk[k].count > kMaxPathDepth + 1) {
        return check_.fail("bad hardened key", check_.offset_of(&hk[k]));
      }
    }
    for (std::uint32_t p = 0; p < n_hp; ++p) {
      if (!name_ok(hp[p], kMaxComponentUnits) ||
          str(hp[p]).find(u'\\') != std::u16string_view::npos) {
        return check_.fail("bad hardened key component", check_.offset_of(&hp[p]));
      }
    }
    for (std::uint32_t p = 0; p < n_proc; ++p) {
      const ProcessRule& rule = proc[p];
      if (!str_ok(rule.image) || !str_ok(rule.display) || !is_ascii_folded(str(rule.image)) ||
          (rule.flags & ~process_flag::kAll) != 0 || (rule.rules & ~process_rule::kAll) != 0) {
        return check_.fail("bad process rule", check_.offset_of(&rule));
      }
    }
    return true;
  }

  const char16_t* strings;
  const Node* nodes;
  const LiteralEdge* lit;
  const PatternEdge* pat;
  const ClientRule* kc;
  const ValuePattern* val;
  const ClientRule* vc;
  const Client* cli;
  const Entry* ent;
  const Range* hk;
  const StrRef* hp;
  const ProcessRule* proc;
  const Rules* subtree;
  const Range* groups;
  const ConditionTest* tests;
  const ConditionOperand* operands;
  const Attachment* att;
  const std::uint32_t* slots;
  const std::uint32_t* displays;
  std::uint32_t n_strings, n_node_records, n_nodes, n_lit, n_pat, n_kc, n_val, n_vc, n_cli, n_ent,
      n_hk, n_hp, n_proc, n_subtree, n_groups, n_tests, n_operands, n_att, n_slots, n_displays;
  Rules rule_union = 0;  // of every client rule seen: recomputed, a stored one could hide rules

 private:
  bool str_ok(StrRef r) const { return r.offset <= n_strings && r.length <= n_strings - r.offset; }
  std::u16string_view str(StrRef r) const {
    return std::u16string_view(strings + r.offset, r.length);
  }
  bool name_ok(StrRef r, std::uint32_t max_units) const {
    return str_ok(r) && r.length > 0 && r.length <= max_units && is_folded(str(r));
  }

  bool group_range_ok(Range r) const {
    return range_ok(r, n_groups) && r.count <= kMaxConditionGroups;
  }

  bool test_ok(const ConditionTest& test) const {
    if (test.field < kFieldImage || test.field > kFieldLast || test.match < kMatchEqual ||
        test.match > kMatchLast || (test.flags & ~kTestFlags) != 0 || test.reserved != 0)
      return false;
    if (!range_ok(test.operands, n_operands) || test.operands.count == 0 ||
        test.operands.count > kMaxConditionOperands)
      return false;
    for (const ConditionOperand& o :
         Span<ConditionOperand>{operands + test.operands.first, test.operands.count}) {
      if (!str_ok(o.text) || o.text.length > kMaxConditionOperandUnits) return false;
    }
    return true;
  }

  bool client_rules_ok(const ClientRule* rules, Range r, const char* what) {
    for (std::uint32_t i = r.first; i < r.first + r.count; ++i) {
      if (rules[i].client >= n_cli || rules[i].entry >= n_ent)
        return check_.fail(what, check_.offset_of(&rules[i]));
      if ((rules[i].rules & ~rule::kAll) != 0)
        return check_.fail("unknown rule bits", check_.offset_of(&rules[i]));
      rule_union |= rules[i].rules;
    }
    return true;
  }

  // Attachments are used in node order, each by one node, so their rules are checked once.
  bool attachment_ok(const Node& node, std::uint32_t& next) {
    if (node.attachment == kNoIndex) return true;
    if (node.attachment != next || next >= n_att)
      return check_.fail("node attachment out of order or bounds", check_.offset_of(&node));
    const Attachment& a = att[next++];
    if (!range_ok(a.key_clients, n_kc) || !range_ok(a.values, n_val))
      return check_.fail("node range out of bounds", check_.offset_of(&a));
    return client_rules_ok(kc, a.key_clients, "key client index out of bounds") &&
           values_ok(a.values);
  }

  bool literal_edges_ok(std::uint32_t n) {
    const std::uint32_t first = nodes[n].literal_first;
    const std::uint32_t count = nodes[n + 1].literal_first - first;
    for (std::uint32_t e = first; e < first + count; ++e) {
      if (!literal_edge_ok(n, e)) return false;
    }
    const bool wide = count >= kEdgeTableMin;
    if (wide != (nodes[n].edge_table != kNoIndex))
      return check_.fail(wide ? "wide node without an edge table" : "small node with an edge table",
                         check_.offset_of(&nodes[n]));
    if (wide) return edge_table_ok(nodes[n], first, count);
    for (std::uint32_t e = first + 1; e < first + count; ++e) {
      if (!edge_before(lit[e - 1], lit[e]))
        return check_.fail("literal edges not sorted or duplicated", check_.offset_of(&lit[e]));
    }
    return true;
  }

  bool literal_edge_ok(std::uint32_t n, std::uint32_t e) {
    const LiteralEdge& edge = lit[e];
    const std::uint64_t eat = check_.offset_of(&edge);
    if (edge.child <= n || edge.child >= n_nodes)
      return check_.fail("edge child out of order or bounds", eat);
    const StrRef name{edge.folded, edge.length};
    if (!name_ok(name, kMaxComponentUnits) || !str_ok({displays[e], edge.length}))
      return check_.fail("bad literal edge name", eat);
    for (char16_t unit : str(name)) {
      if (unit == u'\\') return check_.fail("literal edge name contains a separator", eat);
    }
    const std::uint64_t hash = component_hash(str(name));
    if (edge.hash != static_cast<std::uint32_t>(hash) ||
        edge.hash_high != static_cast<std::uint16_t>(hash >> 32))
      return check_.fail("literal edge hash does not match its name", eat);
    return true;
  }

  // Strictly ascending (hash, hash_high, folded name): sorted, no name twice.
  bool edge_before(const LiteralEdge& a, const LiteralEdge& b) const {
    if (a.hash != b.hash) return a.hash < b.hash;
    if (a.hash_high != b.hash_high) return a.hash_high < b.hash_high;
    return str({a.folded, a.length}) < str({b.folded, b.length});
  }

  // A wide node's table (policy_format.hpp): in bounds; its full slots hold the node's edges in
  // run order, each at or after its home with no empty slot between (so a probe from the home
  // reaches it), in order of home and then strictly of edge_before (so a probe that meets a later
  // home may stop, and no name is there twice). One pass over the slots.
  bool edge_table_ok(const Node& node, std::uint32_t first, std::uint32_t count) {
    const std::uint64_t size = edge_table_slots(count);
    const std::uint32_t mask = static_cast<std::uint32_t>(edge_table_homes(count) - 1);
    if (node.edge_table > n_slots || size > n_slots - node.edge_table)
      return check_.fail("edge table out of bounds", check_.offset_of(&node));
    const std::uint32_t* table = slots + node.edge_table;
    std::uint32_t next = first;
    const LiteralEdge* prev = nullptr;  // the edge in the slot before, if full
    for (std::uint32_t s = 0; s < size; ++s) {
      const std::uint64_t sat = check_.offset_of(&table[s]);
      if (table[s] == kNoIndex) {
        prev = nullptr;
        continue;
      }
      if (table[s] != next || next == first + count)
        return check_.fail("edge table slot does not hold its node's next edge", sat);
      const LiteralEdge& edge = lit[next++];
      const std::uint32_t home = edge.hash & mask;
      if (home > s) return check_.fail("edge table: edge before its home slot", sat);
      if (home < s && prev == nullptr)
        return check_.fail("edge table: edge not reachable from its home slot", sat);
      if (prev != nullptr && ((prev->hash & mask) > home ||
                              ((prev->hash & mask) == home && !edge_before(*prev, edge))))
        return check_.fail("edge table: edges not in order of home or duplicated", sat);
      prev = &edge;
    }
    if (next != first + count)
      return check_.fail("edge table does not hold every edge of its node",
                         check_.offset_of(&node));
    return true;
  }

  bool pattern_edges_ok(std::uint32_t n) {
    const PatternEdge* prev = nullptr;
    for (std::uint32_t e = nodes[n].pattern_first; e < nodes[n + 1].pattern_first; ++e) {
      const PatternEdge& edge = pat[e];
      const std::uint64_t eat = check_.offset_of(&edge);
      if (edge.child <= n || edge.child >= n_nodes)
        return check_.fail("edge child out of order or bounds", eat);
      if (edge.kind != kGlob && edge.prefix != 0)
        return check_.fail("prefix of a pattern edge that is no glob", eat);
      switch (edge.kind) {
        case kAnyOne:
          if (edge.count != 1) return check_.fail("`*` edge count must be 1", eat);
          break;
        case kAnyN:
          if (edge.count < 1 || edge.count > kMaxPathDepth)
            return check_.fail("`*{N}` count out of range", eat);
          break;
        case kAnyDeep:
          if (edge.count != 0) return check_.fail("`**` edge count must be 0", eat);
          break;
        case kGlob:
          if (edge.count != 1 || !name_ok(edge.folded, kMaxComponentUnits) ||
              edge.prefix != glob_literal_prefix(str(edge.folded)))
            return check_.fail("bad glob edge", eat);
          break;
        default:
          return check_.fail("unknown pattern edge kind", eat);
      }
      // The matcher stops at the first glob and searches the globs by prefix: both orders hold.
      if (prev != nullptr && (prev->kind > edge.kind || !glob_before(*prev, edge)))
        return check_.fail("pattern edges not in order of kind and glob prefix", eat);
      prev = &edge;
    }
    return true;
  }

  // Two globs in order of literal prefix (both passed their own checks; other kinds: true).
  bool glob_before(const PatternEdge& prev, const PatternEdge& edge) const {
    if (prev.kind != kGlob || edge.kind != kGlob) return true;
    return str(prev.folded).substr(0, prev.prefix) <= str(edge.folded).substr(0, edge.prefix);
  }

  bool values_ok(Range values) {
    for (std::uint32_t v = values.first; v < values.first + values.count; ++v) {
      const ValuePattern& value = val[v];
      const std::uint64_t vat = check_.offset_of(&value);
      if (!str_ok(value.folded) || value.folded.length > kMaxValueNameUnits ||
          !is_folded(str(value.folded)) || value.is_glob > 1 || !range_ok(value.clients, n_vc)) {
        return check_.fail("bad value pattern", vat);
      }
      if (value.is_glob == 0 && value.hash != component_hash(str(value.folded))) {
        return check_.fail("value hash does not match its name", vat);
      }
      if (!client_rules_ok(vc, value.clients, "value client index out of bounds")) return false;
    }
    return true;
  }

  // A node's own key and value rules and its children's subtree rules (read only after every
  // node's runs, attachment and children passed nodes_ok).
  Rules expected_subtree_rules(std::uint32_t n) const {
    Rules expected = 0;
    if (nodes[n].attachment != kNoIndex) {
      const Attachment& a = att[nodes[n].attachment];
      for (std::uint32_t i = a.key_clients.first; i < a.key_clients.first + a.key_clients.count;
           ++i)
        expected |= kc[i].rules;
      for (std::uint32_t v = a.values.first; v < a.values.first + a.values.count; ++v) {
        for (std::uint32_t i = val[v].clients.first;
             i < val[v].clients.first + val[v].clients.count; ++i)
          expected |= vc[i].rules;
      }
    }
    for (std::uint32_t e = nodes[n].literal_first; e < nodes[n + 1].literal_first; ++e)
      expected |= subtree[lit[e].child];
    for (std::uint32_t e = nodes[n].pattern_first; e < nodes[n + 1].pattern_first; ++e)
      expected |= subtree[pat[e].child];
    return expected;
  }

  Checker& check_;
  const Header& h_;
};

}  // namespace

bool validate_policy(const void* data, std::uint64_t size, PolicyView& out, PolicyError& error) {
  if (data == nullptr) {
    error = {"no data", 0};
    return false;
  }
  if (reinterpret_cast<std::uintptr_t>(data) % 8 != 0) {
    error = {"blob not 8-byte aligned in memory", 0};
    return false;
  }
  Checker check(static_cast<const unsigned char*>(data), size, error);
  const Header* h = nullptr;
  if (!check.header(h)) return false;
  Sections s(check, *h);
  if (!s.nodes_ok() || !s.subtree_rules_ok() || !s.conditions_ok() || !s.tables_ok()) return false;

  out.header_ = h;
  out.strings_ = s.strings;
  out.nodes_ = {s.nodes, s.n_nodes};
  out.literal_edges_ = s.lit;
  out.edge_slots_ = s.slots;
  out.edge_displays_ = s.displays;
  out.attachments_ = s.att;
  out.pattern_edges_ = s.pat;
  out.key_clients_ = s.kc;
  out.values_ = s.val;
  out.value_clients_ = s.vc;
  out.clients_ = {s.cli, s.n_cli};
  out.entries_ = {s.ent, s.n_ent};
  out.hardened_keys_ = {s.hk, s.n_hk};
  out.hardened_parts_ = s.hp;
  out.processes_ = {s.proc, s.n_proc};
  out.subtree_rules_ = s.subtree;
  out.condition_groups_ = s.groups;
  out.condition_group_count_ = s.n_groups;
  out.condition_tests_ = s.tests;
  out.condition_operands_ = s.operands;
  out.rule_union_ = s.rule_union;  // recomputed: a stored union could hide rules from the gate
  return true;
}

}  // namespace hivewarden
