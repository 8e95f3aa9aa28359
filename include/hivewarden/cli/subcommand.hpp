// How a subcommand joins the `hivewarden` command line. Each command's file adds its own
// subcommand to the CLI11 app (options, defaults and help text beside the code that reads them)
// and hands back how to run it once parsed; main only parses and runs the one given.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

namespace hivewarden::cli {

struct Subcommand {
  CLI::App* command = nullptr;  // true (`*command`) once CLI11 has parsed this subcommand
  std::function<int()> run;     // runs the parsed subcommand; returns the process exit code
  // SIGPIPE stays the default (monitor: its output never ends, and SIGPIPE is how
  // `monitor | head` stops). Every other command ignores it and checks its writes instead.
  bool keeps_sigpipe = false;
  // The command reports a failed write itself (eval names the input line it stopped at), so
  // main does not check standard output after it.
  bool checks_own_output = false;
};

using RegisterSubcommand = Subcommand (*)(CLI::App& app);

// One per subcommand, each in its command's file (src/cli/commands/).
Subcommand register_compile(CLI::App& app);
Subcommand register_dump(CLI::App& app);
Subcommand register_check(CLI::App& app);
Subcommand register_eval(CLI::App& app);
Subcommand register_monitor(CLI::App& app);
Subcommand register_import_sigma(CLI::App& app);
Subcommand register_import_sysmon(CLI::App& app);
Subcommand register_bench(CLI::App& app);
Subcommand register_run(CLI::App& app);
Subcommand register_replay(CLI::App& app);
Subcommand register_demo(CLI::App& app);

// Adds every subcommand above to `app`, in the order `--help` lists them (src/cli/subcommands.cpp).
std::vector<Subcommand> register_subcommands(CLI::App& app);

}  // namespace hivewarden::cli
