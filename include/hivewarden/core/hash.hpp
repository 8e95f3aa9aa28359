// Hashes used by the compiled policy. They are part of the blob format: changing them changes
// the format version.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/case_fold.hpp"

namespace hivewarden {

// The hash of an already folded name component (64 bits), four UTF-16 units per step: unit k of
// a word in bits 16k..16k+15, the last word filled up with zero units, then the length and a
// final mix (MurmurHash3's fmix64) so that every bit, the low ones included, depends on every
// unit. One step is an xor, a multiplication and a rotation: a quarter of the dependent
// multiplications of FNV-1a per unit, which bounded canonicalisation (format 4). Canonicalisation
// hands it whole words of folded units, the policy compiler single units; both give
// component_hash.
class ComponentHasher {
 public:
  // Four units at once, the first in the low bits; only at a multiple of four units.
  constexpr void add_word(std::uint64_t units) {
    h_ = step(h_, units);
    length_ += 4;
  }
  constexpr void add_unit(char16_t unit) {
    pending_ |= static_cast<std::uint64_t>(unit) << (16 * (length_ % 4));
    if (++length_ % 4 == 0) {
      h_ = step(h_, pending_);
      pending_ = 0;
    }
  }
  constexpr std::uint64_t finish() const {
    std::uint64_t h = length_ % 4 != 0 ? step(h_, pending_) : h_;
    h ^= length_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
  }

 private:
  static constexpr std::uint64_t step(std::uint64_t h, std::uint64_t units) {
    h = (h ^ units) * 0x9fb21c651e98df25ull;
    return (h << 32) | (h >> 32);
  }
  std::uint64_t h_ = 0x243f6a8885a308d3ull;
  std::uint64_t pending_ = 0;
  std::uint64_t length_ = 0;
};

constexpr std::uint64_t component_hash(std::u16string_view folded) {
  ComponentHasher h;
  for (char16_t unit : folded) h.add_unit(unit);
  return h.finish();
}

// component_hash of `raw` folded (fold_unit), folding unit by unit: no folded copy needed.
inline std::uint64_t folded_component_hash(std::u16string_view raw) {
  ComponentHasher h;
  for (char16_t unit : raw) h.add_unit(fold_unit(unit));
  return h.finish();
}

// 32-bit FNV-1a over bytes: the blob's integrity checksum (catches corruption, not forgery).
// Given the checksum of the bytes before as `h`, it goes on over more: the compiler sums a blob
// piece by piece while it writes it.
inline constexpr std::uint32_t kChecksum32Start = 0x811c9dc5u;
constexpr std::uint32_t checksum32(const unsigned char* data, std::uint64_t size,
                                   std::uint32_t h = kChecksum32Start) {
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
