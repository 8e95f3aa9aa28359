// The command line as each command registers it (register_subcommands): every subcommand, in
// `--help` order, with its required options, and the options reaching the command that runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"

namespace hivewarden::cli {
namespace {

// Parses `args` (without the program name) into a fresh app, as main does.
struct ParsedApp {
  CLI::App app{"test"};
  std::vector<Subcommand> subcommands;

  explicit ParsedApp(std::vector<std::string> args) {
    app.require_subcommand(1);
    subcommands = register_subcommands(app);
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
    app.parse(args);
  }
  // The one subcommand CLI11 parsed (nullptr if none or several).
  const Subcommand* given() const {
    const Subcommand* found = nullptr;
    for (const Subcommand& s : subcommands) {
      if (!*s.command) continue;
      if (found != nullptr) return nullptr;
      found = &s;
    }
    return found;
  }
};

// Runs a parsed subcommand with standard output captured.
int run_capturing(const Subcommand& s, std::string& out) {
  std::ostringstream captured;
  std::streambuf* const saved = std::cout.rdbuf(captured.rdbuf());
  const int rc = s.run();
  std::cout.rdbuf(saved);
  out = captured.str();
  return rc;
}

TEST(Subcommands, AllElevenInHelpOrder) {
  CLI::App app{"test"};
  const std::vector<Subcommand> subcommands = register_subcommands(app);
  const std::vector<std::string> want = {"compile", "dump",         "check",         "eval",
                                         "monitor", "import-sigma", "import-sysmon", "bench",
                                         "run",     "replay",       "demo"};
  ASSERT_EQ(subcommands.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(subcommands[i].command->get_name(), want[i]);
    EXPECT_TRUE(subcommands[i].run) << want[i];
    // Only monitor keeps SIGPIPE; only eval reports its own failed writes.
    EXPECT_EQ(subcommands[i].keeps_sigpipe, want[i] == "monitor") << want[i];
    EXPECT_EQ(subcommands[i].checks_own_output, want[i] == "eval") << want[i];
  }
}

TEST(Subcommands, RequiredOptionsAreRequired) {
  for (const char* name :
       {"compile", "dump", "check", "eval", "monitor", "import-sigma", "replay"}) {
    EXPECT_THROW(ParsedApp({name}), CLI::RequiredError) << name;
  }
  EXPECT_THROW(ParsedApp({"check", "--op", "set-value"}), CLI::RequiredError);
  EXPECT_THROW(ParsedApp({"compile", "p.yaml"}), CLI::RequiredError);  // -o
  EXPECT_NO_THROW(ParsedApp({"compile", "p.yaml", "-o", "p.hwp"}));
}

TEST(Subcommands, OnlyTheGivenSubcommandIsParsed) {
  ParsedApp parsed({"dump", "policy.yaml"});
  ASSERT_NE(parsed.given(), nullptr);
  EXPECT_EQ(parsed.given()->command->get_name(), "dump");
}

// `--new-name ""` is a name (an empty one): the registration tells run_check it was given, so
// the rename is refused as invalid instead of being checked without a target.
TEST(Subcommands, CheckSeesAnEmptyNewNameAsGiven) {
  ParsedApp parsed(
      {"check", "--op", "rename-key", "--key", "HKLM\\SOFTWARE\\A", "--new-name", "", "--json"});
  ASSERT_NE(parsed.given(), nullptr);
  std::string out;
  ASSERT_EQ(run_capturing(*parsed.given(), out), kExitOk) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["reason"], "invalid-name") << out;
}

// The options reach the command: a check through the command line prints what run_check prints
// for the same options.
TEST(Subcommands, CheckOptionsReachRunCheck) {
  ParsedApp parsed({"check", "--op", "set-value", "--key",
                    "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths", "--value",
                    "x", "--type", "4", "--data", "1", "--image", "C:\\x.exe", "--pid", "7",
                    "--json"});
  ASSERT_NE(parsed.given(), nullptr);
  std::string via_cli;
  const int rc = run_capturing(*parsed.given(), via_cli);
  CheckOptions o;
  o.op = "set-value";
  o.key = "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths";
  o.value = "x";
  o.type = "4";
  o.data = "1";
  o.image = "C:\\x.exe";
  o.pid = 7;
  o.json = true;
  std::ostringstream direct;
  EXPECT_EQ(rc, run_check(o, direct));
  EXPECT_EQ(via_cli, direct.str());
  EXPECT_EQ(nlohmann::json::parse(via_cli)["decision"], "deny") << via_cli;
}

}  // namespace
}  // namespace hivewarden::cli
