// `hivewarden demo`: the default policy over the bundled sample operations.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::embedded {
std::string_view demo_ops_jsonl();
}

namespace hivewarden::cli {
namespace {

std::string shorten(const std::string& s, std::size_t width) {
  if (s.size() <= width) return s;
  return "..." + s.substr(s.size() - (width - 3));
}

// One decided operation as two lines of text: what was done, by whom, and the outcome.
void print_decided(std::ostream& out, const EvalResult& r) {
  const OwnedOperation& input = r.input->operation;
  const OperationRequest& op = input.request;
  const bool deny = r.decision.verdict == Verdict::kDeny;
  const bool notify = r.decision.notify != NotifyMode::kNone;
  const std::string key =
      r.json.contains("key") ? r.json["key"].get<std::string>() : utf16_to_utf8(input.key_text);
  std::string what = r.json["op"].get<std::string>() + " " + shorten(key, 58);
  if (traits(op.op).matches_values || op.op == Operation::kQueryValue) {
    what += " : " + utf16_to_utf8(op.value);
  }
  if (op.op == Operation::kRenameKey) what += " -> " + utf16_to_utf8(op.new_name);
  const std::string image = op.process.image.empty() ? "?" : utf16_to_utf8(op.process.image);
  out << (deny ? "  DENY  " : "  allow ")
      << (notify ? "[" + r.json["notify"].get<std::string>() + "] " : "        ") << what << "\n"
      << "          by " << shorten(image, 60) << " -- " << r.json["reason"].get<std::string>();
  if (!r.json["clients"].empty()) out << " (clients: " << r.json["clients"].dump() << ")";
  out << "\n";
}

}  // namespace

int run_demo(const std::string& policy_path, const std::string& ops_path, std::ostream& out) {
  auto session = open_policy_session(policy_path);
  if (!session) return kExitInputError;
  std::ifstream file;
  std::istringstream bundled;
  std::istream* in = &bundled;
  if (ops_path.empty()) {
    bundled.str(std::string(embedded::demo_ops_jsonl()));
  } else if (ops_path == "-") {
    in = &std::cin;
  } else {
    file.open(ops_path, std::ios::binary);
    if (!file) {
      std::cerr << "error: cannot open " << ops_path << "\n";
      return kExitInputError;
    }
    in = &file;
  }
  out << "hivewarden demo: " << (policy_path.empty() ? "built-in default policy" : policy_path)
      << ", " << (ops_path.empty() ? "bundled sample operations" : ops_path) << "\n\n";
  OperationLines lines(*in);
  OperationLine line;
  std::uint64_t denied = 0, reported = 0, total = 0, errors = 0;
  std::map<std::string, int> by_reason;
  while (lines.next(line)) {
    const EvalResult r = eval_operation(*session, std::move(line));
    if (r.error) {
      ++errors;
      out << "  " << r.json["error"].get<std::string>() << "\n";
      continue;
    }
    ++total;
    denied += r.decision.verdict == Verdict::kDeny ? 1 : 0;
    reported += r.decision.notify != NotifyMode::kNone ? 1 : 0;
    ++by_reason[r.json["reason"].get<std::string>()];
    print_decided(out, r);
  }
  if (lines.read_failed()) {
    std::cerr << "error: reading " << ops_path << " failed after line " << lines.lines_read()
              << "\n";
    ++errors;
  }
  out << "\n" << total << " operations: " << denied << " denied, " << reported << " reported";
  if (errors) out << ", " << errors << " not decided";
  out << "\nby reason:";
  for (const auto& [reason, count] : by_reason) out << " " << reason << "=" << count;
  out << "\n";
  return errors == 0 ? kExitOk : kExitInputError;
}

Subcommand register_demo(CLI::App& app) {
  struct Options {
    std::string policy, ops;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "demo", "Run the built-in default policy over the bundled sample operations");
  cmd->add_option("--policy", o->policy, "Use this policy instead of the built-in one");
  cmd->add_option(
      "--ops", o->ops,
      "Use these JSON-lines operations (- for standard input) instead of the bundled ones");
  return {cmd, [o] { return run_demo(o->policy, o->ops, std::cout); }};
}

}  // namespace hivewarden::cli
