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
    sizeof(char16_t),   sizeof(Node),         sizeof(LiteralEdge),   sizeof(PatternEdge),
    sizeof(ClientRule), sizeof(ValuePattern), sizeof(ClientRule),    sizeof(Client),
    sizeof(Entry),      sizeof(Range),        sizeof(StrRef),        sizeof(ProcessRule),
    sizeof(Rules),      sizeof(Range),        sizeof(ConditionTest), sizeof(ConditionOperand),
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
    nodes = check.section<Node>(h, kNodes, n_nodes);
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
  bool nodes_ok() {
    if (n_nodes == 0) return check_.fail("no root node", h_.sections[kNodes].offset);
    for (std::uint32_t n = 0; n < n_nodes; ++n) {
      const Node& node = nodes[n];
      if (!range_ok(node.literal_edges, n_lit) || !range_ok(node.pattern_edges, n_pat) ||
          !range_ok(node.key_clients, n_kc) || !range_ok(node.values, n_val)) {
        return check_.fail("node range out of bounds", check_.offset_of(&node));
      }
      if (!literal_edges_ok(n, node) || !pattern_edges_ok(n, node)) return false;
      if (!client_rules_ok(kc, node.key_clients, "key client index out of bounds")) return false;
      if (!values_ok(node)) return false;
    }
    return true;
  }

  // Subtree rules: each node's must be its own rules and its children's subtree rules. Children
  // come after parents, so checking every node's equation checks them all.
  bool subtree_rules_ok() {
    if (n_subtree != n_nodes)
      return check_.fail("subtree rules do not cover every node",
                         h_.sections[kSubtreeRules].offset);
    for (std::uint32_t n = 0; n < n_nodes; ++n) {
      if (subtree[n] != expected_subtree_rules(nodes[n])) {
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
  std::uint32_t n_strings, n_nodes, n_lit, n_pat, n_kc, n_val, n_vc, n_cli, n_ent, n_hk, n_hp,
      n_proc, n_subtree, n_groups, n_tests, n_operands;
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

  bool literal_edges_ok(std::uint32_t n, const Node& node) {
    const LiteralEdge* prev = nullptr;
    for (std::uint32_t e = node.literal_edges.first;
         e < node.literal_edges.first + node.literal_edges.count; ++e) {
      const LiteralEdge& edge = lit[e];
      const std::uint64_t eat = check_.offset_of(&edge);
      if (edge.child <= n || edge.child >= n_nodes)
        return check_.fail("edge child out of order or bounds", eat);
      if (!name_ok(edge.folded, kMaxComponentUnits) || !str_ok(edge.display) ||
          edge.display.length != edge.folded.length) {
        return check_.fail("bad literal edge name", eat);
      }
      for (char16_t unit : str(edge.folded)) {
        if (unit == u'\\') return check_.fail("literal edge name contains a separator", eat);
      }
      if (edge.hash != component_hash(str(edge.folded)))
        return check_.fail("literal edge hash does not match its name", eat);
      if (prev != nullptr &&
          (prev->hash > edge.hash ||
           (prev->hash == edge.hash && !(str(prev->folded) < str(edge.folded))))) {
        return check_.fail("literal edges not sorted or duplicated", eat);
      }
      prev = &edge;
    }
    return true;
  }

  bool pattern_edges_ok(std::uint32_t n, const Node& node) {
    for (std::uint32_t e = node.pattern_edges.first;
         e < node.pattern_edges.first + node.pattern_edges.count; ++e) {
      const PatternEdge& edge = pat[e];
      const std::uint64_t eat = check_.offset_of(&edge);
      if (edge.child <= n || edge.child >= n_nodes)
        return check_.fail("edge child out of order or bounds", eat);
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
          if (edge.count != 1 || !name_ok(edge.folded, kMaxComponentUnits))
            return check_.fail("bad glob edge", eat);
          break;
        default:
          return check_.fail("unknown pattern edge kind", eat);
      }
    }
    return true;
  }

  bool values_ok(const Node& node) {
    for (std::uint32_t v = node.values.first; v < node.values.first + node.values.count; ++v) {
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
  // node's ranges and children passed nodes_ok).
  Rules expected_subtree_rules(const Node& node) const {
    Rules expected = 0;
    for (std::uint32_t i = node.key_clients.first;
         i < node.key_clients.first + node.key_clients.count; ++i)
      expected |= kc[i].rules;
    for (std::uint32_t v = node.values.first; v < node.values.first + node.values.count; ++v) {
      for (std::uint32_t i = val[v].clients.first; i < val[v].clients.first + val[v].clients.count;
           ++i)
        expected |= vc[i].rules;
    }
    for (std::uint32_t e = node.literal_edges.first;
         e < node.literal_edges.first + node.literal_edges.count; ++e) {
      expected |= subtree[lit[e].child];
    }
    for (std::uint32_t e = node.pattern_edges.first;
         e < node.pattern_edges.first + node.pattern_edges.count; ++e) {
      expected |= subtree[pat[e].child];
    }
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
