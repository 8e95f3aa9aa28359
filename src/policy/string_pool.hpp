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
  blob::StrRef add_utf8(std::string_view s);  // "?" when not UTF-8 (the loader checks first)
  std::u16string_view view(blob::StrRef ref) const {
    return {units_.data() + ref.offset, ref.length};
  }
  const std::vector<char16_t>& units() const { return units_; }

 private:
  void grow();

  std::vector<char16_t> units_;
  // Open addressing over refs_ indices (kEmpty when free); a flat table, because the compiler
  // interns millions of names and a node-based map spends most of its time allocating.
  std::vector<std::uint32_t> slots_;
  std::vector<blob::StrRef> refs_;
  std::vector<std::uint64_t> hashes_;
};

}  // namespace hivewarden::policy
