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

Status CallbackChain::pre(const Snapshot& s, std::uint32_t cls, OperationCall& call,
                          std::size_t& called) {
  called = 0;
  for (const auto& e : s.entries) {
    ++called;
    const Status st = e.callback(cls, call);
    if (st != Status::kSuccess) return st;
  }
  return Status::kSuccess;
}

void CallbackChain::post(const Snapshot& s, std::uint32_t cls, OperationCall& call,
                         std::size_t called) {
  for (std::size_t i = called; i-- > 0;) s.entries[i].callback(cls, call);
}

}  // namespace hivewarden::host
