// `hivewarden eval`: the JSON-lines batch contract of SPEC §9.
#include <fstream>
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
  OperationLines lines(in);
  OperationLine line;
  std::uint64_t errors = 0;
  while (lines.next(line)) {
    const EvalResult result = eval_operation(*session, std::move(line));
    if (result.error) ++errors;
    out << result.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) break;  // the output is gone (disk full, closed pipe): stop, say so below
  }
  out.flush();
  if (!out) {
    std::cerr << "error: writing the output failed at input line " << lines.lines_read()
              << " (disk full or closed); the output is incomplete\n";
    return kExitInputError;
  }
  if (lines.read_failed()) {
    std::cerr << "error: reading the input failed after line " << lines.lines_read() << "\n";
    return kExitInputError;
  }
  if (errors > 0) {
    std::cerr << "eval: " << errors << " of " << lines.lines_read()
              << " lines could not be decided (see their `error`)\n";
    return kExitInputError;
  }
  return kExitOk;
}

Subcommand register_eval(CLI::App& app) {
  struct Options {
    std::string policy, input = "-";
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Decide operations given as JSON lines (SPEC section 9), one JSON line out per line in");
  cmd->footer(kConditionsHelp);
  cmd->add_option("--policy", o->policy, "Policy file (.yaml or .hwp)")->required();
  cmd->add_option("--input", o->input, "JSON-lines file, or - for standard input")
      ->capture_default_str();
  Subcommand eval{cmd, [o] {
                    std::ios::sync_with_stdio(false);
                    if (o->input == "-") return run_eval(o->policy, std::cin, std::cout);
                    std::ifstream file(o->input);
                    if (!file) {
                      std::cerr << "error: cannot open " << o->input << "\n";
                      return kExitInputError;
                    }
                    return run_eval(o->policy, file, std::cout);
                  }};
  eval.checks_own_output = true;  // run_eval names the input line a failed write stopped at
  return eval;
}

}  // namespace hivewarden::cli
