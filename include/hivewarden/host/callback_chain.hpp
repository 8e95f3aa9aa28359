// The configuration manager's callback chain (CmRegisterCallbackEx): callbacks with altitudes,
// pre-notifications from the highest altitude down, post-notifications back up, all on the calling
// thread. A pre-callback's failure blocks the operation; the callbacks already called see that
// failure in their post-notification.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/core/report.hpp"
#include "hivewarden/host/registry.hpp"

namespace hivewarden::host {

// One operation as the callbacks see it, from its pre-notification to its post-notification (the
// host's REG_*_INFORMATION and CallContext): the request, with its key canonical and symbolic
// links resolved; what the host read before the operation; its outcome; and what the deciding
// callback (the engine filter, one per chain) leaves for the host and for its own post.
struct OperationCall {
  explicit OperationCall(const OperationRequest& r) : request(r) {}

  const OperationRequest& request;
  const Value* old_value = nullptr;  // set-value / delete-value: the value before, if any
  Status status = Status::kSuccess;  // post: the operation's outcome

  // The deciding callback's decision (empty: no deciding callback was called).
  std::optional<Decision> decision;
  // The value before as that callback captured it at pre, for its post record (views into
  // *old_value, which lives as long as the call).
  ValueBefore before;
};

// Returns kSuccess to let the operation go on (pre), anything else to block it.
using RegistryCallback = std::function<Status(std::uint32_t notify_class, OperationCall& call)>;

class CallbackChain {
 public:
  // Registers a callback; a higher altitude is called earlier for pre-notifications. Returns a
  // cookie for remove(). Safe while other threads operate.
  std::uint64_t add(std::uint32_t altitude, RegistryCallback callback);
  bool remove(std::uint64_t cookie);

  struct Snapshot;  // the callbacks in force when an operation started
  std::shared_ptr<const Snapshot> snapshot() const;

  // Calls pre-callbacks in altitude order until one fails; `called` counts those called.
  static Status pre(const Snapshot& s, std::uint32_t cls, OperationCall& call, std::size_t& called);
  // Calls the post-callbacks of the first `called` callbacks, in reverse order.
  static void post(const Snapshot& s, std::uint32_t cls, OperationCall& call, std::size_t called);

 private:
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const Snapshot> callbacks_;
  std::uint64_t next_cookie_ = 1;
};

struct CallbackChain::Snapshot {
  struct Entry {
    std::uint32_t altitude;
    std::uint64_t cookie;
    RegistryCallback callback;
  };
  std::vector<Entry> entries;  // highest altitude first
};

}  // namespace hivewarden::host
