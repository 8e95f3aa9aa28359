#include "hivewarden/cli/eval_line.hpp"

#include "hivewarden/cli/explain.hpp"

namespace hivewarden::cli {
namespace {

EvalResult error_result(std::uint64_t line_number, const std::string& message) {
  EvalResult r;
  r.error = true;
  r.json["line"] = line_number;
  r.json["error"] = "line " + std::to_string(line_number) + ": " + message;
  return r;
}

}  // namespace

EvalResult eval_line(PolicySession& session, std::string_view text, std::uint64_t line_number) {
  nlohmann::json object = nlohmann::json::parse(text, nullptr, false);
  if (object.is_discarded()) return error_result(line_number, "not valid JSON");
  std::string problem;
  const std::optional<OperationInput> input = operation_from_json(object, problem);
  if (!input) return error_result(line_number, problem);

  const OperationRequest request = input->request();
  EvalResult r;
  r.decision = session.engine->decide(request, *session.scratch);
  Decision& d = r.decision;
  if (d.path_status != PathStatus::kOk) return error_result(line_number, std::string("key: ") + path_status_text(d.path_status));
  // The post-operation: a failed operation sends nothing, and its call context is freed.
  if (d.context_kept) {
    const PostOutcome post = session.engine->complete(request.thread_id, request.op, input->success);
    if (post.found) d.notify = post.notify;
  } else if (d.verdict == Verdict::kAllow && !input->success) {
    d.notify = NotifyMode::kNone;
  }
  const Explanation e = explain(session.policy.view(), request, d, *session.scratch);
  r.json["line"] = line_number;
  r.json["op"] = traits(request.op).name;
  const nlohmann::ordered_json decided = decision_json(d, e, false);
  for (const auto& [k, v] : decided.items()) r.json[k] = v;
  return r;
}

}  // namespace hivewarden::cli
