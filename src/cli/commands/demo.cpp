// `hivewarden demo`: the default policy over the bundled sample operations.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"

namespace hivewarden::embedded {
std::string_view demo_ops_jsonl();
}

namespace hivewarden::cli {
namespace {

std::string shorten(const std::string& s, std::size_t width) {
  if (s.size() <= width) return s;
  return "..." + s.substr(s.size() - (width - 3));
}

}  // namespace

int run_demo(const std::string& policy_path, const std::string& ops_path, std::ostream& out) {
  auto session = open_policy_session(policy_path);
  if (!session) return kExitInputError;
  std::string ops;
  if (ops_path.empty()) {
    ops = std::string(embedded::demo_ops_jsonl());
  } else {
    std::ifstream in(ops_path);
    if (!in) {
      std::cerr << "error: cannot open " << ops_path << "\n";
      return kExitInputError;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    ops = buffer.str();
  }
  out << "hivewarden demo: " << (policy_path.empty() ? "built-in default policy" : policy_path) << ", "
      << (ops_path.empty() ? "bundled sample operations" : ops_path) << "\n\n";
  std::istringstream lines(ops);
  std::string line;
  std::uint64_t number = 0, denied = 0, reported = 0, total = 0, errors = 0;
  std::map<std::string, int> by_reason;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const EvalResult r = eval_line(*session, line, number);
    if (r.error) {
      ++errors;
      out << "  line " << number << ": " << r.json["error"].get<std::string>() << "\n";
      continue;
    }
    ++total;
    const nlohmann::json input = nlohmann::json::parse(line, nullptr, false);
    const bool deny = r.decision.verdict == Verdict::kDeny;
    const bool notify = r.decision.notify != NotifyMode::kNone;
    denied += deny ? 1 : 0;
    reported += notify ? 1 : 0;
    ++by_reason[r.json["reason"].get<std::string>()];
    const std::string key = r.json.contains("key") ? r.json["key"].get<std::string>() : input.value("key", std::string());
    std::string what = r.json["op"].get<std::string>() + " " + shorten(key, 58);
    if (input.contains("value")) what += " : " + input["value"].get<std::string>();
    if (input.contains("new_name")) what += " -> " + input["new_name"].get<std::string>();
    const std::string image = input.value("image", std::string("?"));
    out << (deny ? "  DENY  " : "  allow ") << (notify ? "[" + r.json["notify"].get<std::string>() + "] " : "        ")
        << what << "\n"
        << "          by " << shorten(image, 60) << " -- " << r.json["reason"].get<std::string>();
    if (!r.json["clients"].empty()) out << " (clients: " << r.json["clients"].dump() << ")";
    out << "\n";
  }
  out << "\n" << total << " operations: " << denied << " denied, " << reported << " reported";
  if (errors) out << ", " << errors << " not decided";
  out << "\nby reason:";
  for (const auto& [reason, count] : by_reason) out << " " << reason << "=" << count;
  out << "\n";
  return errors == 0 ? kExitOk : kExitInputError;
}

}  // namespace hivewarden::cli
