// Hashes used by the compiled policy. They are part of the blob format: changing them changes
// the format version.
#pragma once

#include <cstdint>
#include <string_view>

namespace hivewarden {

// 64-bit FNV-1a over the UTF-16 units of an already folded name component, fed a unit or four at
// a time: canonicalisation hands it whole 64-bit words of folded units (unit k of a word in bits
// 16k..16k+15), the policy compiler single units; both give component_hash.
class ComponentHasher {
 public:
  constexpr void add_unit(char16_t unit) {
    h_ ^= static_cast<std::uint64_t>(unit);
    h_ *= 0x100000001b3ull;
  }
  // Four units at once, the first in the low bits.
  constexpr void add_word(std::uint64_t units) {
    for (int k = 0; k < 4; ++k) add_unit(static_cast<char16_t>(units >> (16 * k)));
  }
  constexpr std::uint64_t finish() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ull;
};

constexpr std::uint64_t component_hash(std::u16string_view folded) {
  ComponentHasher h;
  for (char16_t unit : folded) h.add_unit(unit);
  return h.finish();
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
