// One registry operation as every host gives it to the engine (SPEC §1, §9, §10): filled once by
// the host that has it (the CLI's reader, the in-memory registry, replay, the driver's
// translation), with its key already canonical. Views only: the host owns the strings.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {

// The process performing an operation, as the host knows it. Flags and rules given here are
// added to what the policy assigns by image path.
struct ProcessIdentity {
  std::u16string_view image;  // full image path, or "System"
  std::uint32_t pid = 0;
  std::uint64_t creation_time = 0;
  std::uint32_t session_id = 0;
  ProcessFlags extra_flags = 0;
  ProcessRules extra_rules = 0;
  std::u16string_view user_sid;  // the SID HKCU means
};

struct OperationRequest {
  Operation op = Operation::kCreateKey;
  // The key, canonical: made by canonicalize_operation (once, by the host). Null when the name
  // is invalid (SPEC §9): the engine denies it, invalid-name.
  const KeyPath* key = nullptr;
  // rename-key: the target (the key's parent + new_name), canonical like the key; null when the
  // new name is invalid.
  const KeyPath* new_key = nullptr;
  std::u16string_view value;     // value operations
  std::u16string_view new_name;  // rename-key: the new last component, as given
  // set-value: the new data as the registry stores it (little-endian numbers, UTF-16LE strings).
  bool has_data = false;
  std::uint32_t type = 0;
  std::string_view data;
  // set-value: the type is known but not the bytes (a Sysmon log says only `Binary Data`): the
  // `details` and `data|type` conditions still hold as on Windows, tests on the bytes fail.
  bool data_bytes_unknown = false;
  std::u16string_view file;  // restore-key / replace-key: the file the subtree comes from
  bool key_exists = false;   // create-key: the key is already there (an open)
  // The caller named the key in Win32 form (a host rewrote it to the kernel form): Win32 names
  // end at NUL, so a NUL in the value or new name is malformed (SPEC §9).
  bool names_from_win32 = false;
  // create-key: the new key is a symbolic link (REG_OPTION_CREATE_LINK). A link redirects
  // everything at and below its name, so it is decided like moving a subtree there.
  bool creates_link = false;
  // Act on a link key itself, not on its target (REG_OPTION_OPEN_LINK): the host resolves links.
  bool open_link = false;
  ProcessIdentity process;
  std::uint64_t thread_id = 0;
};

// Where a host keeps an operation's canonical keys (about 145 KiB: one per thread, not per call).
struct OperationKeys {
  KeyPath key;
  KeyPath new_key;
};

// Canonicalises `key_text` (and, for a rename, the target: the parent + request.new_name) into
// `keys` and points request.key / request.new_key at them. kOk and kInvalidName give a request
// the engine can decide (an invalid name is left null and denied); kUnknownRoot and kNeedsUserSid
// do not: the operation cannot be named, an input error. Marks names_from_win32 when the key was
// given in Win32 form.
PathStatus canonicalize_operation(std::u16string_view key_text, const CanonicalOptions& options,
                                  OperationKeys& keys, OperationRequest& request);

// Points request.key at `key` and builds a rename's target from it into keys.new_key, for a host
// that already has the key canonical (a level of a path, a link's target).
void point_at_key(const KeyPath& key, std::uint32_t control_set, OperationKeys& keys,
                  OperationRequest& request);

// Copies the first `count` components of `from` into `to` (a parent or an ancestor of a key).
void copy_key_prefix(const KeyPath& from, std::uint32_t count, KeyPath& to);

}  // namespace hivewarden
