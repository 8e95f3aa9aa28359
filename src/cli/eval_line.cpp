#include "hivewarden/cli/eval_line.hpp"

namespace hivewarden::cli {

DecidedOperation decide_operation(PolicySession& session, const OperationInput& input) {
  DecidedOperation out;
  OperationRequest& request = out.request;
  request = input.operation.request;
  const CanonicalOptions options{session.policy.view().control_set(), request.process.user_sid};
  out.key_status =
      canonicalize_operation(input.operation.key_text, options, *session.keys, request);
  if (out.key_status != PathStatus::kOk && out.key_status != PathStatus::kInvalidName) return out;
  Decision& d = out.decision;
  d = session.engine->decide(request, *session.scratch);
  if (d.context_kept) {
    const PostOutcome post = session.engine->complete(request.thread_id, request.op, input.success);
    if (post.found) d.notify = post.notify;
  } else if (d.verdict == Verdict::kAllow && !input.success) {
    d.notify = NotifyMode::kNone;
  }
  out.explanation = explain(session.policy.view(), request, d, *session.scratch);
  if (!input.success && d.verdict == Verdict::kAllow) {
    out.explanation.why += "; but the operation failed (its `status`), so nothing is reported";
  }
  return out;
}

namespace {
EvalResult eval_error(std::uint64_t line_number, const std::string& message) {
  EvalResult r;
  r.error = true;
  r.json["line"] = line_number;
  r.json["error"] = "line " + std::to_string(line_number) + ": " + message;
  return r;
}
}  // namespace

EvalResult eval_operation(PolicySession& session, OperationLine line) {
  if (!line.input) return eval_error(line.number, line.error);
  const OperationInput& input = *line.input;
  const DecidedOperation decided = decide_operation(session, input);
  const Decision& d = decided.decision;
  if (decided.key_status != PathStatus::kOk && decided.key_status != PathStatus::kInvalidName) {
    return eval_error(line.number, std::string("key: ") + path_status_text(decided.key_status));
  }
  EvalResult r;
  r.decision = d;
  r.json["line"] = line.number;
  r.json["op"] = traits(input.operation.request.op).name;
  const nlohmann::ordered_json fields = decision_json(d, decided.explanation, false);
  for (const auto& [k, v] : fields.items()) r.json[k] = v;
  if (!input.success) r.json["status"] = "failure";  // why `notify` is none (SPEC §9)
  r.input = std::move(line.input);
  return r;
}

EvalResult eval_line(PolicySession& session, std::string_view text, std::uint64_t line_number) {
  OperationLine line;
  line.number = line_number;
  line.input = operation_from_line(text, line.error);
  return eval_operation(session, std::move(line));
}

}  // namespace hivewarden::cli
