#include "hivewarden/host/engine_filter.hpp"

#include <memory>
#include <vector>

namespace hivewarden::host {
namespace {

// Per thread: the decision scratch, and the values captured by pre-operations whose
// post-operation is still to come (newest last, as the engine's call contexts).
struct ThreadState {
  std::unique_ptr<DecisionScratch> scratch = std::make_unique<DecisionScratch>();
  Decision last;
  bool decided = false;  // `last` belongs to the operation being applied
  struct Captured {
    Operation op;
    bool has_before;
    std::uint32_t type;
    std::string data;
  };
  std::vector<Captured> captured;
};

ThreadState& state() {
  thread_local ThreadState s;
  return s;
}

}  // namespace

const Decision* EngineFilter::last_decision() {
  return state().decided ? &state().last : nullptr;
}

void EngineFilter::forget_last_decision() {
  state().decided = false;
}

RegistryCallback EngineFilter::callback() {
  return [this](std::uint32_t cls, const OperationArgs& args) {
    Operation op;
    if (operation_by_pre_class(cls, op)) return pre(cls, args);
    post(cls, args);
    return Status::kSuccess;
  };
}

Status EngineFilter::pre(std::uint32_t, const OperationArgs& args) {
  ThreadState& s = state();
  OperationRequest r;
  r.op = args.op;
  r.value = args.value;
  r.new_name = args.new_name;
  r.key_exists = args.key_exists;
  r.creates_link = args.create_link;
  r.process.image = args.image;
  r.process.pid = args.pid;
  r.process.extra_flags = args.flags;
  r.process.extra_rules = args.rules;
  r.names_from_win32 = args.win32_names;
  r.thread_id = args.thread;
  auto keys = std::make_unique<OperationKeys>();  // temporary until the host canonicalises
  canonicalize_operation(args.key, {}, *keys, r);
  s.last = engine_.decide(r, *s.scratch);
  s.decided = true;
  const Decision& d = s.last;
  const bool captured = d.capture_old_value && args.old_value != nullptr;
  if (d.verdict == Verdict::kDeny) {
    if (notifier_ != nullptr && d.notify != NotifyMode::kNone) {
      const PolicyRef policy = engine_.current_policy();
      NotifyEvent e;
      e.op = args.op;
      e.mode = d.notify;
      e.denied = true;
      e.status = static_cast<std::uint32_t>(Status::kAccessDenied);
      e.key = r.key ? r.key->text() : std::u16string_view();
      e.value = args.value;
      e.new_key =
          r.new_key ? r.new_key->text() : std::u16string_view();
      e.process_id = args.pid;
      e.thread_id = args.thread;
      e.rules = d.rules | d.subtree_rules;
      e.has_before = captured;
      if (captured) {
        e.type_before = args.old_value->type;
        e.data_before = args.old_value->data;
      }
      e.has_after = args.op == Operation::kSetValue;
      e.type_after = args.type;
      e.data_after = args.data;
      e.policy = policy ? &policy.view() : nullptr;
      e.hits = s.scratch->match.hits;
      e.hit_count = s.scratch->match.hit_count;
      e.hits_truncated = s.scratch->match.hits_truncated;
      if (notifier_->notify(e) != 0) ++notifications_;
    }
    return Status::kAccessDenied;
  }
  if (d.context_kept) {
    s.captured.push_back({args.op, captured, captured ? args.old_value->type : 0,
                          captured ? args.old_value->data : std::string()});
  }
  return Status::kSuccess;
}

void EngineFilter::post(std::uint32_t, const OperationArgs& args) {
  ThreadState& s = state();
  const bool success = args.status == Status::kSuccess;
  PostOutcome outcome = engine_.complete(args.thread, args.op, success);
  if (!outcome.found) return;
  ThreadState::Captured captured{args.op, false, 0, {}};
  for (auto it = s.captured.rbegin(); it != s.captured.rend(); ++it) {
    if (it->op == args.op) {
      captured = std::move(*it);
      s.captured.erase(std::next(it).base());
      break;
    }
  }
  if (notifier_ == nullptr || outcome.notify == NotifyMode::kNone) return;
  NotifyEvent e;
  e.op = args.op;
  e.mode = outcome.notify;
  e.key = args.key;
  e.value = args.value;
  std::u16string new_key;
  if (args.op == Operation::kRenameKey) {
    new_key = std::u16string(args.key.substr(0, args.key.rfind(u'\\') + 1)) +
              std::u16string(args.new_name);
    e.new_key = new_key;
  }
  e.process_id = args.pid;
  e.thread_id = args.thread;
  e.rules = outcome.rules;
  e.has_before = captured.has_before;
  e.type_before = captured.type;
  e.data_before = captured.data;
  e.has_after = args.op == Operation::kSetValue;
  e.type_after = args.type;
  e.data_after = args.data;
  e.policy = outcome.policy ? &outcome.policy.view() : nullptr;
  e.hits = outcome.hits;
  e.hit_count = outcome.hit_count;
  e.hits_truncated = outcome.hits_truncated;
  if (notifier_->notify(e) != 0) ++notifications_;
}

}  // namespace hivewarden::host
