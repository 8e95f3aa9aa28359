#include "string_pool.hpp"

#include "hivewarden/core/hash.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {
StringPool::StringPool() : slots_(1024) {}

blob::StrRef StringPool::add(std::u16string_view s) {
  return add(s, component_hash(s));
}

blob::StrRef StringPool::add(std::u16string_view s, std::uint64_t full) {
  const auto hash = static_cast<std::uint32_t>(full ^ (full >> 32));
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  for (; slots_[i].used != 0; i = (i + 1) & mask) {
    if (slots_[i].hash == hash && view(slots_[i].ref) == s) return slots_[i].ref;
  }
  const blob::StrRef ref{static_cast<std::uint32_t>(units_.size()),
                         static_cast<std::uint32_t>(s.size())};
  units_.insert(units_.end(), s.begin(), s.end());
  slots_[i] = {ref, hash, 1};
  if (++count_ * 2 > slots_.size()) grow();
  return ref;
}

blob::StrRef StringPool::add_utf8(std::string_view s) {
  return add(utf8_to_utf16(s).value_or(u"?"));
}

blob::StrRef StringPool::append_utf8(std::string_view s) {
  return append(utf8_to_utf16(s).value_or(u"?"));
}

blob::StrRef StringPool::append(std::u16string_view text) {
  const blob::StrRef ref{static_cast<std::uint32_t>(units_.size()),
                         static_cast<std::uint32_t>(text.size())};
  units_.insert(units_.end(), text.begin(), text.end());
  return ref;
}

void StringPool::reserve_strings(std::size_t strings) {
  while (slots_.size() < strings * 2) grow();
}

void StringPool::grow() {
  std::vector<Slot> slots(slots_.size() * 2);
  const std::size_t mask = slots.size() - 1;
  for (const Slot& slot : slots_) {
    if (slot.used == 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots[i].used != 0) i = (i + 1) & mask;
    slots[i] = slot;
  }
  slots_.swap(slots);
}

}  // namespace hivewarden::policy
