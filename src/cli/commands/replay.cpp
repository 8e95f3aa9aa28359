// `hivewarden replay`: real Windows event logs (Sysmon 12/13/14) through a policy, in time order.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/explain.hpp"
#include "hivewarden/cli/operation_input.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/ordered_pool.hpp"
#include "hivewarden/util/output_file.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

struct Tally {
  std::map<std::string, std::uint64_t> by_decision, by_reason, by_op, by_client, by_rule, keys,
      processes, unmapped;
  std::uint64_t decided = 0;
  std::uint64_t notifications = 0, notification_bytes = 0;  // §7 records the policy would send
};

nlohmann::ordered_json top(const std::map<std::string, std::uint64_t>& counts, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < v.size() && i < n; ++i)
    out.push_back({{"name", v[i].first}, {"count", v[i].second}});
  return out;
}

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

// Every event is held until all logs are read, to replay them in time order; held packed (one
// string of length-prefixed fields) so a log of many small events costs little more than its text.
class HeldEvents {
  template <typename Event>
  static auto fields(Event& e) {
    return std::array{&e.event_type,   &e.target_object, &e.details,  &e.new_name_path, &e.image,
                      &e.process_guid, &e.computer,      &e.utc_time, &e.unreadable};
  }

 public:
  explicit HeldEvents(const std::vector<std::string>& sources) : sources_(sources) {}

  void add(const replay::RegistryEvent& e, std::uint32_t source) {
    Held h{e.time_key, e.index, source, e.event_id, e.pid, e.thread, {}};
    for (const std::string* f : fields(e)) {
      for (std::size_t n = f->size();; n >>= 7) {  // the length, 7 bits a byte, low first
        h.fields += static_cast<char>((n & 0x7F) | (n > 0x7F ? 0x80 : 0));
        if (n <= 0x7F) break;
      }
      h.fields += *f;
    }
    order_.push_back({e.time_key, static_cast<std::uint64_t>(held_.size())});
    held_.push_back(std::move(h));
  }
  std::size_t size() const { return held_.size(); }
  // Time order; a file's order (then the order of the files) breaks ties.
  void sort() {
    if (!std::is_sorted(order_.begin(), order_.end())) std::sort(order_.begin(), order_.end());
  }
  void get(std::size_t i, replay::RegistryEvent& e) const {
    const Held& h = held_[order_[i].second];
    e.source = sources_[h.source];
    e.index = h.index;
    e.event_id = h.event_id;
    e.pid = h.pid;
    e.thread = h.thread;
    e.time_key = h.time_key;
    std::size_t at = 0;
    for (std::string* f : fields(e)) {
      std::size_t n = 0;
      for (int shift = 0;; shift += 7) {
        const auto byte = static_cast<unsigned char>(h.fields[at++]);
        n |= static_cast<std::size_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) break;
      }
      f->assign(h.fields, at, n);
      at += n;
    }
  }

 private:
  struct Held {
    std::int64_t time_key;
    std::uint64_t index;
    std::uint32_t source, event_id, pid, thread;
    std::string fields;
  };

  const std::vector<std::string>& sources_;
  std::deque<Held> held_;
  std::vector<std::pair<std::int64_t, std::uint64_t>> order_;
};

}  // namespace

namespace {

// Reads every log into `events` (time order) on `jobs` threads, the errors printed in the order of
// reading the logs in turn; returns how many logs could not be read whole.
int read_logs(const std::vector<std::string>& logs, unsigned jobs, HeldEvents& events,
              replay::ReadStats& stats) {
  const int failures = replay::read_logs_in_order(
      logs, jobs, [&](std::uint32_t log, replay::RegistryEvent&& e) { events.add(e, log); }, stats,
      [](const std::string& error) { std::cerr << "error: " << error << "\n"; });
  events.sort();  // stable: a file's order breaks ties
  return failures;
}

void add_counts(std::map<std::string, std::uint64_t>& into,
                const std::map<std::string, std::uint64_t>& from) {
  for (const auto& [name, n] : from) into[name] += n;
}

void add_tally(Tally& into, const Tally& from) {
  for (auto [to, by] : {std::pair{&into.by_decision, &from.by_decision},
                        {&into.by_reason, &from.by_reason},
                        {&into.by_op, &from.by_op},
                        {&into.by_client, &from.by_client},
                        {&into.by_rule, &from.by_rule},
                        {&into.keys, &from.keys},
                        {&into.processes, &from.processes},
                        {&into.unmapped, &from.unmapped}})
    add_counts(*to, *by);
  into.decided += from.decided;
  into.notifications += from.notifications;
  into.notification_bytes += from.notification_bytes;
}

void count(Tally& tally, const DecidedOperation& decided, const replay::RegistryEvent& e) {
  const Decision& d = decided.decision;
  ++tally.decided;
  if (decided.reported) {
    ++tally.notifications;
    tally.notification_bytes += record_size(decided.record.input);
  }
  ++tally.by_decision[verdict_name(d.verdict)];
  ++tally.by_reason[reason_name(d.reason)];
  ++tally.by_op[std::string(traits(decided.request.op).name)];
  for (const auto& c : decided.explanation.clients) ++tally.by_client[c];
  for (const NamedBit& nb : kRuleNames) {
    if (d.rules & nb.bit) ++tally.by_rule[std::string(nb.name)];
  }
  if (d.verdict == Verdict::kDeny || d.notify != NotifyMode::kNone) {
    ++tally.keys[decided.explanation.canonical_key];
    ++tally.processes[e.image];
  }
}

// The output line of one event: its decision (and, with a what-if policy, the other one when they
// differ), where it came from. Empty when the event is not printed.
std::optional<nlohmann::ordered_json> event_line(const ReplayOptions& o,
                                                 const DecidedOperation& decided,
                                                 const DecidedOperation* what_if,
                                                 const replay::RegistryEvent& e) {
  const Decision& d = decided.decision;
  const Explanation& x = decided.explanation;
  nlohmann::ordered_json line;
  if (what_if != nullptr) {
    const Decision& od = what_if->decision;
    if (od.verdict == d.verdict && od.reason == d.reason && od.notify == d.notify &&
        what_if->explanation.clients == x.clients)
      return std::nullopt;
    line["policy"] = decision_json(d, x, false);
    line["what_if"] = decision_json(od, what_if->explanation, false);
  } else if (o.all || d.verdict == Verdict::kDeny || d.notify != NotifyMode::kNone) {
    line = decision_json(d, x, false);
  } else {
    return std::nullopt;
  }
  line["time"] = e.utc_time;
  line["computer"] = e.computer;
  line["process"] = {{"image", e.image}, {"pid", e.pid}, {"guid", e.process_guid}};
  const OperationRequest& op = decided.request;
  line["op"] = traits(op.op).name;
  line["event"] = {{"source", e.source}, {"index", e.index}, {"id", e.event_id}};
  if (!op.value.empty() || op.op == Operation::kSetValue || op.op == Operation::kDeleteValue)
    line["value"] = utf16_to_utf8(op.value);
  if (!e.details.empty()) line["details"] = e.details;
  return line;
}

nlohmann::ordered_json summary_json(const replay::ReadStats& stats, const Tally& tally,
                                    bool what_if, std::uint64_t differing) {
  nlohmann::ordered_json summary;
  summary["records"] = stats.records;
  summary["registry_events"] = stats.registry;
  summary["decided"] = tally.decided;
  summary["notifications"] = {{"count", tally.notifications}, {"bytes", tally.notification_bytes}};
  nlohmann::ordered_json skipped = nlohmann::ordered_json::object();
  for (const auto& [k, v] : stats.skipped) skipped[k] = v;
  summary["skipped_by_id"] = skipped;
  summary["unmapped"] = tally.unmapped;
  summary["by_decision"] = tally.by_decision;
  summary["by_reason"] = tally.by_reason;
  summary["by_operation"] = tally.by_op;
  summary["by_client"] = tally.by_client;
  summary["by_rule"] = tally.by_rule;
  summary["top_keys"] = top(tally.keys, 10);
  summary["top_processes"] = top(tally.processes, 10);
  if (what_if) summary["differing"] = differing;
  return summary;
}

void print_totals(const ReplayOptions& o, const replay::ReadStats& stats, const Tally& tally,
                  std::uint64_t differing) {
  std::cerr << "replay: " << stats.registry << " registry events of " << stats.records
            << " records; " << tally.decided << " decided (";
  bool first = true;
  for (const auto& [k, v] : tally.by_reason) {
    std::cerr << (first ? "" : ", ") << k << " " << v;
    first = false;
  }
  std::uint64_t unmapped = 0;
  for (const auto& [k, v] : tally.unmapped) unmapped += v;
  std::cerr << "); " << unmapped << " not mapped";
  if (!o.what_if.empty()) std::cerr << "; " << differing << " differ under " << o.what_if;
  std::cerr << "\n";
}

}  // namespace

namespace {

// The policy (and what-if policy) one deciding thread uses.
struct Deciders {
  std::unique_ptr<PolicySession> policy, what_if;
};

// What deciding a run of events (in time order) came to.
struct Decided {
  Tally tally;
  std::uint64_t differing = 0;
  std::string lines;  // the output lines, each ending in "\n"
};

// Decides one event, counting it; the line to print, if any.
std::optional<std::string> replay_event(const ReplayOptions& o, Deciders& d,
                                        const replay::RegistryEvent& e, Decided& into) {
  std::string why;
  auto mapped = replay::map_event(e, why);
  if (!mapped) {
    ++into.tally.unmapped[why];
    return std::nullopt;
  }
  OperationInput input;  // the log says the operation happened: its post-operation succeeds
  input.operation = std::move(*mapped);
  const DecidedOperation decided = decide_operation(*d.policy, input);
  if (decided.key_status != PathStatus::kOk && decided.key_status != PathStatus::kInvalidName) {
    ++into.tally.unmapped[std::string("key: ") + path_status_text(decided.key_status)];
    return std::nullopt;
  }
  count(into.tally, decided, e);
  std::optional<DecidedOperation> what_if;
  if (d.what_if) what_if = decide_operation(*d.what_if, input);
  const auto line = event_line(o, decided, what_if ? &*what_if : nullptr, e);
  if (!line) return std::nullopt;
  if (what_if) ++into.differing;
  return line->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// One thread: each line written as it is decided, stopping at a failed write.
Decided decide_in_turn(const ReplayOptions& o, Deciders& d, const HeldEvents& events,
                       Progress& progress, std::ostream& out) {
  Decided all;
  replay::RegistryEvent e;
  for (std::size_t i = 0; i < events.size(); ++i) {
    events.get(i, e);
    progress.tick(i + 1);
    if (const auto line = replay_event(o, d, e, all)) {
      out << *line;
      if (!out) break;
    }
  }
  return all;
}

// The deciders the pool's threads borrow, one per thread: a task takes one for its run of events.
class DecidersPool {
 public:
  void give(Deciders d) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(d));
  }
  Deciders take() {
    std::lock_guard lock(mutex_);
    Deciders d = std::move(free_.back());  // never empty: no more tasks run than deciders exist
    free_.pop_back();
    return d;
  }

 private:
  std::mutex mutex_;
  std::vector<Deciders> free_;
};

constexpr std::size_t kDecideBatch = 1024;  // events per task

// `jobs` threads, each deciding runs of kDecideBatch events with its own engines; the runs are
// written and counted in time order, at most kBatchesInFlightPerJob * jobs runs held at once.
class ParallelDecider {
 public:
  ParallelDecider(const ReplayOptions& o, const PolicySession& policy, const PolicySession* what_if,
                  const HeldEvents& events, Progress& progress, std::ostream& out)
      : o_(o),
        policy_(policy),
        what_if_(what_if),
        events_(events),
        progress_(progress),
        out_(out) {}

  // False when a thread's engine cannot be started.
  bool run(Decided& all) {
    for (unsigned i = 0; i < o_.jobs; ++i) {
      auto d = copy_deciders();
      if (!d) {
        std::cerr << "error: cannot start an engine for deciding thread " << i + 1 << "\n";
        return false;
      }
      deciders_.give(std::move(*d));
    }
    util::OrderedPool<Run> pool(o_.jobs, replay::kBatchesInFlightPerJob * o_.jobs);
    for (std::size_t begin = 0; begin < events_.size() && writing_; begin += kDecideBatch) {
      while (pool.full()) hand_on(pool.take(), all);
      pool.submit([this, begin] { return decide(begin); });
    }
    while (!pool.empty()) hand_on(pool.take(), all);
    return true;
  }

 private:
  struct Run {
    std::size_t begin = 0, end = 0;
    Decided decided;
    std::vector<std::pair<std::size_t, std::size_t>> lines;  // where each line ends; its event
  };

  std::optional<Deciders> copy_deciders() const {
    Deciders d{copy_policy_session(policy_), what_if_ ? copy_policy_session(*what_if_) : nullptr};
    if (!d.policy || (what_if_ && !d.what_if)) return std::nullopt;
    return d;
  }

  Run decide(std::size_t begin) {
    Run run;
    run.begin = begin;
    run.end = std::min(begin + kDecideBatch, events_.size());
    Deciders d = deciders_.take();
    replay::RegistryEvent e;
    for (std::size_t i = run.begin; i < run.end; ++i) {
      events_.get(i, e);
      if (const auto line = replay_event(o_, d, e, run.decided)) {
        run.decided.lines += *line;
        run.lines.emplace_back(run.decided.lines.size(), i);
      }
    }
    deciders_.give(std::move(d));
    return run;
  }

  // Writes a run's lines one by one as deciding in turn does, so a failed write is seen at the
  // same line; then nothing more is counted than deciding in turn would have counted.
  void hand_on(const Run& run, Decided& all) {
    if (!writing_) return;
    std::size_t at = 0, ticked = run.begin;
    for (const auto& [end, event] : run.lines) {
      for (; ticked <= event; ++ticked) progress_.tick(ticked + 1);
      out_ << std::string_view(run.decided.lines).substr(at, end - at);
      at = end;
      if (!out_) return count_in_turn(run.begin, event + 1, all);
    }
    for (; ticked < run.end; ++ticked) progress_.tick(ticked + 1);
    add_tally(all.tally, run.decided.tally);
    all.differing += run.decided.differing;
  }

  // The counts of events [begin, end) decided again here, their lines dropped (after a failed
  // write, where deciding in turn stops).
  void count_in_turn(std::size_t begin, std::size_t end, Decided& all) {
    writing_ = false;
    auto d = copy_deciders();
    if (!d) return;
    Decided recount;
    replay::RegistryEvent e;
    for (std::size_t i = begin; i < end; ++i) {
      events_.get(i, e);
      replay_event(o_, *d, e, recount);
    }
    add_tally(all.tally, recount.tally);
    all.differing += recount.differing;
  }

  const ReplayOptions& o_;
  const PolicySession& policy_;
  const PolicySession* what_if_;
  const HeldEvents& events_;
  Progress& progress_;
  std::ostream& out_;
  DecidersPool deciders_;
  bool writing_ = true;
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
  HeldEvents events(o.logs);
  replay::ReadStats stats;
  int failures = read_logs(o.logs, o.jobs, events, stats);

  Progress progress(events.size(), o.progress);
  Decided decided;
  if (o.jobs <= 1) {
    Deciders d{std::move(session), std::move(other)};
    decided = decide_in_turn(o, d, events, progress, out);
  } else if (!ParallelDecider(o, *session, other.get(), events, progress, out).run(decided)) {
    return kExitInputError;
  }
  const Tally& tally = decided.tally;

  const nlohmann::ordered_json summary =
      summary_json(stats, tally, !o.what_if.empty(), decided.differing);
  if (std::string error;
      !o.summary_path.empty() &&
      !util::write_output_file(
          o.summary_path,
          summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", error)) {
    std::cerr << "error: " << error << "\n";
    ++failures;
  }
  print_totals(o, stats, tally, decided.differing);
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
