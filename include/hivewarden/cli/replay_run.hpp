// Replaying event logs through a policy, as `hivewarden replay` does and the Python module's
// replay() does: read every log, decide each registry event in time order, count, and hand on the
// lines replay prints. The counts add up (ReplayCounts::merge), so runs over parts of a fleet's
// logs merge into the run over all of them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/replay/readers.hpp"

namespace hivewarden::cli {

using Counts = std::map<std::string, std::uint64_t>;

// Everything replay counts: whole (keys and processes are not cut to a top ten), so that merging
// the counts of two runs gives the counts of one run over both runs' logs.
struct ReplayCounts {
  replay::ReadStats read;
  Counts by_decision, by_reason, by_op, by_client, by_rule, keys, processes, unmapped;
  std::uint64_t decided = 0;
  std::uint64_t notifications = 0, notification_bytes = 0;  // §7 records the policy would send
  std::uint64_t differing = 0;                              // events the what-if policy differs on
  bool what_if = false;

  void merge(const ReplayCounts& other);
  nlohmann::ordered_json to_json() const;
  // The counts to_json wrote; false with `error` naming the field that is not a count.
  static bool from_json(const nlohmann::json& json, ReplayCounts& out, std::string& error);
};

// The summary `replay --summary` writes: the counts, with the ten most frequent keys and processes.
nlohmann::ordered_json replay_summary(const ReplayCounts& counts);
// The summary file's text, as `replay --summary` writes it.
std::string replay_summary_text(const ReplayCounts& counts);
// The totals line replay prints to stderr at the end (without the newline); `what_if_name` the
// what-if policy's path as given, when there is one.
std::string replay_totals(const ReplayCounts& counts, const std::string& what_if_name);

// One line replay prints, with its place in time order: the event's time, then its position in the
// order the logs were read (file by file, each in its own order).
struct ReplayedLine {
  nlohmann::ordered_json json;
  std::int64_t time_key = 0;
  std::uint64_t position = 0;

  // The line as replay prints it (without the newline).
  std::string text() const;
};

struct ReplayRun {
  const std::vector<std::string>& logs;
  PolicySession& session;
  PolicySession* what_if = nullptr;  // print only the events on which the two policies differ
  bool all = false;                  // a line for every event, not only denied or reported ones
  // Each line, in time order; false stops the replay (the output is gone).
  std::function<bool(ReplayedLine&&)> line;
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;  // optional
  // Threads reading and deciding (1 to replay::kMaxJobs): the lines, their order, the counts and
  // the problems are the same at any number. `line` and `progress` are called on the calling
  // thread only.
  unsigned jobs = 1;
  // One part of each log (k of K, see replay::ReadPart): its events decided and counted; positions
  // still in the order of reading, so parts of one log merge by (time, event index).
  replay::ReadPart part;
};

// Replays `run.logs`, adding to `counts`. Returns the problems met (each log that could not be read
// whole, naming the file and the record, in the order of the logs); every event read before a
// problem is replayed. Throws std::system_error when a thread cannot be started.
std::vector<std::string> replay_logs(const ReplayRun& run, ReplayCounts& counts);

}  // namespace hivewarden::cli
