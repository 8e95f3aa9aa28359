// The hivewarden engine as one callback of the chain, as WdFilter is in Windows: decides each
// pre-operation, denies with access-denied, and reports through a Notifier: denials at once,
// watched operations after they succeed (with the value before and after).
#pragma once

#include <atomic>
#include <cstdint>

#include "hivewarden/consumer/notifier.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/host/callback_chain.hpp"

namespace hivewarden::host {

class EngineFilter {
 public:
  // `notifier` may be null (nothing is reported).
  EngineFilter(Engine& engine, Notifier* notifier) : engine_(engine), notifier_(notifier) {}

  // The callback to register with a CallbackChain.
  RegistryCallback callback();

  // The decision the calling thread's last pre-operation got since forget_last_decision(), or
  // null when the engine was not asked (the operation failed before its pre-operation).
  static const Decision* last_decision();
  static void forget_last_decision();

  std::uint64_t notifications() const { return notifications_.load(); }

 private:
  Status pre(std::uint32_t cls, const OperationArgs& args);
  void post(std::uint32_t cls, const OperationArgs& args);

  Engine& engine_;
  Notifier* notifier_;
  std::atomic<std::uint64_t> notifications_{0};
};

}  // namespace hivewarden::host
