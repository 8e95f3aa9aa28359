// One registry callback (REG_NOTIFY_CLASS + its REG_*_INFORMATION) as a core operation. Shared by
// the Windows driver and the Linux tests; no Windows header needed.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/operation.hpp"
#include "hivewarden/win/reg_structs.hpp"

namespace hivewarden::win {

// What the translation needs from the kernel: the full kernel-form name of a key object
// (CmCallbackGetKeyObjectIDEx in the driver), and whether a key exists (create vs open).
struct KeySource {
  bool (*name_of)(void* context, void* object, std::u16string_view& name) = nullptr;
  bool (*exists)(void* context, std::u16string_view full_name) = nullptr;
  void* context = nullptr;
};

struct Translation {
  Operation op = Operation::kCreateKey;
  bool post = false;
  std::u16string_view key, value, new_name;  // key may point into the caller's buffer
  bool key_exists = false;
  std::uint32_t value_type = 0;  // set-value: the new data
  const void* data = nullptr;
  std::uint32_t data_size = 0;
  bool success = false;  // post: the operation succeeded
};

enum class TranslateStatus : std::uint8_t {
  kOk,
  kIgnored,      // a class hivewarden does not handle
  kNoName,       // the key object's name could not be had: the caller fails closed
  kBadArgument,  // a null or malformed structure
  kTooLong,      // the composed name does not fit the buffer
};

// Translates a pre-operation. `buffer` (buffer_units UTF-16 units) holds composed names (a
// create relative to its root).
TranslateStatus translate_pre(std::uint32_t notify_class, const void* argument2, const KeySource& keys,
                              char16_t* buffer, std::uint32_t buffer_units, Translation& out);

// Translates a post-operation (REG_POST_OPERATION_INFORMATION): its operation and outcome.
TranslateStatus translate_post(std::uint32_t notify_class, const void* argument2, Translation& out);

// A UNICODE_STRING as a view (Length is in bytes; an odd length drops its last byte).
std::u16string_view view_of(const UnicodeString* s);

}  // namespace hivewarden::win
