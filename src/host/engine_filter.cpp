#include "hivewarden/host/engine_filter.hpp"

#include <memory>

namespace hivewarden::host {
namespace {

// Working memory of a decision (about 70 KiB), one per thread. Only memory: nothing in it
// outlives the pre-operation that used it; what goes from pre to post travels in the call.
DecisionScratch& thread_scratch() {
  thread_local std::unique_ptr<DecisionScratch> scratch = std::make_unique<DecisionScratch>();
  return *scratch;
}

}  // namespace

RegistryCallback EngineFilter::callback() {
  return [this](std::uint32_t cls, OperationCall& call) {
    Operation op;
    if (operation_by_pre_class(cls, op)) return pre(call);
    post(call);
    return Status::kSuccess;
  };
}

// Whether a record of `mode` would go anywhere: asked before drafting one, so that nothing is
// drafted while nobody listens.
bool EngineFilter::reporting(NotifyMode mode) const {
  return reporter_ != nullptr && mode != NotifyMode::kNone && reporter_->accepts(mode);
}

void EngineFilter::send(RecordDraft& draft) {
  if (reporter_->send(draft) != 0) ++notifications_;
}

Status EngineFilter::pre(OperationCall& call) {
  DecisionScratch& scratch = thread_scratch();
  const Decision& d = call.decision.emplace(engine_.decide(call.request, scratch));
  call.before = {};
  if (d.capture_old_value && call.old_value != nullptr)
    call.before = {true, call.old_value->type, call.old_value->data};
  if (d.verdict == Verdict::kAllow) return Status::kSuccess;
  // The record names the clients of d.policy, the policy this decision was made on.
  if (RecordDraft draft;
      reporting(d.notify) && draft_denial(call.request, d, scratch.match, call.before, draft)) {
    send(draft);
  }
  return Status::kAccessDenied;
}

void EngineFilter::post(OperationCall& call) {
  // Only a pre-operation that kept a call context has one to take (the engine's contexts are per
  // thread and operation: taking one not ours would take a nested operation's).
  if (!call.decision || !call.decision->context_kept) return;
  const PostOutcome outcome =
      engine_.complete(call.request.thread_id, call.request.op, call.status == Status::kSuccess);
  if (RecordDraft draft; outcome.found && reporting(outcome.notify) &&
                         draft_completion(call.request, outcome, call.before, draft)) {
    send(draft);
  }
}

}  // namespace hivewarden::host
