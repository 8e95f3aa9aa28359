// `hivewarden replay`: real Windows event logs (Sysmon 12/13/14) through a policy, in time order.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/cli/replay_run.hpp"
#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/output_file.hpp"

namespace hivewarden::cli {
namespace {

class Progress {
 public:
  Progress(std::uint64_t total, bool enabled)
      : total_(total), enabled_(enabled && total >= 10000 && isatty(2)) {}
  void tick(std::uint64_t done) {
    if (!enabled_ || (done % 2048 != 0 && done != total_)) return;
    const int width = 40,
              filled = static_cast<int>(width * done / std::max<std::uint64_t>(total_, 1));
    std::fprintf(stderr, "\r[%.*s%*s] %llu/%llu events", filled,
                 "########################################", width - filled, "",
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_));
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  std::uint64_t total_;
  bool enabled_;
};

}  // namespace

namespace {

int replay_logs(const ReplayOptions& o, std::ostream& out) {
  auto session = open_policy_session(o.policy);
  if (!session) return kExitInputError;
  std::unique_ptr<PolicySession> other;
  if (!o.what_if.empty()) {
    other = open_policy_session(o.what_if);
    if (!other) return kExitInputError;
  }
  ReplayCounts tally;
  std::optional<Progress> progress;
  ReplayRun run{o.logs,
                *session,
                other.get(),
                o.all,
                [&](ReplayedLine&& line) {
                  out << line.text() << "\n";
                  return static_cast<bool>(out);
                },
                [&](std::uint64_t done, std::uint64_t total) {
                  if (!progress) progress.emplace(total, o.progress);
                  progress->tick(done);
                },
                o.jobs,
                {}};  // the whole of each log
  const std::vector<std::string> problems = replay_logs(run, tally);
  for (const std::string& problem : problems) std::cerr << "error: " << problem << "\n";
  int failures = static_cast<int>(problems.size());

  if (std::string error;
      !o.summary_path.empty() &&
      !util::write_output_file(o.summary_path, replay_summary_text(tally), error)) {
    std::cerr << "error: " << error << "\n";
    ++failures;
  }
  std::cerr << replay_totals(tally, o.what_if) << "\n";
  return failures == 0 ? kExitOk : kExitInputError;
}

}  // namespace

int run_replay(const ReplayOptions& o, std::ostream& out) {
  try {
    return replay_logs(o, out);
  } catch (const std::system_error& e) {  // a thread could not be started (--jobs)
    std::cerr << "error: replay --jobs " << o.jobs << ": cannot start a thread (" << e.what()
              << ")\n";
    return kExitInputError;
  }
}

namespace {

// A clear word for 0, a negative number or one past the limit, instead of CLI11's conversion text.
std::string jobs_in_range(const std::string& text) {
  std::uint64_t n = 0;
  const bool number = !text.empty() && text.size() <= 6 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (number) n = std::stoull(text);
  if (number && n >= 1 && n <= replay::kMaxJobs) return {};
  return "must be a whole number of threads from 1 to " + std::to_string(replay::kMaxJobs) +
         ", not '" + text + "'";
}

}  // namespace

Subcommand register_replay(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Replay Sysmon registry events (EVTX, XML, JSON lines, .gz) through a policy, in time order");
  cmd->footer(
      "set-value's new data comes from Sysmon's Details, for conditions on data and details (SPEC "
      "10): DWORD, QWORD, strings and (Empty) (taken as an empty REG_SZ) are recovered; Binary "
      "Data is not (Sysmon does not log the bytes), so data and details tests do not hold for it; "
      "a "
      "REG_EXPAND_SZ or REG_MULTI_SZ reads as REG_SZ (the log does not say the type).");
  cmd->add_option("logs", o->logs, "Event logs: .evtx, XML, JSON lines (plain or .gz)")->required();
  cmd->add_option("--policy", o->policy,
                  "Policy file (.yaml or .hwp); default: the built-in policy");
  cmd->add_option("--what-if", o->what_if,
                  "A second policy: print only the events on which the two differ");
  cmd->add_option("--summary", o->summary_path,
                  "Write the summary (counts, top keys and processes) as JSON here");
  cmd->add_flag("--all", o->all, "A line for every event, not only the denied or reported ones");
  cmd->add_flag("!--no-progress", o->progress, "No progress bar");
  cmd->add_option(
         "--jobs,-j", o->jobs,
         "Threads reading and deciding in parallel, 1 to " + std::to_string(replay::kMaxJobs) +
             " (default 1: the output and summary are the same at any number, and more "
             "threads pay only on large logs, taking cores from other work; about 1.5x to 1.7x "
             "on 2 cores for a large gzip JSON log)")
      ->check(jobs_in_range);
  return {cmd, [o] { return run_replay(*o, std::cout); }};
}

}  // namespace hivewarden::cli
