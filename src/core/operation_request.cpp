#include "hivewarden/core/operation_request.hpp"

namespace hivewarden {
namespace {

// The rename target: the key's parent + the new name, canonical like any key (SPEC §6): a key
// renamed to CurrentControlSet right below SYSTEM is the active control set.
bool build_rename_target(const KeyPath& key, std::uint32_t control_set,
                         const OperationRequest& request, KeyPath& target) {
  if (key.count == 0) return false;
  copy_key_prefix(key, key.count - 1, target);
  const bool nul_allowed = key.native_form && !request.names_from_win32;
  if (append_component(target, request.new_name, nul_allowed) != PathStatus::kOk) return false;
  resolve_current_control_set(target, control_set);
  return true;
}

}  // namespace

void copy_key_prefix(const KeyPath& from, std::uint32_t count, KeyPath& to) {
  if (count > from.count) count = from.count;
  const std::uint32_t length =
      count == 0 ? 0 : from.components[count - 1].offset + from.components[count - 1].length;
  for (std::uint32_t i = 0; i < length; ++i) to.display[i] = from.display[i];
  for (std::uint32_t i = 0; i < count; ++i) to.components[i] = from.components[i];
  to.length = length;
  to.count = count;
  to.native_form = from.native_form;
}

void point_at_key(const KeyPath& key, std::uint32_t control_set, OperationKeys& keys,
                  OperationRequest& request) {
  request.key = &key;
  request.new_key = nullptr;
  if (request.op == Operation::kRenameKey &&
      build_rename_target(key, control_set, request, keys.new_key)) {
    request.new_key = &keys.new_key;
  }
}

PathStatus canonicalize_operation(std::u16string_view key_text, const CanonicalOptions& options,
                                  OperationKeys& keys, OperationRequest& request) {
  request.key = nullptr;
  request.new_key = nullptr;
  const PathStatus status = canonicalize_key(key_text, options, keys.key);
  if (status != PathStatus::kOk) return status;
  if (!keys.key.native_form) request.names_from_win32 = true;
  point_at_key(keys.key, options.control_set, keys, request);
  return PathStatus::kOk;
}

}  // namespace hivewarden
