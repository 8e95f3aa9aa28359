#include "hivewarden/core/hash.hpp"

namespace hivewarden {
namespace {

// A 128-bit unsigned number as two halves: no compiler extension, so kernel builds share it.
struct U128 {
  std::uint64_t hi, lo;
};

// x * (2^88 + 0x13b) mod 2^128: the FNV-128 prime.
U128 times_fnv_prime(U128 x) {
  const std::uint64_t k = 0x13b;
  const std::uint64_t low_part = (x.lo & 0xFFFFFFFFull) * k;
  const std::uint64_t high_part = (x.lo >> 32) * k;
  const std::uint64_t lo = low_part + (high_part << 32);
  const std::uint64_t carry = (high_part >> 32) + (lo < low_part ? 1 : 0);
  const std::uint64_t hi = x.hi * k + carry + (x.lo << 24);  // + x * 2^88
  return {hi, lo};
}

}  // namespace

ClientHash client_hash(std::string_view utf8_name) {
  U128 h{0x6c62272e07bb0142ull, 0x62b821756295c58dull};  // FNV-128 offset basis
  for (char c : utf8_name) {
    h.lo ^= static_cast<unsigned char>(c);
    h = times_fnv_prime(h);
  }
  ClientHash out{};
  for (int i = 0; i < 8; ++i) {
    out.bytes[i] = static_cast<unsigned char>(h.lo >> (8 * i));
    out.bytes[8 + i] = static_cast<unsigned char>(h.hi >> (8 * i));
  }
  return out;
}

}  // namespace hivewarden
