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

// The caller's memory for one translation (about 350 KiB: one per thread or slot, not per call).
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
// happened, and the pre-operation's structure (translate it with its pre class for the names).
struct PostOperation {
  Operation op = Operation::kCreateKey;
  bool success = false;  // NT_SUCCESS(Status): only then did the operation happen
  const void* pre_information = nullptr;
};

TranslateStatus translate_post(std::uint32_t notify_class, const void* argument2,
                               PostOperation& out);

// The request of an operation that happened, for its record: the post's pre-information
// translated again (the driver keeps no names between pre and post; SPEC §11's capture in the
// pre-operation is to come). A create is not asked whether it exists (it does now). A renamed
// key's object already answers to its new name, so a rename keeps only its target (new_key)
// and leaves `key` null rather than report the new name as the old one.
TranslateStatus translate_completed(const PostOperation& post, const KeySource& keys,
                                    const CanonicalOptions& options, TranslateScratch& scratch,
                                    OperationRequest& out);

// A UNICODE_STRING as a view (Length is in bytes; an odd length drops its last byte).
std::u16string_view view_of(const UnicodeString* s);

}  // namespace hivewarden::win
