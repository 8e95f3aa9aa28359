// Registry operations (SPEC §1): their REG_NOTIFY_CLASS values and the rule bits they test.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/rules.hpp"

namespace hivewarden {

enum class Operation : std::uint8_t {
  kCreateKey,
  kDeleteKey,
  kSetValue,
  kDeleteValue,
  kRenameKey,
  kRestoreKey,
  kReplaceKey,
  kQueryValue,
};
inline constexpr int kOperationCount = 8;

// REG_NOTIFY_CLASS values used by WdFilter (SPEC §1).
namespace notify_class {
inline constexpr std::uint32_t kPreDeleteKey = 0x00;
inline constexpr std::uint32_t kPreSetValueKey = 0x01;
inline constexpr std::uint32_t kPreDeleteValueKey = 0x02;
inline constexpr std::uint32_t kPreRenameKey = 0x04;
inline constexpr std::uint32_t kPreQueryValueKey = 0x08;
inline constexpr std::uint32_t kPostDeleteKey = 0x0F;
inline constexpr std::uint32_t kPostSetValueKey = 0x10;
inline constexpr std::uint32_t kPostDeleteValueKey = 0x11;
inline constexpr std::uint32_t kPostRenameKey = 0x13;
inline constexpr std::uint32_t kPreCreateKeyEx = 0x1A;
inline constexpr std::uint32_t kPostCreateKeyEx = 0x1B;
inline constexpr std::uint32_t kPreRestoreKey = 0x29;
inline constexpr std::uint32_t kPostRestoreKey = 0x2A;
inline constexpr std::uint32_t kPreReplaceKey = 0x2D;
inline constexpr std::uint32_t kPostReplaceKey = 0x2E;
inline constexpr std::uint64_t kPreMask = 0x220000000017;
inline constexpr std::uint64_t kAllHandledMask = 0x66000C0B8017;
inline constexpr std::uint64_t kPostMask = 0x4400080B8000;
constexpr bool in_mask(std::uint64_t mask, std::uint32_t cls) {
  return cls < 64 && ((mask >> cls) & 1) != 0;
}
}  // namespace notify_class

struct OperationTraits {
  std::string_view name;
  std::uint32_t pre_class;
  std::uint32_t post_class;  // 0xFFFFFFFF: no post-operation handled
  Rules notify_bit;          // 0 for query-value
  Rules deny_bit;
  Rules capture_bit;  // old value captured for the notification
  bool matches_values;
};

inline constexpr std::uint32_t kNoPostClass = 0xFFFFFFFFu;

inline constexpr OperationTraits kOperationTraits[kOperationCount] = {
    {"create-key", notify_class::kPreCreateKeyEx, notify_class::kPostCreateKeyEx, rule::kCreateKey,
     rule::kCreateKeyDeny, 0, false},
    {"delete-key", notify_class::kPreDeleteKey, notify_class::kPostDeleteKey, rule::kDeleteKey,
     rule::kDeleteDeny, 0, false},
    {"set-value", notify_class::kPreSetValueKey, notify_class::kPostSetValueKey, rule::kSetValue,
     rule::kSetValueDeny, rule::kSetValueCapture, true},
    {"delete-value", notify_class::kPreDeleteValueKey, notify_class::kPostDeleteValueKey,
     rule::kDeleteValue, rule::kDeleteDeny, rule::kDeleteValueCapture, true},
    {"rename-key", notify_class::kPreRenameKey, notify_class::kPostRenameKey, rule::kRenameKey,
     rule::kRenameKeyDeny, 0, false},
    {"restore-key", notify_class::kPreRestoreKey, notify_class::kPostRestoreKey, rule::kRestoreKey,
     rule::kRestoreKeyDeny, 0, false},
    {"replace-key", notify_class::kPreReplaceKey, notify_class::kPostReplaceKey, rule::kReplaceKey,
     rule::kReplaceKeyDeny, 0, false},
    {"query-value", notify_class::kPreQueryValueKey, kNoPostClass, 0, 0, 0, false},
};

constexpr const OperationTraits& traits(Operation op) {
  return kOperationTraits[static_cast<int>(op)];
}

// Parses an operation name of SPEC §1 ("set-value"...); false when unknown.
constexpr bool operation_by_name(std::string_view name, Operation& op) {
  for (int i = 0; i < kOperationCount; ++i) {
    if (kOperationTraits[i].name == name) {
      op = static_cast<Operation>(i);
      return true;
    }
  }
  return false;
}

// Maps a pre-operation REG_NOTIFY_CLASS to its operation; false for classes hivewarden ignores.
constexpr bool operation_by_pre_class(std::uint32_t cls, Operation& op) {
  for (int i = 0; i < kOperationCount; ++i) {
    if (kOperationTraits[i].pre_class == cls) {
      op = static_cast<Operation>(i);
      return true;
    }
  }
  return false;
}

// Maps a post-operation REG_NOTIFY_CLASS to its operation; false for classes hivewarden ignores.
constexpr bool operation_by_post_class(std::uint32_t cls, Operation& op) {
  for (int i = 0; i < kOperationCount; ++i) {
    if (kOperationTraits[i].post_class == cls) {
      op = static_cast<Operation>(i);
      return true;
    }
  }
  return false;
}

}  // namespace hivewarden
