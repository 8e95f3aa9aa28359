#include "string_pool.hpp"

#include "hivewarden/core/hash.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {
namespace {
constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
}

StringPool::StringPool() : slots_(1024, kEmpty) {}

blob::StrRef StringPool::add(std::u16string_view s) {
  const std::uint64_t hash = component_hash(s);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const std::uint32_t index = slots_[i];
    if (index == kEmpty) break;
    if (hashes_[index] == hash && view(refs_[index]) == s) return refs_[index];
  }
  const blob::StrRef ref{static_cast<std::uint32_t>(units_.size()),
                         static_cast<std::uint32_t>(s.size())};
  units_.insert(units_.end(), s.begin(), s.end());
  refs_.push_back(ref);
  hashes_.push_back(hash);
  if (refs_.size() * 2 > slots_.size()) {
    grow();
  } else {
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots_[i] == kEmpty) {
        slots_[i] = static_cast<std::uint32_t>(refs_.size() - 1);
        break;
      }
    }
  }
  return ref;
}

blob::StrRef StringPool::add_utf8(std::string_view s) {
  return add(utf8_to_utf16(s).value_or(u"?"));
}

void StringPool::grow() {
  std::vector<std::uint32_t> slots(slots_.size() * 2, kEmpty);
  const std::size_t mask = slots.size() - 1;
  for (std::uint32_t index = 0; index < refs_.size(); ++index) {
    std::size_t i = hashes_[index] & mask;
    while (slots[i] != kEmpty) i = (i + 1) & mask;
    slots[i] = index;
  }
  slots_.swap(slots);
}

}  // namespace hivewarden::policy
