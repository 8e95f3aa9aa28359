// compile_policy: PolicySource -> the flat blob of policy_format.hpp.
#include <cstring>
#include <limits>
#include <map>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/util/utf.hpp"
#include "monitored_tree.hpp"
#include "string_pool.hpp"

namespace hivewarden::policy {
namespace {

std::uint64_t aligned8(std::uint64_t n) {
  return (n + 7) & ~std::uint64_t{7};
}

// Lays the sections out one after another, 8-byte aligned, into one buffer sized up front
// (a policy of a million entries is hundreds of megabytes: growing it would copy it again and
// again).
class SectionWriter {
 public:
  template <class T>
  void plan(blob::Section s, const std::vector<T>& items) {
    header_.sections[s] = {size_, items.size()};
    size_ = aligned8(size_ + items.size() * sizeof(T));
  }
  template <class T>
  void write(Blob& out, blob::Section s, const std::vector<T>& items) const {
    if (!items.empty())
      std::memcpy(out.data() + header_.sections[s].offset, items.data(), items.size() * sizeof(T));
  }
  blob::Header& header() { return header_; }
  std::uint64_t size() const { return size_; }

 private:
  blob::Header header_{};
  std::uint64_t size_ = aligned8(sizeof(blob::Header));
};

}  // namespace

bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems) {
  const std::size_t before = problems.size();
  StringPool strings;
  MonitoredTree tree(strings);
  std::vector<blob::Client> clients;
  std::map<std::string, std::uint32_t> client_index;
  std::vector<blob::Entry> entries;
  std::uint32_t max_depth = 0;

  const std::string* last_name = nullptr;  // entries of one client usually come together
  std::uint32_t last_client = 0;
  auto client_of = [&](const std::string& name) {
    if (last_name != nullptr && *last_name == name) return last_client;
    last_name = &name;
    auto it = client_index.find(name);
    if (it != client_index.end()) return last_client = it->second;
    blob::Client c{};
    c.name = strings.add_utf8(name);
    const ClientHash h = client_hash(name);
    std::memcpy(c.hash, h.bytes, sizeof c.hash);
    clients.push_back(c);
    return last_client = client_index[name] = static_cast<std::uint32_t>(clients.size() - 1);
  };

  // Every entry's key as written goes into the pool (for explanations); with a million entries
  // growing the pool step by step would copy hundreds of megabytes again and again.
  std::size_t written_units = 0;
  for (const MonitoredEntry& entry : source.monitored) written_units += entry.key.size();
  strings.reserve_units(written_units + written_units / 4 + 4096);
  KeyPattern pattern;
  std::vector<KeyPattern> user_places;  // HKCR: the per-user classes too
  std::vector<std::uint32_t> nodes;
  std::string error;
  for (std::size_t i = 0; i < source.monitored.size(); ++i) {
    const MonitoredEntry& entry = source.monitored[i];
    if (!parse_key_pattern(entry.key, source.control_set, pattern, error)) {
      problems.push_back(
          {source.file, entry.where, "monitored[" + std::to_string(i) + "].key", error});
      continue;
    }
    classes_root_user_places(pattern, user_places);
    // Only the places a registry path can reach (parse_key_pattern made sure one can).
    nodes.clear();
    const auto add_place = [&](const KeyPattern& place) {
      if (!fits_the_registry(place)) return;
      max_depth = std::max(max_depth, static_cast<std::uint32_t>(place.components.size()));
      nodes.push_back(tree.insert(place));
    };
    add_place(pattern);
    for (const KeyPattern& place : user_places) add_place(place);
    // One explanation entry (key as written, line) serves every place the YAML entry stands for.
    const std::uint32_t client = client_of(entry.client);
    const blob::StrRef key_text = strings.append_utf8(entry.key);
    if (entry.rules != 0) {
      entries.push_back({key_text, {0, 0}, entry.where.line, 0});
      const blob::ClientRule rule{client, entry.rules,
                                  static_cast<std::uint32_t>(entries.size() - 1)};
      for (const std::uint32_t node : nodes) tree.add_key_client(node, rule);
    }
    for (const ValueRule& value : entry.values) {
      const auto name16 = utf8_to_utf16(value.name);
      if (!name16) {
        problems.push_back({source.file, value.where, "monitored[" + std::to_string(i) + "].values",
                            "value name is not valid UTF-8"});
        continue;
      }
      entries.push_back({key_text, strings.add(*name16), value.where.line, 1});
      const blob::ClientRule rule{client, value.rules,
                                  static_cast<std::uint32_t>(entries.size() - 1)};
      for (const std::uint32_t node : nodes) tree.add_value_client(node, *name16, rule);
    }
  }

  std::vector<blob::Range> hardened;
  std::vector<blob::StrRef> hardened_parts;
  for (std::size_t i = 0; i < source.hardened_keys.size(); ++i) {
    if (!parse_literal_key(source.hardened_keys[i].key, source.control_set, pattern, error)) {
      problems.push_back({source.file, source.hardened_keys[i].where,
                          "hardened_keys[" + std::to_string(i) + "]", error});
      continue;
    }
    // HKCR: the per-user classes too. The one `*` (any user) it brings is stored as a glob
    // part, which the hardened-key matcher compares as one whole component.
    const auto add_hardened = [&](const KeyPattern& place) {
      hardened.push_back({static_cast<std::uint32_t>(hardened_parts.size()),
                          static_cast<std::uint32_t>(place.components.size())});
      for (const PatternComponent& c : place.components) {
        const std::u16string_view text = c.kind == ComponentKind::kAnyOne
                                             ? std::u16string_view(u"*")
                                             : std::u16string_view(c.text);
        hardened_parts.push_back(strings.add(folded(text)));
      }
    };
    // Only the places a registry path can reach (parse_literal_key made sure one can).
    if (fits_the_registry(pattern)) add_hardened(pattern);
    classes_root_user_places(pattern, user_places);
    for (const KeyPattern& place : user_places) {
      if (fits_the_registry(place)) add_hardened(place);
    }
  }

  std::vector<blob::ProcessRule> processes;
  for (std::size_t i = 0; i < source.processes.size(); ++i) {
    const ProcessEntry& p = source.processes[i];
    const auto image = utf8_to_utf16(p.image);
    if (!image) {
      problems.push_back(
          {source.file, p.where, "processes[" + std::to_string(i) + "].image", "not valid UTF-8"});
      continue;
    }
    std::u16string image_folded(image->size(), u'\0');
    fold_ascii_units(*image, image_folded.data());  // images: ASCII case only (case_fold.hpp)
    processes.push_back({strings.add(image_folded), strings.add(*image), p.flags, p.rules});
  }
  // Offsets and indices in the blob are 32-bit.
  constexpr std::uint64_t kLimit = std::numeric_limits<std::uint32_t>::max();
  if (strings.units().size() >= kLimit || tree.node_count() >= kLimit || entries.size() >= kLimit) {
    problems.push_back({source.file,
                        {},
                        "monitored",
                        "policy too large: more than 4 billion names, nodes or entries"});
  }
  if (problems.size() != before) return false;

  const FlatTree flat = tree.flatten();
  SectionWriter sections;
  blob::Header& header = sections.header();
  std::memcpy(header.magic, blob::kMagic, sizeof header.magic);
  header.version = blob::kPolicyFormatVersion;
  header.header_size = sizeof(blob::Header);
  header.flags = source.legacy_hardening ? blob::kFlagLegacyHardening : 0;
  header.control_set = source.control_set;
  header.max_depth = max_depth;
  for (const auto& c : flat.key_clients) header.rule_union |= c.rules;
  for (const auto& c : flat.value_clients) header.rule_union |= c.rules;

  sections.plan(blob::kStrings, strings.units());
  sections.plan(blob::kNodes, flat.nodes);
  sections.plan(blob::kLiteralEdges, flat.literal_edges);
  sections.plan(blob::kPatternEdges, flat.pattern_edges);
  sections.plan(blob::kKeyClients, flat.key_clients);
  sections.plan(blob::kValues, flat.values);
  sections.plan(blob::kValueClients, flat.value_clients);
  sections.plan(blob::kClients, clients);
  sections.plan(blob::kEntries, entries);
  sections.plan(blob::kHardenedKeys, hardened);
  sections.plan(blob::kHardenedParts, hardened_parts);
  sections.plan(blob::kProcesses, processes);
  sections.plan(blob::kSubtreeRules, flat.subtree_rules);

  out.assign(sections.size(), 0);
  sections.write(out, blob::kStrings, strings.units());
  sections.write(out, blob::kNodes, flat.nodes);
  sections.write(out, blob::kLiteralEdges, flat.literal_edges);
  sections.write(out, blob::kPatternEdges, flat.pattern_edges);
  sections.write(out, blob::kKeyClients, flat.key_clients);
  sections.write(out, blob::kValues, flat.values);
  sections.write(out, blob::kValueClients, flat.value_clients);
  sections.write(out, blob::kClients, clients);
  sections.write(out, blob::kEntries, entries);
  sections.write(out, blob::kHardenedKeys, hardened);
  sections.write(out, blob::kHardenedParts, hardened_parts);
  sections.write(out, blob::kProcesses, processes);
  sections.write(out, blob::kSubtreeRules, flat.subtree_rules);
  header.total_size = out.size();
  header.checksum =
      checksum32(out.data() + sizeof(blob::Header), out.size() - sizeof(blob::Header));
  std::memcpy(out.data(), &header, sizeof header);
  return true;
}

}  // namespace hivewarden::policy
