// The subcommands of the `hivewarden` binary. Each returns the process exit code:
// 0 on success, 2 on a usage or input error.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "hivewarden/cli/subcommand.hpp"  // each command's file also registers its subcommand

namespace hivewarden::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInputError = 2;

// The `--help` footer of the commands that read a policy and decide: a conditioned entry (SPEC
// §10).
inline constexpr const char* kConditionsHelp =
    R"(Conditions (SPEC 10): an entry or a value entry matches only when they hold, e.g.
  monitored:
    - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
      client: defender-off
      values:
        - name: DisableAntiSpyware
          rules: [set-value, set-value-deny]
          when: {data|dword: 1}                  # all fields hold; a list of maps: any one
          unless: [{image|endswith: '\MsMpEng.exe'}]
Fields: image, key, target_object, value, new_name, user, data, details, new_target_object (a
rename's new key as Sysmon's NewName). Modifiers: contains, startswith, endswith, all, lt, gt; for
data: dword, qword, type. No modifier: equal, with * and ?.)";

struct CheckOptions {
  std::string policy, op, key, value, new_name, image, user_sid;
  std::uint32_t pid = 0;
  bool key_exists = false;
  bool link = false;          // create-key: the new key is a symbolic link
  bool has_new_name = false;  // --new-name was given (an empty new name is still a name)
  bool json = false;
  std::string flags, rules;  // comma-separated names
  std::string status;        // the post-operation's outcome (SPEC §9 `status`)
  std::string type, data;    // set-value's new data (SPEC §9 `type`, `data`)
};

struct MonitorOptions {
  std::string socket;
  std::string policy;  // optional: names the clients whose hashes records carry
  bool json = false;
  bool no_ack = false;      // never acknowledge sync records (to test producers' timeouts)
  std::uint64_t count = 0;  // stop after this many records (0: until SIGINT/SIGTERM)
};

struct BenchOptions {
  std::vector<std::size_t> sizes = {1000, 10000, 100000, 1000000};
  std::size_t ops = 20000;
  double match_share = 0.1;
  double budget = 2.0;  // seconds per matcher and size at most
  std::size_t naive_max = 100000;
  std::size_t regex_max = 100000;
  std::size_t thread_size = 100000;  // policy size of the thread-scaling run
  double thread_seconds = 2.0;       // 0: no thread-scaling run
  bool markdown = false;
  std::string names = "../shared/data/hives/exports/SYSTEM_WIN_10_1709.full.reg.gz";
  std::size_t compile_runs = 0;  // >0: only compile each size this many times, with phase times
  unsigned compile_threads = 0;  // threads for compile_policy (0: its default)
};

struct ReplayOptions {
  std::string policy, what_if, summary_path;
  std::vector<std::string> logs;
  bool all = false;      // a line for every event, not only denied or reported ones
  bool progress = true;  // a progress bar on a terminal
  unsigned jobs = 1;     // threads reading and deciding (the output is the same at any number)
};

struct RunOptions {
  std::string policy, registry, ops = "-", socket, export_path;
  std::vector<std::string> hives;  // FILE=MOUNT, e.g. SYSTEM=HKLM\SYSTEM
  std::uint32_t sync_timeout_ms = 1000;
};

int run_compile(const std::string& policy_path, const std::string& output_path);
int run_dump(const std::string& policy_path, std::ostream& out);
int run_check(const CheckOptions& options, std::ostream& out);
// Reads JSON lines from `in`, writes one JSON line per input line to `out`.
int run_eval(const std::string& policy_path, std::istream& in, std::ostream& out);
// Listens for notification records and prints each as it arrives.
int run_monitor(const MonitorOptions& options, std::ostream& out);
// Imports Sigma registry rules (files or directories) into a reporting policy.
int run_import_sigma(const std::vector<std::string>& inputs, const std::string& output,
                     const std::string& report_path, bool quiet);
// Imports Sysmon configurations (files or directories) into a reporting policy.
int run_import_sysmon(const std::vector<std::string>& inputs, const std::string& output,
                      bool quiet);
// Measures the engine against its baselines (median and p99 per decision, ratios).
int run_bench(const BenchOptions& options, std::ostream& out);
// Applies operations to a registry through the callback chain with the engine in it.
int run_run(const RunOptions& options, std::ostream& out);
// Replays Sysmon registry events from event logs through a policy (and a second one, --what-if).
int run_replay(const ReplayOptions& options, std::ostream& out);
int run_demo(const std::string& policy_path, const std::string& ops_path, std::ostream& out);

}  // namespace hivewarden::cli
