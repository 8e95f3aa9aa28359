#include "hivewarden/host/apply.hpp"

#include <memory>
#include <string>

namespace hivewarden::host {
namespace {

// Canonical keys the host makes itself: a level of a path being created, a link's target (and a
// rename's target below it). Large, so made only for an operation that needs them.
struct HostKeys {
  KeyPath level;
  OperationKeys target;
};

// The key `path` (kernel form, links resolved) names, canonicalised once into keys.target, in
// `request` in place of the key the caller named. A target no name can have is left null: the
// engine denies it (invalid-name), failing closed.
void point_at_target(std::u16string_view path, std::uint32_t control_set,
                     std::unique_ptr<HostKeys>& keys, OperationRequest& request) {
  if (!keys) keys.reset(new HostKeys);  // not value-initialised: 420 KiB need no zeroing
  request.key = nullptr;
  request.new_key = nullptr;
  if (canonicalize_key(path, {control_set, {}}, keys->target.key) != PathStatus::kOk) return;
  point_at_key(keys->target.key, control_set, keys->target, request);
}

// The registry's own operation on the key at `path` (links resolved).
Status operate(Registry& registry, const OperationRequest& request, const KeyRef& path,
               const HostInputs& inputs, Value& queried) {
  bool created = false;
  switch (request.op) {
    case Operation::kCreateKey:
      return registry.create_key(path, created, request.creates_link);
    case Operation::kDeleteKey:
      return registry.delete_key(path);
    case Operation::kSetValue:
      return registry.set_value(path, request.value, request.type, request.data);
    case Operation::kDeleteValue:
      return registry.delete_value(path, request.value);
    case Operation::kRenameKey:
      return registry.rename_key(path, request.new_name);
    case Operation::kRestoreKey:
    case Operation::kReplaceKey:
      return inputs.saved == nullptr ? Status::kInvalidParameter
                                     : registry.restore_key(path, *inputs.saved);
    case Operation::kQueryValue:
      return registry.query_value(path, request.value, queried);
  }
  return Status::kInvalidParameter;
}

// The pre-callbacks, the operation (when they let it through), the post-callbacks.
Applied call_around(Registry& registry, const CallbackChain& chain, OperationCall& call,
                    const KeyRef* path, const HostInputs& inputs, Value& old) {
  const OperationTraits& t = traits(call.request.op);
  const auto callbacks = chain.snapshot();
  std::size_t called = 0;
  Status st = CallbackChain::pre(*callbacks, t.pre_class, call, called);
  if (st == Status::kSuccess && inputs.fails) {
    st = Status::kUnsuccessful;
  } else if (st == Status::kSuccess) {
    st = path == nullptr ? Status::kObjectNameInvalid
                         : operate(registry, call.request, *path, inputs, old);
  }
  if (t.post_class != kNoPostClass) {
    call.status = st;
    CallbackChain::post(*callbacks, t.post_class, call, called);
  }
  return {st, std::move(call.decision)};
}

// One operation on one key: resolve links and read the value before (one walk, one shared lock),
// call around the operation, which takes the key the resolve found unless the tree changed since.
Applied apply_one(Registry& registry, const CallbackChain& chain, const OperationRequest& request,
                  const HostInputs& inputs, std::unique_ptr<HostKeys>& keys) {
  OperationRequest seen = request;  // as the callbacks see it: links resolved, existence known
  Value old;
  if (request.key == nullptr) {
    OperationCall call(seen);
    return call_around(registry, chain, call, nullptr, inputs, old);
  }
  const bool value_op = request.op == Operation::kSetValue || request.op == Operation::kDeleteValue;
  ValueRead before{request.value, &old};
  Resolved resolved;
  const Status st = registry.resolve(request.key->text(), resolved, request.open_link,
                                     value_op ? &before : nullptr);
  if (st != Status::kSuccess) return {st, {}};
  if (!resolved.exists && request.op != Operation::kCreateKey)
    return {Status::kObjectNameNotFound, {}};
  if (resolved.followed_link) point_at_target(resolved.key.path(), inputs.control_set, keys, seen);
  seen.key_exists = resolved.exists;
  OperationCall call(seen);
  if (before.found) call.old_value = &old;
  return call_around(registry, chain, call, &resolved.key, inputs, old);
}

// A create-key of a missing key: each missing level is its own create-key, as RegCreateKeyEx
// makes them, until one fails (a denial stops the walk, so its decision is the one returned).
// Each level's key is a prefix of the canonical key, not a name canonicalised again.
Applied create_level_by_level(Registry& registry, const CallbackChain& chain,
                              const OperationRequest& request, const HostInputs& inputs,
                              std::unique_ptr<HostKeys>& keys) {
  const KeyPath& full = *request.key;
  if (!keys) keys.reset(new HostKeys);  // not value-initialised: 420 KiB need no zeroing
  OperationRequest level = request;
  level.key = &keys->level;
  Applied result;
  bool may_exist = true;  // once a level is missing, every level below it is too
  for (std::uint32_t count = 1; count <= full.count; ++count) {
    const bool last = count == full.count;
    if (!last && may_exist) {
      const PathComponent& c = full.components[count - 1];
      may_exist = registry.key_exists(full.text().substr(0, c.offset + c.length));
      if (may_exist) continue;
    }
    copy_key_prefix(full, count, keys->level);
    level.creates_link = request.creates_link && last;  // only the last level is the link
    result = apply_one(registry, chain, level, inputs, keys);
    if (result.status != Status::kSuccess) break;
  }
  return result;
}

}  // namespace

Applied apply(Registry& registry, const CallbackChain& chain, const OperationRequest& request,
              const HostInputs& inputs) {
  std::unique_ptr<HostKeys> keys;
  if (request.op == Operation::kCreateKey && request.key != nullptr &&
      !registry.key_exists(request.key->text())) {
    return create_level_by_level(registry, chain, request, inputs, keys);
  }
  return apply_one(registry, chain, request, inputs, keys);
}

}  // namespace hivewarden::host
