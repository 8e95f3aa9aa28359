// The configuration manager's callback chain (CmRegisterCallbackEx): callbacks with altitudes,
// pre-notifications from the highest altitude down, post-notifications back up, all on the calling
// thread. A pre-callback's failure blocks the operation; the callbacks already called see that
// failure in their post-notification.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/rules.hpp"
#include "hivewarden/host/registry.hpp"

namespace hivewarden::host {

// What a callback is told about one operation (the REG_*_INFORMATION of the host).
struct OperationArgs {
  Operation op = Operation::kCreateKey;
  std::u16string_view key;  // kernel form, symbolic links resolved
  std::u16string_view value;
  std::u16string_view new_name;
  std::uint32_t type = 0;  // set-value: the new data
  std::string_view data;
  bool key_exists = false;
  bool create_link = false;  // create-key: the new key is a symbolic link
  // set-value / delete-value: the value before, when there is one
  const Value* old_value = nullptr;
  std::u16string_view image;
  std::uint32_t pid = 0;
  ProcessFlags flags = 0;  // process flags and rules the host knows beyond the policy's
  ProcessRules rules = 0;
  bool win32_names = false;  // the caller named the key in Win32 form: no NUL in its names
  std::uint64_t thread = 0;
  Status status = Status::kSuccess;  // post: the operation's outcome
};

// Returns kSuccess to let the operation go on (pre), anything else to block it.
using RegistryCallback =
    std::function<Status(std::uint32_t notify_class, const OperationArgs& args)>;

class CallbackChain {
 public:
  // Registers a callback; a higher altitude is called earlier for pre-notifications. Returns a
  // cookie for remove(). Safe while other threads operate.
  std::uint64_t add(std::uint32_t altitude, RegistryCallback callback);
  bool remove(std::uint64_t cookie);

  struct Snapshot;  // the callbacks in force when an operation started
  std::shared_ptr<const Snapshot> snapshot() const;

  // Calls pre-callbacks in altitude order until one fails; `called` counts those called.
  static Status pre(const Snapshot& s, std::uint32_t cls, const OperationArgs& args,
                    std::size_t& called);
  // Calls the post-callbacks of the first `called` callbacks, in reverse order.
  static void post(const Snapshot& s, std::uint32_t cls, const OperationArgs& args,
                   std::size_t called);

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

// One operation as the host applies it.
struct HostOperation {
  Operation op = Operation::kCreateKey;
  std::u16string key;  // kernel form
  std::u16string value, new_name;
  std::uint32_t type = 1;
  std::string data;
  const Key* saved = nullptr;  // restore-key / replace-key: the subtree to put in place
  bool open_link = false;      // act on a link key itself, not its target (REG_OPTION_OPEN_LINK)
  bool create_link = false;  // create-key: the new key is a symbolic link (REG_OPTION_CREATE_LINK)
  // The operation fails after its pre-operation, as if a lower layer refused it (kUnsuccessful):
  // how `run` replays a line whose `status` says the operation failed.
  bool fails = false;
  std::u16string image;
  std::uint32_t pid = 0;
  ProcessFlags flags = 0;  // process flags and rules the host knows beyond the policy's
  ProcessRules rules = 0;
  bool win32_names = false;  // the caller named the key in Win32 form: no NUL in its names
  std::uint64_t thread = 0;
};

// Applies an operation to a registry through a callback chain: resolve links, pre-callbacks, the
// operation, post-callbacks. Returns the status the caller would see.
Status apply(Registry& registry, const CallbackChain& chain, const HostOperation& op);

}  // namespace hivewarden::host
