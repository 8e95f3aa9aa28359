// The blob's string pool while it is being written: every distinct UTF-16 string stored once,
// so equal strings get equal StrRefs (the compiler keys its tables on them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/core/policy_format.hpp"

namespace hivewarden::policy {

class StringPool {
 public:
  StringPool();
  blob::StrRef add(std::u16string_view s);
  // The same, with component_hash(s) already known (the compiler's workers compute it).
  blob::StrRef add(std::u16string_view s, std::uint64_t component_hash_of_s);
  blob::StrRef add_utf8(std::string_view s);  // "?" when not UTF-8 (the loader checks first)
  // Stores a string that is seldom repeated (an entry's key as written) without looking for an
  // earlier copy: hashing a million long texts costs more than the few repeats would save.
  blob::StrRef append_utf8(std::string_view s);
  blob::StrRef append(std::u16string_view s);
  std::u16string_view view(blob::StrRef ref) const {
    return {units_.data() + ref.offset, ref.length};
  }
  const std::vector<char16_t>& units() const { return units_; }
  void reserve_units(std::size_t units) { units_.reserve(units); }
  // Room for about `strings` distinct strings without growing the table.
  void reserve_strings(std::size_t strings);

 private:
  void grow();

  std::vector<char16_t> units_;
  // Open addressing, each slot holding the string's place and hash: a flat table, because the
  // compiler interns millions of names, and a lookup should cost one cache miss for the slot
  // and one for the text it compares.
  struct Slot {
    blob::StrRef ref;
    std::uint32_t hash;
    std::uint32_t used;
  };
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace hivewarden::policy
