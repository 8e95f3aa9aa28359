#include "prepared_entries.hpp"

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {

void PreparedBatch::prepare(const PolicySource& source, std::size_t first, std::size_t last) {
  first_ = first;
  entries_.assign(last - first, PreparedEntry{});
  places_.clear();
  components_.clear();
  values_.clear();
  units_.clear();
  for (std::size_t i = first; i < last; ++i) prepare_entry(source, i, entries_[i - first]);
}

std::uint32_t PreparedBatch::add_text(std::u16string_view s) {
  const auto at = static_cast<std::uint32_t>(units_.size());
  units_.append(s);
  return at;
}

// As the compiler always did: the entry's places (HKCR: the per-user classes too) that a
// registry path can reach, then its key as written, then its values.
void PreparedBatch::prepare_entry(const PolicySource& source, std::size_t i, PreparedEntry& out) {
  const MonitoredEntry& entry = source.monitored[i];
  if (!parse_key_pattern(entry.key, source.control_set, pattern_, out.error)) return;
  out.ok = true;
  classes_root_user_places(pattern_, user_places_);
  out.first_place = static_cast<std::uint32_t>(places_.size());
  add_place(pattern_);
  for (const KeyPattern& place : user_places_) add_place(place);
  out.places = static_cast<std::uint32_t>(places_.size()) - out.first_place;
  const std::u16string key = utf8_to_utf16(entry.key).value_or(u"?");
  out.key = add_text(key);
  out.key_length = static_cast<std::uint32_t>(key.size());
  out.first_value = static_cast<std::uint32_t>(values_.size());
  for (const ValueRule& value : entry.values) add_value(value);
  out.values = static_cast<std::uint32_t>(values_.size()) - out.first_value;
}

void PreparedBatch::add_place(const KeyPattern& place) {
  if (!fits_the_registry(place)) return;
  places_.push_back({static_cast<std::uint32_t>(components_.size()),
                     static_cast<std::uint32_t>(place.components.size())});
  std::uint64_t place_hash = 0;
  for (const PatternComponent& c : place.components) {
    PreparedComponent p;
    p.kind = c.kind;
    p.count = c.count;
    p.length = static_cast<std::uint32_t>(c.text.size());
    p.display = add_text(c.text);
    p.folded = static_cast<std::uint32_t>(units_.size());
    units_.resize(units_.size() + c.text.size());
    fold_units(c.text, units_.data() + p.folded);
    p.hash = component_hash(text(p.folded, p.length));
    place_hash = MonitoredTree::place_hash(place_hash, {c.kind, c.count, {}, {}, p.hash, 0});
    p.place_hash = place_hash;
    components_.push_back(p);
  }
}

void PreparedBatch::add_value(const ValueRule& value) {
  PreparedValue v;
  const auto name16 = utf8_to_utf16(value.name);
  if (name16) {
    v.valid_utf8 = true;
    v.length = static_cast<std::uint32_t>(name16->size());
    v.name = add_text(*name16);
    v.folded = static_cast<std::uint32_t>(units_.size());
    units_.resize(units_.size() + name16->size());
    fold_units(*name16, units_.data() + v.folded);
    const std::u16string_view folded = text(v.folded, v.length);
    v.is_glob = folded.find_first_of(u"*?") != std::u16string_view::npos;
    v.name_hash = component_hash(*name16);
    v.folded_hash = component_hash(folded);
  }
  values_.push_back(v);
}

void PreparedBatch::place(const PreparedPlace& p, std::vector<HashedComponent>& out) const {
  out.clear();
  for (std::uint32_t k = 0; k < p.components; ++k) {
    const PreparedComponent& c = components_[p.first_component + k];
    out.push_back({c.kind, c.count, text(c.folded, c.length), text(c.display, c.length), c.hash,
                   c.place_hash});
  }
}

HashedValueName PreparedBatch::value(std::uint32_t i, bool& valid_utf8) const {
  const PreparedValue& v = values_[i];
  valid_utf8 = v.valid_utf8;
  return {text(v.name, v.length), v.name_hash, text(v.folded, v.length), v.folded_hash, v.is_glob};
}

}  // namespace hivewarden::policy
