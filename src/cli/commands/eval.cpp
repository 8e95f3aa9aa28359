// `hivewarden eval`: the JSON-lines batch contract of SPEC §9.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/util/line_reader.hpp"

namespace hivewarden::cli {

int run_eval(const std::string& policy_path, std::istream& in, std::ostream& out) {
  auto session = open_policy_session(policy_path);
  if (!session) return kExitInputError;
  LineReader lines(in, kMaxOperationLineBytes);
  std::string line;
  std::uint64_t errors = 0;
  LineReader::Result got;
  while ((got = lines.next(line)) == LineReader::Result::kLine ||
         got == LineReader::Result::kTooLong) {
    const std::uint64_t number = lines.line_number();
    if (got == LineReader::Result::kLine && line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;  // blank lines carry no operation
    }
    const EvalResult result = got == LineReader::Result::kTooLong
                                  ? eval_error(number, line_too_long_error())
                                  : eval_line(*session, line, number);
    if (result.error) ++errors;
    out << result.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) break;  // the output is gone (disk full, closed pipe): stop, say so below
  }
  out.flush();
  if (!out) {
    std::cerr << "error: writing the output failed at input line " << lines.line_number()
              << " (disk full or closed); the output is incomplete\n";
    return kExitInputError;
  }
  if (got == LineReader::Result::kError) {
    std::cerr << "error: reading the input failed after line " << lines.line_number() << "\n";
    return kExitInputError;
  }
  if (errors > 0) {
    std::cerr << "eval: " << errors << " of " << lines.line_number()
              << " lines could not be decided (see their `error`)\n";
    return kExitInputError;
  }
  return kExitOk;
}

}  // namespace hivewarden::cli
