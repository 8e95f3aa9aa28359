// Hashes used by the compiled policy. They are part of the blob format: changing them changes
// the format version.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/case_fold.hpp"

namespace hivewarden {

// 64-bit FNV-1a over the UTF-16 units of an already folded name component.
constexpr std::uint64_t component_hash(std::u16string_view folded) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char16_t unit : folded) {
    h ^= static_cast<std::uint64_t>(unit);
    h *= 0x100000001b3ull;
  }
  return h;
}

// component_hash of `raw` folded (fold_unit), folding unit by unit: no folded copy needed.
inline std::uint64_t folded_component_hash(std::u16string_view raw) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char16_t unit : raw) {
    h ^= static_cast<std::uint64_t>(fold_unit(unit));
    h *= 0x100000001b3ull;
  }
  return h;
}

// 32-bit FNV-1a over bytes: the blob's integrity checksum (catches corruption, not forgery).
constexpr std::uint32_t checksum32(const unsigned char* data, std::uint64_t size) {
  std::uint32_t h = 0x811c9dc5u;
  for (std::uint64_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x01000193u;
  }
  return h;
}

// The 16-byte client hash of SPEC §8: 128-bit FNV-1a over the client name's UTF-8 bytes,
// written little-endian.
struct ClientHash {
  unsigned char bytes[16];
};
ClientHash client_hash(std::string_view utf8_name);

}  // namespace hivewarden
