// The hivewarden engine as one callback of the chain, as WdFilter is in Windows: decides each
// pre-operation (leaving the decision in the call), denies with access-denied, and reports
// through a Reporter: denials at once, watched operations after they succeed (with the value
// before and after). Records are drafted by the core's one report step (core/report.hpp).
#pragma once

#include <atomic>
#include <cstdint>

#include "hivewarden/core/engine.hpp"
#include "hivewarden/host/callback_chain.hpp"
#include "hivewarden/host/reporter.hpp"

namespace hivewarden::host {

class EngineFilter {
 public:
  // `reporter` may be null (nothing is reported).
  EngineFilter(Engine& engine, Reporter* reporter) : engine_(engine), reporter_(reporter) {}

  // The callback to register with a CallbackChain.
  RegistryCallback callback();

  // Records the reporter took.
  std::uint64_t notifications() const { return notifications_.load(); }

 private:
  Status pre(OperationCall& call);
  void post(OperationCall& call);
  bool reporting(NotifyMode mode) const;
  void send(RecordDraft& draft);

  Engine& engine_;
  Reporter* reporter_;
  std::atomic<std::uint64_t> notifications_{0};
};

}  // namespace hivewarden::host
