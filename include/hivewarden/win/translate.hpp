// One registry callback (REG_NOTIFY_CLASS + its REG_*_INFORMATION) as the core's one operation
// type: translate_pre fills an OperationRequest directly and canonicalises the kernel's key name
// once, into OperationKeys the caller provides. Shared by the Windows driver and the Linux tests;
// no Windows header needed.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/win/reg_structs.hpp"

namespace hivewarden::win {

// What the translation needs from the kernel: the full kernel-form name of a key object
// (CmCallbackGetKeyObjectIDEx in the driver), and whether a key exists (create vs open). Without
// `exists`, a create is taken as a new key.
struct KeySource {
  bool (*name_of)(void* context, void* object, std::u16string_view& name) = nullptr;
  bool (*exists)(void* context, std::u16string_view full_name) = nullptr;
  void* context = nullptr;
};

// The caller's memory for one translation (about 210 KiB: one per thread or slot, not per call).
struct TranslateScratch {
  char16_t composed[kMaxPathUnits];  // a create's root + relative name
  OperationKeys keys;                // the request's canonical key and rename target
};

enum class TranslateStatus : std::uint8_t {
  kOk,           // the request can be decided (an invalid name is left null: the engine denies it)
  kIgnored,      // a class hivewarden does not handle
  kNoName,       // the key object's name could not be had: the caller fails closed
  kBadArgument,  // a null or malformed structure
  kTooLong,      // the composed name is longer than any registry name can be
  kUnknownRoot,  // the name is not under a root hivewarden knows (\REGISTRY\MACHINE, \USER)
};

// Translates a pre-operation into `out` (its op, key, value, new name, data, create flags);
// `out.key` and `out.new_key` point into scratch.keys. The process and thread are the caller's
// to fill. Anything but kOk leaves a request that must not be decided.
TranslateStatus translate_pre(std::uint32_t notify_class, const void* argument2,
                              const KeySource& keys, const CanonicalOptions& options,
                              TranslateScratch& scratch, OperationRequest& out);

// What a post-operation (REG_POST_OPERATION_INFORMATION) says: which operation, whether it
// happened, and the CallContext its pre-operation left (Windows copies the pre structure's
// CallContext field into the post's: that, not the thread, pairs a post with its pre).
struct PostOperation {
  Operation op = Operation::kCreateKey;
  bool success = false;  // Status == STATUS_SUCCESS exactly: STATUS_REPARSE and friends are not
  void* call_context = nullptr;
};

TranslateStatus translate_post(std::uint32_t notify_class, const void* argument2,
                               PostOperation& out);

// The CallContext field of a SPEC §1 pre-operation's structure (null for any other class or a
// null structure): the driver stores its per-call context there for the post-operation.
void** call_context_field(std::uint32_t notify_class, void* argument2);

// The key object a SPEC §1 pre-operation names (a create's root object when its name is
// relative; null for an absolute create, another class, or a null structure).
void* key_object(std::uint32_t notify_class, const void* argument2);

// A UNICODE_STRING as a view (Length is in bytes; an odd length drops its last byte).
std::u16string_view view_of(const UnicodeString* s);

}  // namespace hivewarden::win
