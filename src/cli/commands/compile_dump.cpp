// `hivewarden compile` and `hivewarden dump`.
#include <cstring>
#include <iostream>
#include <memory>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/output_file.hpp"

namespace hivewarden::cli {

int run_compile(const std::string& policy_path, const std::string& output_path) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::load_policy_file(policy_path, blob, problems)) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return kExitInputError;
  }
  std::string error;
  if (!util::write_output_file(
          output_path, std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()),
          error)) {
    std::cerr << "error: " << error << "\n";
    return kExitInputError;
  }
  std::cerr << "compiled " << policy_path << " -> " << output_path << " (" << blob.size()
            << " bytes)\n";
  return kExitOk;
}

int run_dump(const std::string& policy_path, std::ostream& out) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::load_policy_file(policy_path, blob, problems)) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return kExitInputError;
  }
  std::unique_ptr<std::uint64_t[]> aligned(new std::uint64_t[(blob.size() + 7) / 8]);
  std::memcpy(aligned.get(), blob.data(), blob.size());
  out << policy::dump_policy(aligned.get(), blob.size());
  return kExitOk;
}

Subcommand register_compile(CLI::App& app) {
  struct Options {
    std::string policy, output;
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("compile", "Compile a policy (YAML) into a checked binary blob (.hwp)");
  cmd->add_option("policy", o->policy, "Policy file (.yaml or .hwp)")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the compiled policy")->required();
  return {cmd, [o] { return run_compile(o->policy, o->output); }};
}

Subcommand register_dump(CLI::App& app) {
  auto policy = std::make_shared<std::string>();
  auto* cmd =
      app.add_subcommand("dump", "Print a policy (.yaml or .hwp) as compiled, entry by entry");
  cmd->footer(kConditionsHelp);
  cmd->add_option("policy", *policy, "Policy file (.yaml or .hwp)")->required();
  return {cmd, [policy] { return run_dump(*policy, std::cout); }};
}

}  // namespace hivewarden::cli
