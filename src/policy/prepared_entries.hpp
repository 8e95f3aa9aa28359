// Monitored entries parsed, folded and hashed ahead of the tree: the part of compiling an entry
// that depends on nothing but the entry, so that it can run on another core. The tree then only
// interns what a batch holds, entry by entry in policy order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/policy/policy_source.hpp"
#include "monitored_tree.hpp"

namespace hivewarden::policy {

struct PreparedComponent {
  ComponentKind kind = ComponentKind::kLiteral;
  std::uint32_t count = 1;
  std::uint32_t folded = 0;   // in the batch's units
  std::uint32_t display = 0;  // literal: as written
  std::uint32_t length = 0;
  std::uint64_t hash = 0;        // component_hash of the folded text
  std::uint64_t place_hash = 0;  // MonitoredTree::place_hash
};

struct PreparedValue {
  bool valid_utf8 = false;
  bool is_glob = false;
  std::uint32_t name = 0;    // as written, in the batch's units
  std::uint32_t folded = 0;  // folded
  std::uint32_t length = 0;
  std::uint64_t name_hash = 0, folded_hash = 0;
};

struct PreparedEntry {
  bool ok = false;
  std::string error;                          // why the key pattern does not parse, when !ok
  std::uint32_t first_place = 0, places = 0;  // the places a registry path can reach
  std::uint32_t key = 0, key_length = 0;      // the key as written, in the batch's units
  std::uint32_t first_value = 0, values = 0;
};

struct PreparedPlace {
  std::uint32_t first_component = 0, components = 0;
};

class PreparedBatch {
 public:
  // Parses entries [first, last) of the source; replaces what the batch held.
  void prepare(const PolicySource& source, std::size_t first, std::size_t last);

  std::size_t first_entry() const { return first_; }
  const std::vector<PreparedEntry>& entries() const { return entries_; }
  // A place's components as the tree takes them (views into this batch, valid until the next
  // prepare); `out` is replaced.
  void place(const PreparedPlace& p, std::vector<HashedComponent>& out) const;
  const PreparedPlace& place_at(std::uint32_t i) const { return places_[i]; }
  HashedValueName value(std::uint32_t i, bool& valid_utf8) const;
  // Calls f(place_hash) for each literal component of the entry's places.
  template <class F>
  void for_each_literal_place_hash(const PreparedEntry& e, F f) const {
    for (std::uint32_t p = e.first_place; p < e.first_place + e.places; ++p) {
      const PreparedPlace& place = places_[p];
      for (std::uint32_t k = 0; k < place.components; ++k) {
        const PreparedComponent& c = components_[place.first_component + k];
        if (c.kind == ComponentKind::kLiteral) f(c.place_hash);
      }
    }
  }
  std::u16string_view key(const PreparedEntry& e) const { return text(e.key, e.key_length); }

 private:
  void prepare_entry(const PolicySource& source, std::size_t i, PreparedEntry& out);
  void add_place(const KeyPattern& place);
  void add_value(const ValueRule& value);
  std::uint32_t add_text(std::u16string_view s);
  std::u16string_view text(std::uint32_t at, std::uint32_t length) const {
    return {units_.data() + at, length};
  }

  std::size_t first_ = 0;
  std::vector<PreparedEntry> entries_;
  std::vector<PreparedPlace> places_;
  std::vector<PreparedComponent> components_;
  std::vector<PreparedValue> values_;
  std::u16string units_;
  // Scratch reused from entry to entry.
  KeyPattern pattern_;
  std::vector<KeyPattern> user_places_;
};

}  // namespace hivewarden::policy
