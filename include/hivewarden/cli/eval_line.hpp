// One line of `eval`: JSON text in, the SPEC §9 output object out.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/operation_input.hpp"
#include "hivewarden/cli/policy_session.hpp"

namespace hivewarden::cli {

struct EvalResult {
  nlohmann::ordered_json json;  // {"line", "op", "decision", ...} or {"line", "error"}
  bool error = false;
  Decision decision;
};

// Decides one operation given as a JSON line through the session's engine, including the
// post-operation for its `status`, and renders the result. Never throws on bad input: the
// result then has `error` naming the line and what is wrong.
EvalResult eval_line(PolicySession& session, std::string_view text, std::uint64_t line_number);

}  // namespace hivewarden::cli
