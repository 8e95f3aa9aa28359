// The `hivewarden` command line: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include <csignal>
#include <fstream>
#include <iostream>

#include "hivewarden/cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace hivewarden::cli;
  CLI::App app{"hivewarden: a registry-protection engine (WdFilter's registry logic, rebuilt)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hivewarden 0.1.0");

  std::string policy, output, input = "-", ops;
  auto* compile = app.add_subcommand("compile", "Compile a policy (YAML) into a checked binary blob (.hwp)");
  compile->add_option("policy", policy, "Policy file (.yaml or .hwp)")->required();
  compile->add_option("-o,--output", output, "Where to write the compiled policy")->required();

  auto* dump = app.add_subcommand("dump", "Print a policy (.yaml or .hwp) as compiled, entry by entry");
  dump->add_option("policy", policy, "Policy file (.yaml or .hwp)")->required();

  CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "Decide one operation and explain why");
  check_cmd->add_option("--policy", check.policy, "Policy file (.yaml or .hwp); default: the built-in policy");
  check_cmd->add_option("--op", check.op, "create-key, delete-key, set-value, delete-value, rename-key, restore-key, replace-key, query-value")->required();
  check_cmd->add_option("--key", check.key, "Key path: \\REGISTRY\\..., HKLM\\..., HKU\\..., HKCU\\... (with --user-sid), HKCR\\...")->required();
  check_cmd->add_option("--value", check.value, "Value name (value operations)");
  auto* check_new_name = check_cmd->add_option("--new-name", check.new_name, "New last component (rename-key)");
  check_cmd->add_option("--image", check.image, "Image path of the process (\"System\" with --pid 4 is the kernel)");
  check_cmd->add_option("--pid", check.pid, "Process id");
  check_cmd->add_option("--flags", check.flags, "Extra process flags, comma-separated (system, av-service, excluded, service-sid, friendly, seces)");
  check_cmd->add_option("--rules", check.rules, "Extra process rules, comma-separated (allow-all-registry, notify-sync)");
  check_cmd->add_option("--user-sid", check.user_sid, "The user's SID, for HKCU paths");
  check_cmd->add_option("--status", check.status, "The operation's outcome: success (default), or an NTSTATUS name or number (then nothing is reported)");
  check_cmd->add_option("--type", check.type, "set-value: the new value's type (REG_SZ, REG_DWORD, ... or a number)");
  check_cmd->add_option("--data", check.data, "set-value: the new data, a JSON value (1, \"text\", [\"a\",\"b\"], hex for binary) or plain text");
  check_cmd->add_flag("--link", check.link, "create-key: the new key is a symbolic link (REG_OPTION_CREATE_LINK)");
  check_cmd->add_flag("--key-exists", check.key_exists, "create-key: the key already exists (an open)");
  check_cmd->add_flag("--json", check.json, "Print one JSON object instead of text");

  auto* eval = app.add_subcommand("eval", "Decide operations given as JSON lines (SPEC section 9), one JSON line out per line in");
  eval->add_option("--policy", policy, "Policy file (.yaml or .hwp)")->required();
  eval->add_option("--input", input, "JSON-lines file, or - for standard input")->capture_default_str();

  MonitorOptions monitor_options;
  auto* monitor = app.add_subcommand("monitor", "Receive notification records on a Unix socket and print each as it arrives");
  monitor->add_option("--socket", monitor_options.socket, "Socket path to listen on")->required();
  monitor->add_option("--policy", monitor_options.policy, "Policy whose client names to show for the hashes in records");
  monitor->add_flag("--json", monitor_options.json, "One JSON object per record instead of text");
  monitor->add_flag("--no-ack", monitor_options.no_ack, "Never acknowledge sync records (tests producers' timeouts)");
  monitor->add_option("--count", monitor_options.count, "Stop after this many records (default: run until interrupted)");

  std::vector<std::string> sigma_inputs;
  std::string sigma_report;
  bool sigma_quiet = false;
  auto* import_sigma = app.add_subcommand("import-sigma", "Turn Sigma registry rules into a policy that reports what they detect");
  import_sigma->add_option("rules", sigma_inputs, "Sigma rule files or directories (searched for .yml)")->required();
  import_sigma->add_option("-o,--output", output, "Policy YAML to write")->required();
  import_sigma->add_option("--report", sigma_report, "Also write a JSON report: each rule's status and what was not expressed");
  import_sigma->add_flag("-q,--quiet", sigma_quiet, "List only the rules not imported whole");

  BenchOptions bench_options;
  auto* bench = app.add_subcommand("bench", "Measure decisions against the baselines (floor, naive list, write-up tree walk, RE2::Set, Hyperscan)");
  bench->add_option("--sizes", bench_options.sizes, "Policy sizes in entries")->delimiter(',')->capture_default_str();
  bench->add_option("--ops", bench_options.ops, "Operations per size")->capture_default_str();
  bench->add_option("--match-share", bench_options.match_share, "Share of operations that match an entry")->capture_default_str();
  bench->add_option("--budget", bench_options.budget, "Seconds per matcher and size at most")->capture_default_str();
  bench->add_option("--naive-max", bench_options.naive_max, "Largest policy to run the naive list on")->capture_default_str();
  bench->add_option("--regex-max", bench_options.regex_max, "Largest policy to build RE2::Set and Hyperscan for")->capture_default_str();
  bench->add_option("--thread-size", bench_options.thread_size, "Policy size of the two-thread swap run")->capture_default_str();
  bench->add_option("--thread-seconds", bench_options.thread_seconds, "Seconds per thread-scaling run (0: skip)")->capture_default_str();
  bench->add_option("--names", bench_options.names, "A .reg export (gzip or plain) to take key names from")->capture_default_str();
  bench->add_flag("--markdown", bench_options.markdown, "Print the table as Markdown");

  RunOptions run_options;
  auto* run = app.add_subcommand("run", "Apply operations (JSON lines) to a registry through the callback chain, with real outcomes");
  run->add_option("--policy", run_options.policy, "Policy file (.yaml or .hwp); default: the built-in policy");
  run->add_option("--registry", run_options.registry, "Starting registry: a .reg file (regedit 4 or 5, UTF-16 or UTF-8)");
  run->add_option("--hive", run_options.hives, "Mount a real hive file: FILE=KEY (e.g. SYSTEM=HKLM\\SYSTEM); repeatable");
  run->add_option("--ops", run_options.ops, "Operations as JSON lines, or - for standard input")->capture_default_str();
  run->add_option("--socket", run_options.socket, "Send notification records to a consumer listening here (hivewarden monitor)");
  run->add_option("--sync-timeout", run_options.sync_timeout_ms, "How long a sync notification waits for its acknowledgement (ms)")->capture_default_str();
  run->add_option("--export", run_options.export_path, "Write the final registry to this .reg file");

  ReplayOptions replay_options;
  auto* replay = app.add_subcommand("replay", "Replay Sysmon registry events (EVTX, XML, JSON lines, .gz) through a policy, in time order");
  replay->add_option("logs", replay_options.logs, "Event logs: .evtx, XML, JSON lines (plain or .gz)")->required();
  replay->add_option("--policy", replay_options.policy, "Policy file (.yaml or .hwp); default: the built-in policy");
  replay->add_option("--what-if", replay_options.what_if, "A second policy: print only the events on which the two differ");
  replay->add_option("--summary", replay_options.summary_path, "Write the summary (counts, top keys and processes) as JSON here");
  replay->add_flag("--all", replay_options.all, "A line for every event, not only the denied or reported ones");
  replay->add_flag("!--no-progress", replay_options.progress, "No progress bar");

  auto* demo = app.add_subcommand("demo", "Run the built-in default policy over the bundled sample operations");
  demo->add_option("--policy", policy, "Use this policy instead of the built-in one");
  demo->add_option("--ops", ops, "Use these JSON-lines operations (- for standard input) instead of the bundled ones");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInputError;
  }

  // A reader that goes away (a closed pipe or FIFO) makes writes fail with EPIPE, which every
  // output checks (an error naming it, rc 2), instead of killing the process without a word.
  // `monitor` keeps the default: its output never ends, and SIGPIPE is how `monitor | head` stops.
  if (!*monitor) std::signal(SIGPIPE, SIG_IGN);

  // Whatever a command printed must have reached its destination (a full disk is an error).
  const auto finish = [](int code) {
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "error: writing the output failed (disk full or closed); the output is incomplete\n";
      return kExitInputError;
    }
    return code;
  };
  if (*compile) return finish(run_compile(policy, output));
  if (*dump) return finish(run_dump(policy, std::cout));
  if (*check_cmd) {
    check.has_new_name = check_new_name->count() > 0;
    return finish(run_check(check, std::cout));
  }
  if (*demo) return finish(run_demo(policy, ops, std::cout));
  if (*monitor) return finish(run_monitor(monitor_options, std::cout));
  if (*bench) return finish(run_bench(bench_options, std::cout));
  if (*run) return finish(run_run(run_options, std::cout));
  if (*replay) return finish(run_replay(replay_options, std::cout));
  if (*import_sigma) return finish(run_import_sigma(sigma_inputs, output, sigma_report, sigma_quiet));
  if (*eval) {
    std::ios::sync_with_stdio(false);
    if (input == "-") return run_eval(policy, std::cin, std::cout);
    std::ifstream file(input);
    if (!file) {
      std::cerr << "error: cannot open " << input << "\n";
      return kExitInputError;
    }
    return run_eval(policy, file, std::cout);
  }
  return kExitInputError;
}
