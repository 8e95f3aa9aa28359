// The `hivewarden` command line: one binary, one subcommand per job. Each command's file adds its
// own subcommand (register_* in src/cli/commands/); main parses and runs the one given.
#include <csignal>
#include <iostream>

#include "hivewarden/cli/commands.hpp"

namespace {

using namespace hivewarden::cli;

// Whatever a command printed must have reached its destination (a full disk is an error).
int finish(int code) {
  std::cout.flush();
  if (!std::cout) {
    std::cerr
        << "error: writing the output failed (disk full or closed); the output is incomplete\n";
    return kExitInputError;
  }
  return code;
}

int run_parsed(const Subcommand& subcommand) {
  // A reader that goes away (a closed pipe or FIFO) makes writes fail with EPIPE, which every
  // output checks (an error naming it, rc 2), instead of killing the process without a word.
  if (!subcommand.keeps_sigpipe) std::signal(SIGPIPE, SIG_IGN);
  const int code = subcommand.run();
  return subcommand.checks_own_output ? code : finish(code);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hivewarden: a registry-protection engine (WdFilter's registry logic, rebuilt)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hivewarden 0.1.0");
  const std::vector<Subcommand> subcommands = register_subcommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInputError;
  }
  for (const Subcommand& subcommand : subcommands) {
    if (*subcommand.command) return run_parsed(subcommand);
  }
  return kExitInputError;
}
