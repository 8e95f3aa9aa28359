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
#include "hot_layout.hpp"
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

// The blob's tables while a policy is compiled into them. Names go into one string pool in
// the order monitored entries, hardened keys, processes (the blob's bytes depend on it).
class BlobBuilder {
 public:
  explicit BlobBuilder(const PolicySource& source, std::vector<PolicyProblem>& problems)
      : source_(source), problems_(problems), tree_(strings_) {}

  void add_monitored() {
    // Every entry's key as written goes into the pool (for explanations); with a million entries
    // growing the pool step by step would copy hundreds of megabytes again and again.
    std::size_t written_units = 0;
    for (const MonitoredEntry& entry : source_.monitored) written_units += entry.key.size();
    strings_.reserve_units(written_units + written_units / 4 + 4096);
    for (std::size_t i = 0; i < source_.monitored.size(); ++i) add_monitored_entry(i);
  }

  void add_hardened_keys() {
    for (std::size_t i = 0; i < source_.hardened_keys.size(); ++i) {
      if (!parse_literal_key(source_.hardened_keys[i].key, source_.control_set, pattern_, error_)) {
        problems_.push_back({source_.file, source_.hardened_keys[i].where,
                             "hardened_keys[" + std::to_string(i) + "]", error_});
        continue;
      }
      // Only the places a registry path can reach (parse_literal_key made sure one can).
      if (fits_the_registry(pattern_)) add_hardened_place(pattern_);
      classes_root_user_places(pattern_, user_places_);
      for (const KeyPattern& place : user_places_) {
        if (fits_the_registry(place)) add_hardened_place(place);
      }
    }
  }

  void add_processes() {
    for (std::size_t i = 0; i < source_.processes.size(); ++i) {
      const ProcessEntry& p = source_.processes[i];
      const auto image = utf8_to_utf16(p.image);
      if (!image) {
        problems_.push_back({source_.file, p.where, "processes[" + std::to_string(i) + "].image",
                             "not valid UTF-8"});
        continue;
      }
      std::u16string image_folded(image->size(), u'\0');
      fold_ascii_units(*image, image_folded.data());  // images: ASCII case only (case_fold.hpp)
      processes_.push_back({strings_.add(image_folded), strings_.add(*image), p.flags, p.rules});
    }
  }

  // Offsets and indices in the blob are 32-bit.
  void check_size() {
    constexpr std::uint64_t kLimit = std::numeric_limits<std::uint32_t>::max();
    if (strings_.units().size() >= kLimit || tree_.node_count() >= kLimit ||
        entries_.size() >= kLimit) {
      problems_.push_back({source_.file,
                           {},
                           "monitored",
                           "policy too large: more than 4 billion names, nodes or entries"});
    }
  }

  void write(Blob& out) const {
    const FlatTree flat = tree_.flatten();
    const HotTree hot = hot_layout(flat, strings_);
    SectionWriter sections;
    fill_header(sections.header(), flat);
    plan_and_write(sections, out, flat, hot);
    blob::Header& header = sections.header();
    header.total_size = out.size();
    header.checksum =
        checksum32(out.data() + sizeof(blob::Header), out.size() - sizeof(blob::Header));
    std::memcpy(out.data(), &header, sizeof header);
  }

 private:
  // One YAML entry: its places in the tree (HKCR: the per-user classes too), its key rules and
  // its values' rules, all explained by entries that point back at the key as written.
  void add_monitored_entry(std::size_t i) {
    const MonitoredEntry& entry = source_.monitored[i];
    if (!parse_key_pattern(entry.key, source_.control_set, pattern_, error_)) {
      problems_.push_back(
          {source_.file, entry.where, "monitored[" + std::to_string(i) + "].key", error_});
      return;
    }
    classes_root_user_places(pattern_, user_places_);
    // Only the places a registry path can reach (parse_key_pattern made sure one can).
    nodes_.clear();
    add_place(pattern_);
    for (const KeyPattern& place : user_places_) add_place(place);
    // One explanation entry (key as written, line) serves every place the YAML entry stands for.
    const std::uint32_t client = client_of(entry.client);
    const blob::StrRef key_text = strings_.append_utf8(entry.key);
    if (entry.rules != 0) {
      entries_.push_back(make_entry(key_text, {0, 0}, entry.where.line, 0, entry.conditions));
      const blob::ClientRule rule{client, entry.rules,
                                  static_cast<std::uint32_t>(entries_.size() - 1)};
      for (const std::uint32_t node : nodes_) tree_.add_key_client(node, rule);
    }
    for (const ValueRule& value : entry.values) {
      const auto name16 = utf8_to_utf16(value.name);
      if (!name16) {
        problems_.push_back({source_.file, value.where,
                             "monitored[" + std::to_string(i) + "].values",
                             "value name is not valid UTF-8"});
        continue;
      }
      const blob::StrRef name = strings_.add(*name16);
      entries_.push_back(make_entry(key_text, name, value.where.line, 1, value.conditions));
      const blob::ClientRule rule{client, value.rules,
                                  static_cast<std::uint32_t>(entries_.size() - 1)};
      for (const std::uint32_t node : nodes_) tree_.add_value_client(node, *name16, rule);
    }
  }

  blob::Entry make_entry(blob::StrRef key, blob::StrRef value, std::uint32_t line,
                         std::uint32_t has_value, const Conditions& conditions) {
    const blob::Range when = add_groups(conditions.when);
    const blob::Range unless = add_groups(conditions.unless);
    return {key, value, line, has_value, when, unless};
  }

  // A list of conditions: each group a run of tests, each test a run of operands.
  blob::Range add_groups(const std::vector<ConditionGroup>& groups) {
    std::vector<blob::Range> ranges;
    for (const ConditionGroup& group : groups) {
      ranges.push_back({index(tests_), static_cast<std::uint32_t>(group.size())});
      for (const ConditionTest& test : group) add_test(test);
    }
    const blob::Range out{index(groups_), static_cast<std::uint32_t>(ranges.size())};
    groups_.insert(groups_.end(), ranges.begin(), ranges.end());
    return out;
  }

  void add_test(const ConditionTest& test) {
    const std::uint32_t first = index(operands_);
    const bool ascii = test.field == blob::kFieldImage || test.field == blob::kFieldData ||
                       test.field == blob::kFieldDetails;
    for (const std::string& text : test.texts) {
      std::u16string units = utf8_to_utf16(text).value_or(u"");
      if (ascii)
        fold_ascii_units(units, units.data());
      else
        fold_units(units, units.data());
      operands_.push_back({strings_.add(units), 0});
    }
    for (const std::uint64_t n : test.numbers) operands_.push_back({{0, 0}, n});
    tests_.push_back({test.field, test.match, test.flags, 0, {first, index(operands_) - first}});
  }

  template <class T>
  static std::uint32_t index(const std::vector<T>& v) {
    return static_cast<std::uint32_t>(v.size());
  }

  void add_place(const KeyPattern& place) {
    if (!fits_the_registry(place)) return;
    max_depth_ = std::max(max_depth_, static_cast<std::uint32_t>(place.components.size()));
    nodes_.push_back(tree_.insert(place));
  }

  // The one `*` (any user) an HKCR place brings is stored as a glob part, which the
  // hardened-key matcher compares as one whole component.
  void add_hardened_place(const KeyPattern& place) {
    hardened_.push_back({static_cast<std::uint32_t>(hardened_parts_.size()),
                         static_cast<std::uint32_t>(place.components.size())});
    for (const PatternComponent& c : place.components) {
      const std::u16string_view text = c.kind == ComponentKind::kAnyOne
                                           ? std::u16string_view(u"*")
                                           : std::u16string_view(c.text);
      hardened_parts_.push_back(strings_.add(folded(text)));
    }
  }

  std::uint32_t client_of(const std::string& name) {
    if (last_name_ != nullptr && *last_name_ == name) return last_client_;
    last_name_ = &name;
    auto it = client_index_.find(name);
    if (it != client_index_.end()) return last_client_ = it->second;
    blob::Client c{};
    c.name = strings_.add_utf8(name);
    const ClientHash h = client_hash(name);
    std::memcpy(c.hash, h.bytes, sizeof c.hash);
    clients_.push_back(c);
    return last_client_ = client_index_[name] = static_cast<std::uint32_t>(clients_.size() - 1);
  }

  void fill_header(blob::Header& header, const FlatTree& flat) const {
    std::memcpy(header.magic, blob::kMagic, sizeof header.magic);
    header.version = blob::kPolicyFormatVersion;
    header.header_size = sizeof(blob::Header);
    header.flags = source_.legacy_hardening ? blob::kFlagLegacyHardening : 0;
    header.control_set = source_.control_set;
    header.max_depth = max_depth_;
    for (const auto& c : flat.key_clients) header.rule_union |= c.rules;
    for (const auto& c : flat.value_clients) header.rule_union |= c.rules;
  }

  void plan_and_write(SectionWriter& sections, Blob& out, const FlatTree& flat,
                      const HotTree& hot) const {
    sections.plan(blob::kStrings, strings_.units());
    sections.plan(blob::kNodes, hot.nodes);
    sections.plan(blob::kAttachments, hot.attachments);
    sections.plan(blob::kLiteralEdges, hot.literal_edges);
    sections.plan(blob::kEdgeSlots, hot.edge_slots);
    sections.plan(blob::kPatternEdges, flat.pattern_edges);
    sections.plan(blob::kKeyClients, flat.key_clients);
    sections.plan(blob::kValues, flat.values);
    sections.plan(blob::kValueClients, flat.value_clients);
    sections.plan(blob::kClients, clients_);
    sections.plan(blob::kEntries, entries_);
    sections.plan(blob::kEdgeDisplays, hot.edge_displays);
    sections.plan(blob::kHardenedKeys, hardened_);
    sections.plan(blob::kHardenedParts, hardened_parts_);
    sections.plan(blob::kProcesses, processes_);
    sections.plan(blob::kSubtreeRules, flat.subtree_rules);
    sections.plan(blob::kConditionGroups, groups_);
    sections.plan(blob::kConditionTests, tests_);
    sections.plan(blob::kConditionOperands, operands_);

    out.assign(sections.size(), 0);
    sections.write(out, blob::kStrings, strings_.units());
    sections.write(out, blob::kNodes, hot.nodes);
    sections.write(out, blob::kAttachments, hot.attachments);
    sections.write(out, blob::kLiteralEdges, hot.literal_edges);
    sections.write(out, blob::kEdgeSlots, hot.edge_slots);
    sections.write(out, blob::kPatternEdges, flat.pattern_edges);
    sections.write(out, blob::kKeyClients, flat.key_clients);
    sections.write(out, blob::kValues, flat.values);
    sections.write(out, blob::kValueClients, flat.value_clients);
    sections.write(out, blob::kClients, clients_);
    sections.write(out, blob::kEntries, entries_);
    sections.write(out, blob::kEdgeDisplays, hot.edge_displays);
    sections.write(out, blob::kHardenedKeys, hardened_);
    sections.write(out, blob::kHardenedParts, hardened_parts_);
    sections.write(out, blob::kProcesses, processes_);
    sections.write(out, blob::kSubtreeRules, flat.subtree_rules);
    sections.write(out, blob::kConditionGroups, groups_);
    sections.write(out, blob::kConditionTests, tests_);
    sections.write(out, blob::kConditionOperands, operands_);
  }

  const PolicySource& source_;
  std::vector<PolicyProblem>& problems_;
  StringPool strings_;
  MonitoredTree tree_;  // names its nodes in strings_
  std::vector<blob::Client> clients_;
  std::map<std::string, std::uint32_t> client_index_;
  const std::string* last_name_ = nullptr;  // entries of one client usually come together
  std::uint32_t last_client_ = 0;
  std::vector<blob::Entry> entries_;
  std::uint32_t max_depth_ = 0;
  std::vector<blob::Range> hardened_;
  std::vector<blob::StrRef> hardened_parts_;
  std::vector<blob::ProcessRule> processes_;
  std::vector<blob::Range> groups_;  // conditions (SPEC §10)
  std::vector<blob::ConditionTest> tests_;
  std::vector<blob::ConditionOperand> operands_;
  // Scratch reused from entry to entry.
  KeyPattern pattern_;
  std::vector<KeyPattern> user_places_;  // HKCR: the per-user classes too
  std::vector<std::uint32_t> nodes_;
  std::string error_;
};

}  // namespace

bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems) {
  const std::size_t before = problems.size();
  BlobBuilder builder(source, problems);
  builder.add_monitored();
  builder.add_hardened_keys();
  builder.add_processes();
  builder.check_size();
  if (problems.size() != before) return false;
  builder.write(out);
  return true;
}

}  // namespace hivewarden::policy
