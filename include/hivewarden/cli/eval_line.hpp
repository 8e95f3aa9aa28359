// Deciding one operation of the `eval` contract, the way `eval`, `check` and `demo` all do.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/explain.hpp"
#include "hivewarden/cli/operation_input.hpp"
#include "hivewarden/cli/policy_session.hpp"

namespace hivewarden::cli {

// A decided operation, explained. `key_status` kUnknownRoot or kNeedsUserSid means the key could
// not be named at all: not decided, an input error.
struct DecidedOperation {
  PathStatus key_status = PathStatus::kOk;
  OperationRequest request;  // as decided: its keys canonical, in the session's OperationKeys
  Decision decision;
  Explanation explanation;
};

// Canonicalises `input`'s key once (the policy's control set, the input's user SID) and decides it
// through the session's engine, then runs its post-operation with the input's `status` (a failed
// operation sends nothing: `notify` becomes none, `reason` still says which rule matched).
DecidedOperation decide_operation(PolicySession& session, const OperationInput& input);

struct EvalResult {
  nlohmann::ordered_json json;  // {"line", "op", "decision", ...} or {"line", "error"}
  bool error = false;
  std::optional<OperationInput> input;  // the operation read, when the line could be read
  Decision decision;
};

// Decides one line read by OperationLines and renders the SPEC §9 output object; a line that
// could not be read or decided gives `error` naming the line and what is wrong.
EvalResult eval_operation(PolicySession& session, OperationLine line);

// The same for one line of JSON text. Never throws on bad input.
EvalResult eval_line(PolicySession& session, std::string_view text, std::uint64_t line_number);

}  // namespace hivewarden::cli
