// compile_policy: PolicySource -> the flat blob of policy_format.hpp.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <thread>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/util/utf.hpp"
#include "hot_layout.hpp"
#include "monitored_tree.hpp"
#include "ordered_batches.hpp"
#include "prepared_entries.hpp"
#include "string_pool.hpp"

namespace hivewarden::policy {
namespace {

// Seconds since the previous lap, for CompilePhases.
class PhaseClock {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Entries parsed per batch: enough that handing batches between threads costs nothing, few
// enough that a batch's texts stay in the cache until the tree takes them.
constexpr std::size_t kEntriesPerBatch = 2048;

// CompileOptions::threads: 0 is as many as the machine has cores, at most two (the tree is built
// on one; the second parses ahead of it, and more would wait for the first), and one for a
// policy of one batch (most policies: a thread would cost more than it saves).
unsigned compile_threads(unsigned asked, std::size_t entries) {
  if (asked != 0) return asked;
  if (entries <= kEntriesPerBatch) return 1;
  return std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
}

std::uint64_t aligned8(std::uint64_t n) {
  return (n + 7) & ~std::uint64_t{7};
}

// Lays the sections out one after another, 8-byte aligned, and writes them into the blob once:
// no zeroing first (a policy of a million entries is hundreds of megabytes), nothing copied
// twice. The checksum is summed from the sections themselves, so it can run beside the copy.
class SectionWriter {
 public:
  template <class T>
  void plan(blob::Section s, const std::vector<T>& items) {
    header_.sections[s] = {size_, items.size()};
    spans_.push_back(
        {size_, reinterpret_cast<const unsigned char*>(items.data()), items.size() * sizeof(T)});
    size_ = aligned8(size_ + items.size() * sizeof(T));
  }
  // The blob as planned, with room for the header at the front (written last).
  void write(Blob& out) const {
    out.clear();
    out.reserve(size_);
    for (const Span& span : spans_) {
      out.resize(span.offset);  // the header or a section's padding: zeros
      out.insert(out.end(), span.bytes, span.bytes + span.size);
    }
    out.resize(size_);
  }
  // checksum32, going on from `h`, of the blob's bytes [from, to) as write() lays them out;
  // `from` and `to` are where planned sections end (or the header does).
  std::uint32_t checksum(std::uint64_t from, std::uint64_t to, std::uint32_t h) const {
    std::uint64_t at = from;
    for (const Span& span : spans_) {
      if (span.offset + span.size <= at || span.offset >= to) continue;
      h = zeros(span.offset - at, h);
      h = checksum32(span.bytes, span.size, h);
      at = span.offset + span.size;
    }
    return zeros(to - at, h);
  }
  blob::Header& header() { return header_; }
  std::uint64_t size() const { return size_; }

 private:
  struct Span {
    std::uint64_t offset;
    const unsigned char* bytes;
    std::uint64_t size;
  };
  static std::uint32_t zeros(std::uint64_t n, std::uint32_t h) {
    static constexpr unsigned char kZeros[8] = {};
    for (; n > 0; n -= std::min<std::uint64_t>(n, 8))
      h = checksum32(kZeros, std::min<std::uint64_t>(n, 8), h);
    return h;
  }

  blob::Header header_{};
  std::uint64_t size_ = aligned8(sizeof(blob::Header));
  std::vector<Span> spans_;
};

// Runs `side` on a second thread while `main` runs on this one (both here, one after the other,
// with one thread).
template <class Side, class Main>
void run_beside(unsigned threads, Side side, Main main) {
  if (threads <= 1) {
    side();
    main();
    return;
  }
  std::jthread helper(side);
  main();
}

// The blob's tables while a policy is compiled into them. Names go into one string pool in
// the order monitored entries, hardened keys, processes (the blob's bytes depend on it).
class BlobBuilder {
 public:
  explicit BlobBuilder(const PolicySource& source, std::vector<PolicyProblem>& problems)
      : source_(source), problems_(problems), tree_(strings_) {}

  // The entries are parsed, folded and hashed in batches on `threads` threads and go into the
  // tree one by one in policy order on this one, so the blob does not depend on the threads.
  void add_monitored(unsigned threads) {
    reserve_for_entries();
    const std::size_t n = source_.monitored.size();
    const std::size_t batches = (n + kEntriesPerBatch - 1) / kEntriesPerBatch;
    run_ordered_batches<PreparedBatch>(
        batches, threads,
        [&](std::size_t k, PreparedBatch& batch) {
          batch.prepare(source_, k * kEntriesPerBatch, std::min(n, (k + 1) * kEntriesPerBatch));
        },
        [&](std::size_t, const PreparedBatch& batch) {
          const std::vector<PreparedEntry>& entries = batch.entries();
          for (std::size_t e = 0; e < entries.size(); ++e) {
            // The next entry's edges are fetched from memory while this one's are looked up.
            if (e + 1 < entries.size())
              batch.for_each_literal_place_hash(entries[e + 1],
                                                [&](std::uint64_t h) { tree_.prefetch(h); });
            add_monitored_entry(batch.first_entry() + e, batch, entries[e]);
          }
        });
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

  // The string pool comes first in the blob, and most of its bytes: it is summed while the tree
  // is laid out, and the other sections while they are copied.
  void write(Blob& out, unsigned threads, CompilePhases& phases, PhaseClock& clock) const {
    SectionWriter sections;
    sections.plan(blob::kStrings, strings_.units());
    const std::uint64_t strings_end = sections.size();
    std::uint32_t sum = 0;
    FlatTree flat;
    run_beside(
        threads,
        [&] { sum = sections.checksum(sizeof(blob::Header), strings_end, kChecksum32Start); },
        [&] { flat = tree_.flatten(); });
    const HotTree hot = hot_layout(flat, strings_);
    phases.layout = clock.lap();
    fill_header(sections.header(), flat);
    plan(sections, flat, hot);
    run_beside(
        threads, [&] { sum = sections.checksum(strings_end, sections.size(), sum); },
        [&] { sections.write(out); });
    phases.write = clock.lap();
    blob::Header& header = sections.header();
    header.total_size = out.size();
    header.checksum = sum;
    std::memcpy(out.data(), &header, sizeof header);
    phases.checksum = clock.lap();
  }

 private:
  // Every entry's key as written goes into the pool (for explanations); with a million entries
  // growing the pool and the tables step by step would copy hundreds of megabytes again and again.
  void reserve_for_entries() {
    std::size_t written_units = 0, values = 0;
    for (const MonitoredEntry& entry : source_.monitored) {
      written_units += entry.key.size();
      values += entry.values.size();
    }
    strings_.reserve_units(written_units + written_units / 4 + 4096);
    const std::size_t entries = source_.monitored.size();
    strings_.reserve_strings(entries + values);
    tree_.reserve(entries + entries / 2, values);
    entries_.reserve(entries + values);
  }

  // One YAML entry: its places in the tree (HKCR: the per-user classes too), its key rules and
  // its values' rules, all explained by entries that point back at the key as written.
  void add_monitored_entry(std::size_t i, const PreparedBatch& batch,
                           const PreparedEntry& prepared) {
    const MonitoredEntry& entry = source_.monitored[i];
    if (!prepared.ok) {
      problems_.push_back(
          {source_.file, entry.where, "monitored[" + std::to_string(i) + "].key", prepared.error});
      return;
    }
    nodes_.clear();
    for (std::uint32_t p = 0; p < prepared.places; ++p) {
      batch.place(batch.place_at(prepared.first_place + p), components_);
      max_depth_ = std::max(max_depth_, static_cast<std::uint32_t>(components_.size()));
      nodes_.push_back(tree_.insert(components_.data(), components_.size()));
    }
    // One explanation entry (key as written, line) serves every place the YAML entry stands for.
    const std::uint32_t client = client_of(entry.client);
    const blob::StrRef key_text = strings_.append(batch.key(prepared));
    if (entry.rules != 0) {
      entries_.push_back(make_entry(key_text, {0, 0}, entry.where.line, 0, entry.conditions));
      const blob::ClientRule rule{client, entry.rules,
                                  static_cast<std::uint32_t>(entries_.size() - 1)};
      for (const std::uint32_t node : nodes_) tree_.add_key_client(node, rule);
    }
    for (std::uint32_t v = 0; v < prepared.values; ++v) {
      const ValueRule& value = entry.values[v];
      bool valid_utf8 = false;
      const HashedValueName name16 = batch.value(prepared.first_value + v, valid_utf8);
      if (!valid_utf8) {
        problems_.push_back({source_.file, value.where,
                             "monitored[" + std::to_string(i) + "].values",
                             "value name is not valid UTF-8"});
        continue;
      }
      const blob::StrRef name = strings_.add(name16.name, name16.name_hash);
      entries_.push_back(make_entry(key_text, name, value.where.line, 1, value.conditions));
      const blob::ClientRule rule{client, value.rules,
                                  static_cast<std::uint32_t>(entries_.size() - 1)};
      for (const std::uint32_t node : nodes_) tree_.add_value_client(node, name16, rule);
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

  // Every section but the string pool (planned first), in blob order.
  void plan(SectionWriter& sections, const FlatTree& flat, const HotTree& hot) const {
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
  std::vector<HashedComponent> components_;
  std::string error_;
};

}  // namespace

bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems) {
  return compile_policy(source, out, problems, CompileOptions{});
}

bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems,
                    const CompileOptions& options) {
  CompilePhases unused;
  CompilePhases& phases = options.phases != nullptr ? *options.phases : unused;
  PhaseClock clock;
  const std::size_t before = problems.size();
  BlobBuilder builder(source, problems);
  const unsigned threads = compile_threads(options.threads, source.monitored.size());
  builder.add_monitored(threads);
  builder.add_hardened_keys();
  builder.add_processes();
  builder.check_size();
  phases.entries = clock.lap();
  phases.threads = threads;
  if (problems.size() != before) return false;
  builder.write(out, threads, phases, clock);
  return true;
}

}  // namespace hivewarden::policy
