// Every subcommand of `hivewarden`, in the order `hivewarden --help` lists them.
#include <array>

#include "hivewarden/cli/subcommand.hpp"

namespace hivewarden::cli {

std::vector<Subcommand> register_subcommands(CLI::App& app) {
  static constexpr std::array<RegisterSubcommand, 11> kAll = {
      register_compile, register_dump,         register_check,         register_eval,
      register_monitor, register_import_sigma, register_import_sysmon, register_bench,
      register_run,     register_replay,       register_demo,
  };
  std::vector<Subcommand> subcommands;
  for (const RegisterSubcommand add : kAll) subcommands.push_back(add(app));
  return subcommands;
}

}  // namespace hivewarden::cli
