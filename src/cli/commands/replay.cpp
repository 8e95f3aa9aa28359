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
#include <optional>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/explain.hpp"
#include "hivewarden/cli/operation_input.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/replay/readers.hpp"
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

// Reads every log into `events` (time order); returns how many logs could not be read whole.
int read_logs(const std::vector<std::string>& logs, HeldEvents& events, replay::ReadStats& stats) {
  int failures = 0;
  for (std::uint32_t source = 0; source < logs.size(); ++source) {
    std::string error;
    if (!replay::read_events(
            logs[source], [&](replay::RegistryEvent&& e) { events.add(e, source); }, stats,
            error)) {
      std::cerr << "error: " << error << "\n";
      ++failures;
    }
  }
  events.sort();  // stable: a file's order breaks ties
  return failures;
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

int run_replay(const ReplayOptions& o, std::ostream& out) {
  auto session = open_policy_session(o.policy);
  if (!session) return kExitInputError;
  std::unique_ptr<PolicySession> other;
  if (!o.what_if.empty()) {
    other = open_policy_session(o.what_if);
    if (!other) return kExitInputError;
  }
  HeldEvents events(o.logs);
  replay::ReadStats stats;
  int failures = read_logs(o.logs, events, stats);

  Tally tally;
  Progress progress(events.size(), o.progress);
  std::uint64_t differing = 0;
  replay::RegistryEvent e;
  for (std::size_t i = 0; i < events.size(); ++i) {
    events.get(i, e);
    progress.tick(i + 1);
    std::string why;
    auto mapped = replay::map_event(e, why);
    if (!mapped) {
      ++tally.unmapped[why];
      continue;
    }
    OperationInput input;  // the log says the operation happened: its post-operation succeeds
    input.operation = std::move(*mapped);
    const DecidedOperation decided = decide_operation(*session, input);
    if (decided.key_status != PathStatus::kOk && decided.key_status != PathStatus::kInvalidName) {
      ++tally.unmapped[std::string("key: ") + path_status_text(decided.key_status)];
      continue;
    }
    count(tally, decided, e);
    std::optional<DecidedOperation> what_if;
    if (other) what_if = decide_operation(*other, input);
    const auto line = event_line(o, decided, what_if ? &*what_if : nullptr, e);
    if (!line) continue;
    if (what_if) ++differing;
    out << line->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!out) break;
  }

  const nlohmann::ordered_json summary = summary_json(stats, tally, other != nullptr, differing);
  if (std::string error;
      !o.summary_path.empty() &&
      !util::write_output_file(
          o.summary_path,
          summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", error)) {
    std::cerr << "error: " << error << "\n";
    ++failures;
  }
  print_totals(o, stats, tally, differing);
  return failures == 0 ? kExitOk : kExitInputError;
}

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
  return {cmd, [o] { return run_replay(*o, std::cout); }};
}

}  // namespace hivewarden::cli
