// compile_policy: PolicySource -> the flat blob of policy_format.hpp.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <tuple>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {
namespace {

std::u16string folded(std::u16string_view s) {
  std::u16string out(s.size(), u'\0');
  fold_units(s, out.data());
  return out;
}

// The monitored tree while it is being built: one node per distinct pattern prefix.
struct TrieValue {
  std::u16string folded;
  bool is_glob = false;
  std::vector<blob::ClientRule> clients;
};

struct TrieNode {
  // folded name -> (display name, child); the flattener sorts edges by hash, so no order here.
  std::unordered_map<std::u16string, std::pair<std::u16string, std::unique_ptr<TrieNode>>> literals;
  std::map<std::tuple<int, std::uint32_t, std::u16string>, std::unique_ptr<TrieNode>> patterns;
  std::vector<blob::ClientRule> key_clients;
  std::vector<TrieValue> values;
};

class StringPool {
 public:
  blob::StrRef add(std::u16string_view s) {
    const blob::StrRef ref{static_cast<std::uint32_t>(units_.size()), static_cast<std::uint32_t>(s.size())};
    const auto [it, inserted] = index_.try_emplace(std::u16string(s), ref);
    if (inserted) units_.insert(units_.end(), s.begin(), s.end());
    return it->second;
  }
  blob::StrRef add_utf8(const std::string& s) { return add(utf8_to_utf16(s).value_or(u"?")); }
  const std::vector<char16_t>& units() const { return units_; }

 private:
  std::vector<char16_t> units_;
  std::unordered_map<std::u16string, blob::StrRef> index_;
};

// Flattens the trie in pre-order, so that every child gets a higher index than its parent.
class Flattener {
 public:
  explicit Flattener(StringPool& strings) : strings_(strings) {}

  std::uint32_t add(const TrieNode& node) {
    const auto index = static_cast<std::uint32_t>(nodes.size());
    nodes.emplace_back();
    // Children are flattened after the edge runs are reserved, so each run stays contiguous.
    struct Lit {
      std::uint64_t hash;
      std::u16string folded;
      const std::u16string* display;
      const TrieNode* child;
    };
    std::vector<Lit> lits;
    for (const auto& [key, value] : node.literals) {
      lits.push_back({component_hash(key), key, &value.first, value.second.get()});
    }
    std::sort(lits.begin(), lits.end(), [](const Lit& a, const Lit& b) {
      return std::tie(a.hash, a.folded) < std::tie(b.hash, b.folded);
    });
    const auto lit_first = static_cast<std::uint32_t>(literal_edges.size());
    literal_edges.resize(literal_edges.size() + lits.size());
    const auto pat_first = static_cast<std::uint32_t>(pattern_edges.size());
    pattern_edges.resize(pattern_edges.size() + node.patterns.size());

    nodes[index].literal_edges = {lit_first, static_cast<std::uint32_t>(lits.size())};
    nodes[index].pattern_edges = {pat_first, static_cast<std::uint32_t>(node.patterns.size())};
    nodes[index].key_clients = {static_cast<std::uint32_t>(key_clients.size()), static_cast<std::uint32_t>(node.key_clients.size())};
    key_clients.insert(key_clients.end(), node.key_clients.begin(), node.key_clients.end());
    nodes[index].values = {static_cast<std::uint32_t>(values.size()), static_cast<std::uint32_t>(node.values.size())};
    for (const TrieValue& v : node.values) {
      blob::ValuePattern vp{};
      vp.folded = strings_.add(v.folded);
      vp.is_glob = v.is_glob ? 1 : 0;
      vp.hash = v.is_glob ? 0 : component_hash(v.folded);
      vp.clients = {static_cast<std::uint32_t>(value_clients.size()), static_cast<std::uint32_t>(v.clients.size())};
      value_clients.insert(value_clients.end(), v.clients.begin(), v.clients.end());
      values.push_back(vp);
    }
    for (std::size_t i = 0; i < lits.size(); ++i) {
      blob::LiteralEdge edge{};
      edge.hash = lits[i].hash;
      edge.folded = strings_.add(lits[i].folded);
      edge.display = strings_.add(*lits[i].display);
      edge.child = add(*lits[i].child);
      literal_edges[lit_first + i] = edge;
    }
    std::uint32_t k = 0;
    for (const auto& [key, child] : node.patterns) {
      blob::PatternEdge edge{};
      edge.kind = static_cast<std::uint32_t>(std::get<0>(key));
      edge.count = std::get<1>(key);
      if (edge.kind == blob::kGlob) edge.folded = strings_.add(std::get<2>(key));
      edge.child = add(*child);
      pattern_edges[pat_first + k++] = edge;
    }
    return index;
  }

  std::vector<blob::Node> nodes;
  std::vector<blob::LiteralEdge> literal_edges;
  std::vector<blob::PatternEdge> pattern_edges;
  std::vector<blob::ClientRule> key_clients;
  std::vector<blob::ValuePattern> values;
  std::vector<blob::ClientRule> value_clients;

 private:
  StringPool& strings_;
};

TrieNode* descend(TrieNode* node, const PatternComponent& c) {
  if (c.kind == ComponentKind::kLiteral) {
    auto& slot = node->literals[folded(c.text)];
    if (!slot.second) slot = {c.text, std::make_unique<TrieNode>()};
    return slot.second.get();
  }
  int kind = blob::kAnyOne;
  std::uint32_t count = 1;
  std::u16string glob;
  switch (c.kind) {
    case ComponentKind::kAnyN:
      kind = c.count == 1 ? blob::kAnyOne : blob::kAnyN;
      count = c.count;
      break;
    case ComponentKind::kAnyDeep:
      kind = blob::kAnyDeep;
      count = 0;
      break;
    case ComponentKind::kGlob:
      kind = blob::kGlob;
      glob = folded(c.text);
      break;
    default:
      break;
  }
  auto& child = node->patterns[{kind, count, glob}];
  if (!child) child = std::make_unique<TrieNode>();
  return child.get();
}

template <class T>
void append_section(std::vector<unsigned char>& out, blob::Header& header, blob::Section s, const std::vector<T>& items) {
  while (out.size() % 8 != 0) out.push_back(0);
  header.sections[s] = {out.size(), items.size()};
  const auto* bytes = reinterpret_cast<const unsigned char*>(items.data());
  out.insert(out.end(), bytes, bytes + items.size() * sizeof(T));
}

}  // namespace

bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems) {
  const std::size_t before = problems.size();
  StringPool strings;
  TrieNode root;
  std::vector<blob::Client> clients;
  std::map<std::string, std::uint32_t> client_index;
  std::vector<blob::Entry> entries;
  std::uint32_t max_depth = 0;

  auto client_of = [&](const std::string& name) {
    auto it = client_index.find(name);
    if (it != client_index.end()) return it->second;
    blob::Client c{};
    c.name = strings.add_utf8(name);
    const ClientHash h = client_hash(name);
    std::memcpy(c.hash, h.bytes, sizeof c.hash);
    clients.push_back(c);
    return client_index[name] = static_cast<std::uint32_t>(clients.size() - 1);
  };

  for (std::size_t i = 0; i < source.monitored.size(); ++i) {
    const MonitoredEntry& entry = source.monitored[i];
    KeyPattern pattern;
    std::string error;
    if (!parse_key_pattern(entry.key, source.control_set, pattern, error)) {
      problems.push_back({source.file, entry.where, "monitored[" + std::to_string(i) + "].key", error});
      continue;
    }
    max_depth = std::max(max_depth, static_cast<std::uint32_t>(pattern.components.size()));
    TrieNode* node = &root;
    for (const PatternComponent& c : pattern.components) node = descend(node, c);
    const std::uint32_t client = client_of(entry.client);
    if (entry.rules != 0) {
      entries.push_back({strings.add_utf8(entry.key), {0, 0}, entry.where.line, 0});
      node->key_clients.push_back({client, entry.rules, static_cast<std::uint32_t>(entries.size() - 1)});
    }
    for (const ValueRule& value : entry.values) {
      const auto name16 = utf8_to_utf16(value.name);
      if (!name16) {
        problems.push_back({source.file, value.where, "monitored[" + std::to_string(i) + "].values", "value name is not valid UTF-8"});
        continue;
      }
      entries.push_back({strings.add_utf8(entry.key), strings.add(*name16), value.where.line, 1});
      const std::u16string f = folded(*name16);
      const bool glob = f.find_first_of(u"*?") != std::u16string::npos;
      auto it = std::find_if(node->values.begin(), node->values.end(),
                             [&](const TrieValue& v) { return v.folded == f && v.is_glob == glob; });
      if (it == node->values.end()) {
        node->values.push_back({f, glob, {}});
        it = node->values.end() - 1;
      }
      it->clients.push_back({client, value.rules, static_cast<std::uint32_t>(entries.size() - 1)});
    }
  }

  std::vector<blob::Range> hardened;
  std::vector<blob::StrRef> hardened_parts;
  for (std::size_t i = 0; i < source.hardened_keys.size(); ++i) {
    KeyPattern pattern;
    std::string error;
    if (!parse_literal_key(source.hardened_keys[i].key, source.control_set, pattern, error)) {
      problems.push_back({source.file, source.hardened_keys[i].where, "hardened_keys[" + std::to_string(i) + "]", error});
      continue;
    }
    hardened.push_back({static_cast<std::uint32_t>(hardened_parts.size()), static_cast<std::uint32_t>(pattern.components.size())});
    for (const PatternComponent& c : pattern.components) hardened_parts.push_back(strings.add(folded(c.text)));
  }

  std::vector<blob::ProcessRule> processes;
  for (std::size_t i = 0; i < source.processes.size(); ++i) {
    const ProcessEntry& p = source.processes[i];
    const auto image = utf8_to_utf16(p.image);
    if (!image) {
      problems.push_back({source.file, p.where, "processes[" + std::to_string(i) + "].image", "not valid UTF-8"});
      continue;
    }
    processes.push_back({strings.add(folded(*image)), strings.add(*image), p.flags, p.rules});
  }
  if (problems.size() != before) return false;

  Flattener flat(strings);
  flat.add(root);

  blob::Header header{};
  std::memcpy(header.magic, blob::kMagic, sizeof header.magic);
  header.version = blob::kPolicyFormatVersion;
  header.header_size = sizeof(blob::Header);
  header.flags = source.legacy_hardening ? blob::kFlagLegacyHardening : 0;
  header.control_set = source.control_set;
  header.max_depth = max_depth;
  for (const auto& c : flat.key_clients) header.rule_union |= c.rules;
  for (const auto& c : flat.value_clients) header.rule_union |= c.rules;

  out.assign(sizeof(blob::Header), 0);
  append_section(out, header, blob::kStrings, strings.units());
  append_section(out, header, blob::kNodes, flat.nodes);
  append_section(out, header, blob::kLiteralEdges, flat.literal_edges);
  append_section(out, header, blob::kPatternEdges, flat.pattern_edges);
  append_section(out, header, blob::kKeyClients, flat.key_clients);
  append_section(out, header, blob::kValues, flat.values);
  append_section(out, header, blob::kValueClients, flat.value_clients);
  append_section(out, header, blob::kClients, clients);
  append_section(out, header, blob::kEntries, entries);
  append_section(out, header, blob::kHardenedKeys, hardened);
  append_section(out, header, blob::kHardenedParts, hardened_parts);
  append_section(out, header, blob::kProcesses, processes);
  // Every node's rules and those of everything below it; children come after their parents.
  std::vector<Rules> subtree(flat.nodes.size(), 0);
  for (std::size_t n = flat.nodes.size(); n-- > 0;) {
    const blob::Node& node = flat.nodes[n];
    Rules r = 0;
    for (std::uint32_t i = 0; i < node.key_clients.count; ++i) r |= flat.key_clients[node.key_clients.first + i].rules;
    for (std::uint32_t v = 0; v < node.values.count; ++v) {
      const blob::ValuePattern& vp = flat.values[node.values.first + v];
      for (std::uint32_t i = 0; i < vp.clients.count; ++i) r |= flat.value_clients[vp.clients.first + i].rules;
    }
    for (std::uint32_t e = 0; e < node.literal_edges.count; ++e) r |= subtree[flat.literal_edges[node.literal_edges.first + e].child];
    for (std::uint32_t e = 0; e < node.pattern_edges.count; ++e) r |= subtree[flat.pattern_edges[node.pattern_edges.first + e].child];
    subtree[n] = r;
  }
  append_section(out, header, blob::kSubtreeRules, subtree);
  while (out.size() % 8 != 0) out.push_back(0);
  header.total_size = out.size();
  header.checksum = checksum32(out.data() + sizeof(blob::Header), out.size() - sizeof(blob::Header));
  std::memcpy(out.data(), &header, sizeof header);
  return true;
}

}  // namespace hivewarden::policy
