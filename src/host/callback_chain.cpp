#include "hivewarden/host/callback_chain.hpp"

#include <algorithm>

namespace hivewarden::host {

std::uint64_t CallbackChain::add(std::uint32_t altitude, RegistryCallback callback) {
  std::unique_lock lock(mutex_);
  auto next = std::make_shared<Snapshot>(callbacks_ ? *callbacks_ : Snapshot{});
  const std::uint64_t cookie = next_cookie_++;
  next->entries.push_back({altitude, cookie, std::move(callback)});
  std::stable_sort(
      next->entries.begin(), next->entries.end(),
      [](const Snapshot::Entry& a, const Snapshot::Entry& b) { return a.altitude > b.altitude; });
  callbacks_ = std::move(next);
  return cookie;
}

bool CallbackChain::remove(std::uint64_t cookie) {
  std::unique_lock lock(mutex_);
  if (!callbacks_) return false;
  auto next = std::make_shared<Snapshot>(*callbacks_);
  const auto before = next->entries.size();
  std::erase_if(next->entries, [&](const Snapshot::Entry& e) { return e.cookie == cookie; });
  const bool removed = next->entries.size() != before;
  callbacks_ = std::move(next);
  return removed;
}

std::shared_ptr<const CallbackChain::Snapshot> CallbackChain::snapshot() const {
  std::shared_lock lock(mutex_);
  return callbacks_ ? callbacks_ : std::make_shared<const Snapshot>();
}

Status CallbackChain::pre(const Snapshot& s, std::uint32_t cls, const OperationArgs& args,
                          std::size_t& called) {
  called = 0;
  for (const auto& e : s.entries) {
    ++called;
    const Status st = e.callback(cls, args);
    if (st != Status::kSuccess) return st;
  }
  return Status::kSuccess;
}

void CallbackChain::post(const Snapshot& s, std::uint32_t cls, const OperationArgs& args,
                         std::size_t called) {
  for (std::size_t i = called; i-- > 0;) s.entries[i].callback(cls, args);
}

Status apply(Registry& registry, const CallbackChain& chain, const HostOperation& op) {
  const OperationTraits& t = traits(op.op);
  std::u16string key;
  bool exists = false;
  Status st = registry.resolve(op.key, key, exists, op.open_link);
  if (st != Status::kSuccess) return st;
  if (!exists && op.op != Operation::kCreateKey) return Status::kObjectNameNotFound;
  Value old;
  const bool value_op = op.op == Operation::kSetValue || op.op == Operation::kDeleteValue;
  const bool had_old = value_op && registry.query_value(key, op.value, old) == Status::kSuccess;

  OperationArgs args;
  args.op = op.op;
  args.key = key;
  args.value = op.value;
  args.new_name = op.new_name;
  args.type = op.type;
  args.data = op.data;
  args.key_exists = exists;
  args.create_link = op.create_link;
  args.old_value = had_old ? &old : nullptr;
  args.image = op.image;
  args.pid = op.pid;
  args.flags = op.flags;
  args.rules = op.rules;
  args.win32_names = op.win32_names;
  args.thread = op.thread;

  const auto callbacks = chain.snapshot();
  std::size_t called = 0;
  st = CallbackChain::pre(*callbacks, t.pre_class, args, called);
  if (st == Status::kSuccess && op.fails) {
    st = Status::kUnsuccessful;
  } else if (st == Status::kSuccess) {
    bool created = false;
    switch (op.op) {
      case Operation::kCreateKey:
        st = registry.create_key(key, created, op.create_link);
        break;
      case Operation::kDeleteKey:
        st = registry.delete_key(key);
        break;
      case Operation::kSetValue:
        st = registry.set_value(key, op.value, op.type, op.data);
        break;
      case Operation::kDeleteValue:
        st = registry.delete_value(key, op.value);
        break;
      case Operation::kRenameKey:
        st = registry.rename_key(key, op.new_name);
        break;
      case Operation::kRestoreKey:
      case Operation::kReplaceKey:
        st = op.saved == nullptr ? Status::kInvalidParameter : registry.restore_key(key, *op.saved);
        break;
      case Operation::kQueryValue:
        st = registry.query_value(key, op.value, old);
        break;
    }
  }
  if (t.post_class != kNoPostClass) {
    args.status = st;
    CallbackChain::post(*callbacks, t.post_class, args, called);
  }
  return st;
}

}  // namespace hivewarden::host
