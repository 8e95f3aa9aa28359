// `hivewarden eval`: the JSON-lines batch contract of SPEC §9.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"

namespace hivewarden::cli {

int run_eval(const std::string& policy_path, std::istream& in, std::ostream& out) {
  auto session = open_policy_session(policy_path);
  if (!session) return kExitInputError;
  std::string line;
  std::uint64_t number = 0, errors = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines carry no operation
    const EvalResult result = eval_line(*session, line, number);
    if (result.error) ++errors;
    out << result.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) break;  // the output is gone (disk full, closed pipe): stop, say so below
  }
  out.flush();
  if (!out) {
    std::cerr << "error: writing the output failed at input line " << number
              << " (disk full or closed); the output is incomplete\n";
    return kExitInputError;
  }
  if (in.bad()) {
    std::cerr << "error: reading the input failed after line " << number << "\n";
    return kExitInputError;
  }
  if (errors > 0) {
    std::cerr << "eval: " << errors << " of " << number << " lines could not be decided (see their `error`)\n";
    return kExitInputError;
  }
  return kExitOk;
}

}  // namespace hivewarden::cli
