// Bit values of SPEC.md §2 (key rules) and §3 (process flags and rules). The only place they live.
#pragma once

#include <cstdint>
#include <string_view>

namespace hivewarden {

// Rule bits carried by a monitored entry for one client (SPEC §2).
using Rules = std::uint32_t;

namespace rule {
inline constexpr Rules kCreateKey = 0x000001;
inline constexpr Rules kRenameKey = 0x000004;
inline constexpr Rules kDeleteKey = 0x000010;
inline constexpr Rules kSetValue = 0x000100;
inline constexpr Rules kSetValueCapture = 0x000400;
inline constexpr Rules kDeleteValue = 0x000800;
inline constexpr Rules kDeleteValueCapture = 0x002000;
inline constexpr Rules kRestoreKey = 0x004000;
inline constexpr Rules kReplaceKey = 0x008000;
inline constexpr Rules kCreateKeyDeny = 0x010000;
inline constexpr Rules kRenameKeyDeny = 0x020000;
inline constexpr Rules kDeleteDeny = 0x040000;  // key delete AND value delete, one bit
inline constexpr Rules kSetValueDeny = 0x080000;
inline constexpr Rules kReplaceKeyDeny = 0x100000;
inline constexpr Rules kRestoreKeyDeny = 0x200000;
inline constexpr Rules kTamperProtection = 0x400000;
inline constexpr Rules kAll = 0x7FED15;  // every bit above
}  // namespace rule

// Process flags (SPEC §3). The write-up gives values for excluded, service-sid and friendly;
// the others are hivewarden's own bits, outside the range WdFilter uses.
using ProcessFlags = std::uint32_t;
namespace process_flag {
inline constexpr ProcessFlags kExcluded = 0x1;
inline constexpr ProcessFlags kSeces = 0x2;
inline constexpr ProcessFlags kServiceSid = 0x10;
inline constexpr ProcessFlags kFriendly = 0x20;
inline constexpr ProcessFlags kSystem = 0x10000000;
inline constexpr ProcessFlags kAvService = 0x20000000;
inline constexpr ProcessFlags kAll = 0x30000033;
}  // namespace process_flag

// Process rules (SPEC §3).
using ProcessRules = std::uint32_t;
namespace process_rule {
inline constexpr ProcessRules kAllowAllRegistry = 0x400;
inline constexpr ProcessRules kNotifySync = 0x200000;
inline constexpr ProcessRules kAll = 0x200400;
}  // namespace process_rule

// A name as written in policies and output, with its bit.
struct NamedBit {
  std::string_view name;
  std::uint32_t bit;
};

inline constexpr NamedBit kRuleNames[] = {
    {"create-key", rule::kCreateKey},
    {"rename-key", rule::kRenameKey},
    {"delete-key", rule::kDeleteKey},
    {"set-value", rule::kSetValue},
    {"set-value-capture", rule::kSetValueCapture},
    {"delete-value", rule::kDeleteValue},
    {"delete-value-capture", rule::kDeleteValueCapture},
    {"restore-key", rule::kRestoreKey},
    {"replace-key", rule::kReplaceKey},
    {"create-key-deny", rule::kCreateKeyDeny},
    {"rename-key-deny", rule::kRenameKeyDeny},
    {"delete-deny", rule::kDeleteDeny},
    {"set-value-deny", rule::kSetValueDeny},
    {"replace-key-deny", rule::kReplaceKeyDeny},
    {"restore-key-deny", rule::kRestoreKeyDeny},
    {"tamper-protection", rule::kTamperProtection},
};

inline constexpr NamedBit kProcessFlagNames[] = {
    {"system", process_flag::kSystem},     {"av-service", process_flag::kAvService},
    {"excluded", process_flag::kExcluded}, {"service-sid", process_flag::kServiceSid},
    {"friendly", process_flag::kFriendly}, {"seces", process_flag::kSeces},
};

inline constexpr NamedBit kProcessRuleNames[] = {
    {"allow-all-registry", process_rule::kAllowAllRegistry},
    {"notify-sync", process_rule::kNotifySync},
};

// Looks a name up in a table; returns false when the name is not there.
template <std::size_t N>
constexpr bool bit_by_name(const NamedBit (&table)[N], std::string_view name, std::uint32_t& bit) {
  for (const NamedBit& entry : table) {
    if (entry.name == name) {
      bit = entry.bit;
      return true;
    }
  }
  return false;
}

}  // namespace hivewarden

namespace hivewarden {
// The "every bit" masks must be exactly the named bits.
template <std::size_t N>
constexpr std::uint32_t union_of(const NamedBit (&table)[N]) {
  std::uint32_t bits = 0;
  for (const NamedBit& entry : table) bits |= entry.bit;
  return bits;
}
static_assert(union_of(kRuleNames) == rule::kAll);
static_assert(union_of(kProcessFlagNames) == process_flag::kAll);
static_assert(union_of(kProcessRuleNames) == process_rule::kAll);
}  // namespace hivewarden
