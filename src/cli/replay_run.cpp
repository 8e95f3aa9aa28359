#include "hivewarden/cli/replay_run.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <mutex>
#include <optional>

#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/explain.hpp"
#include "hivewarden/util/ordered_pool.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

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
  // Where the i-th event in time order was read: file by file, each in its own order.
  std::uint64_t position(std::size_t i) const { return order_[i].second; }
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

// Reads every log into `events` (time order) on `jobs` threads; returns the problems of the logs
// not read whole, in the order of reading the logs in turn.
std::vector<std::string> read_logs(const std::vector<std::string>& logs, unsigned jobs,
                                   replay::ReadPart part, HeldEvents& events,
                                   replay::ReadStats& stats) {
  std::vector<std::string> problems;
  replay::read_logs_in_order(
      logs, jobs, [&](std::uint32_t log, replay::RegistryEvent&& e) { events.add(e, log); }, stats,
      [&](const std::string& error) { problems.push_back(error); }, part);
  events.sort();  // stable: a file's order breaks ties
  return problems;
}

void count(ReplayCounts& tally, const DecidedOperation& decided, const replay::RegistryEvent& e) {
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
std::optional<nlohmann::ordered_json> event_line(bool all, const DecidedOperation& decided,
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
  } else if (all || d.verdict == Verdict::kDeny || d.notify != NotifyMode::kNone) {
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

}  // namespace

nlohmann::ordered_json replay_summary(const ReplayCounts& tally) {
  const replay::ReadStats& stats = tally.read;
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
  if (tally.what_if) summary["differing"] = tally.differing;
  return summary;
}

std::string replay_summary_text(const ReplayCounts& counts) {
  return replay_summary(counts).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string replay_totals(const ReplayCounts& tally, const std::string& what_if_name) {
  const replay::ReadStats& stats = tally.read;
  std::string out = "replay: " + std::to_string(stats.registry) + " registry events of " +
                    std::to_string(stats.records) + " records; " + std::to_string(tally.decided) +
                    " decided (";
  bool first = true;
  for (const auto& [k, v] : tally.by_reason) {
    out += (first ? "" : ", ") + k + " " + std::to_string(v);
    first = false;
  }
  std::uint64_t unmapped = 0;
  for (const auto& [k, v] : tally.unmapped) unmapped += v;
  out += "); " + std::to_string(unmapped) + " not mapped";
  if (tally.what_if)
    out += "; " + std::to_string(tally.differing) + " differ under " + what_if_name;
  return out;
}

std::string ReplayedLine::text() const {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

void add_counts(Counts& into, const Counts& from) {
  for (const auto& [name, n] : from) into[name] += n;
}

// The count maps of ReplayCounts by the names to_json gives them.
template <typename Counts_, typename Stats>
auto named_maps(Counts_& c, Stats& read) {
  return std::array<std::pair<const char*, decltype(&c.keys)>, 9>{{{"skipped_by_id", &read.skipped},
                                                                   {"unmapped", &c.unmapped},
                                                                   {"by_decision", &c.by_decision},
                                                                   {"by_reason", &c.by_reason},
                                                                   {"by_operation", &c.by_op},
                                                                   {"by_client", &c.by_client},
                                                                   {"by_rule", &c.by_rule},
                                                                   {"keys", &c.keys},
                                                                   {"processes", &c.processes}}};
}

template <typename Counts_, typename Stats>
auto named_numbers(Counts_& c, Stats& read) {
  return std::array<std::pair<const char*, decltype(&c.decided)>, 6>{
      {{"records", &read.records},
       {"registry_events", &read.registry},
       {"decided", &c.decided},
       {"notifications", &c.notifications},
       {"notification_bytes", &c.notification_bytes},
       {"differing", &c.differing}}};
}

bool read_count(const nlohmann::json& v, const std::string& field, std::uint64_t& out,
                std::string& error) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    error = "counts: `" + field + "` must be a non-negative integer";
    return false;
  }
  out = v.get<std::uint64_t>();
  return true;
}

}  // namespace

void ReplayCounts::merge(const ReplayCounts& other) {
  auto mine = named_maps(*this, read);
  const auto theirs = named_maps(other, other.read);
  for (std::size_t i = 0; i < mine.size(); ++i) add_counts(*mine[i].second, *theirs[i].second);
  auto my_numbers = named_numbers(*this, read);
  const auto their_numbers = named_numbers(other, other.read);
  for (std::size_t i = 0; i < my_numbers.size(); ++i)
    *my_numbers[i].second += *their_numbers[i].second;
  what_if = what_if || other.what_if;
}

nlohmann::ordered_json ReplayCounts::to_json() const {
  nlohmann::ordered_json out;
  for (const auto& [name, n] : named_numbers(*this, read)) out[name] = *n;
  out["what_if"] = what_if;
  for (const auto& [name, counts] : named_maps(*this, read))
    out[name] =
        counts->empty() ? nlohmann::ordered_json::object() : nlohmann::ordered_json(*counts);
  return out;
}

bool ReplayCounts::from_json(const nlohmann::json& json, ReplayCounts& out, std::string& error) {
  out = ReplayCounts{};
  if (!json.is_object()) {
    error = "counts: expected an object";
    return false;
  }
  for (const auto& [name, n] : named_numbers(out, out.read)) {
    auto it = json.find(name);
    if (it != json.end() && !read_count(*it, name, *n, error)) return false;
  }
  if (auto it = json.find("what_if"); it != json.end())
    out.what_if = it->is_boolean() && it->get<bool>();
  for (const auto& [name, counts] : named_maps(out, out.read)) {
    auto it = json.find(name);
    if (it == json.end()) continue;
    if (!it->is_object()) {
      error = std::string("counts: `") + name + "` must be an object of counts";
      return false;
    }
    for (const auto& [key, v] : it->items()) {
      if (!read_count(v, std::string(name) + "." + key, (*counts)[key], error)) return false;
    }
  }
  return true;
}

namespace {

// The policy (and what-if policy) one deciding thread uses.
struct Deciders {
  PolicySession* policy = nullptr;
  PolicySession* what_if = nullptr;
};

// Decides one event, counting it; the line to print, if any.
std::optional<nlohmann::ordered_json> replay_event(const ReplayRun& run, const Deciders& d,
                                                   const replay::RegistryEvent& e,
                                                   ReplayCounts& tally) {
  std::string why;
  auto mapped = replay::map_event(e, why);
  if (!mapped) {
    ++tally.unmapped[why];
    return std::nullopt;
  }
  OperationInput input;  // the log says the operation happened: its post-operation succeeds
  input.operation = std::move(*mapped);
  const DecidedOperation decided = decide_operation(*d.policy, input);
  if (decided.key_status != PathStatus::kOk && decided.key_status != PathStatus::kInvalidName) {
    ++tally.unmapped[std::string("key: ") + path_status_text(decided.key_status)];
    return std::nullopt;
  }
  count(tally, decided, e);
  std::optional<DecidedOperation> what_if;
  if (d.what_if) what_if = decide_operation(*d.what_if, input);
  auto line = event_line(run.all, decided, what_if ? &*what_if : nullptr, e);
  if (line && what_if) ++tally.differing;
  return line;
}

// One thread: each line handed on as it is decided, stopping when the output is gone.
void decide_in_turn(const ReplayRun& run, const HeldEvents& events, ReplayCounts& tally) {
  const Deciders d{&run.session, run.what_if};
  replay::RegistryEvent e;
  for (std::size_t i = 0; i < events.size(); ++i) {
    events.get(i, e);
    if (run.progress) run.progress(i + 1, events.size());
    if (auto line = replay_event(run, d, e, tally)) {
      if (!run.line({std::move(*line), e.time_key, events.position(i)})) break;
    }
  }
}

// A deciding thread's own sessions (own call contexts and scratch) on the run's policies.
struct OwnDeciders {
  std::unique_ptr<PolicySession> policy, what_if;
  Deciders view() const { return {policy.get(), what_if.get()}; }
};

// The deciders the pool's threads borrow, one per thread: a task takes one for its run of events.
class DecidersPool {
 public:
  void give(OwnDeciders d) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(d));
  }
  OwnDeciders take() {
    std::lock_guard lock(mutex_);
    OwnDeciders d = std::move(free_.back());  // never empty: no more tasks run than deciders
    free_.pop_back();
    return d;
  }

 private:
  std::mutex mutex_;
  std::vector<OwnDeciders> free_;
};

constexpr std::size_t kDecideBatch = 1024;  // events per task

// `run.jobs` threads, each deciding runs of kDecideBatch events with its own engines; the runs are
// handed on and counted in time order, at most kBatchesInFlightPerJob * jobs runs held at once.
class ParallelDecider {
 public:
  ParallelDecider(const ReplayRun& run, const HeldEvents& events) : run_(run), events_(events) {}

  // False with `problem` when a thread's engine cannot be started.
  bool decide_all(ReplayCounts& tally, std::string& problem) {
    for (unsigned i = 0; i < run_.jobs; ++i) {
      auto d = copy_deciders();
      if (!d) {
        problem = "cannot start an engine for deciding thread " + std::to_string(i + 1);
        return false;
      }
      deciders_.give(std::move(*d));
    }
    util::OrderedPool<Run> pool(run_.jobs, replay::kBatchesInFlightPerJob * run_.jobs);
    for (std::size_t begin = 0; begin < events_.size() && writing_; begin += kDecideBatch) {
      while (pool.full()) hand_on(pool.take(), tally);
      pool.submit([this, begin] { return decide(begin); });
    }
    while (!pool.empty()) hand_on(pool.take(), tally);
    return true;
  }

 private:
  struct Run {
    std::size_t begin = 0, end = 0;
    ReplayCounts tally;
    std::vector<std::pair<ReplayedLine, std::size_t>> lines;  // each line, its event
  };

  std::optional<OwnDeciders> copy_deciders() const {
    OwnDeciders d{copy_policy_session(run_.session),
                  run_.what_if ? copy_policy_session(*run_.what_if) : nullptr};
    if (!d.policy || (run_.what_if && !d.what_if)) return std::nullopt;
    return d;
  }

  Run decide(std::size_t begin) {
    Run run;
    run.begin = begin;
    run.end = std::min(begin + kDecideBatch, events_.size());
    OwnDeciders d = deciders_.take();
    replay::RegistryEvent e;
    for (std::size_t i = run.begin; i < run.end; ++i) {
      events_.get(i, e);
      if (auto line = replay_event(run_, d.view(), e, run.tally))
        run.lines.push_back({{std::move(*line), e.time_key, events_.position(i)}, i});
    }
    deciders_.give(std::move(d));
    return run;
  }

  void tick(std::size_t done) {
    if (run_.progress) run_.progress(done, events_.size());
  }

  // Hands a run's lines on one by one as deciding in turn does, so a lost output is seen at the
  // same line; then nothing more is counted than deciding in turn would have counted.
  void hand_on(Run run, ReplayCounts& tally) {
    if (!writing_) return;
    std::size_t ticked = run.begin;
    for (auto& [line, event] : run.lines) {
      for (; ticked <= event; ++ticked) tick(ticked + 1);
      if (!run_.line(std::move(line))) return count_in_turn(run.begin, event + 1, tally);
    }
    for (; ticked < run.end; ++ticked) tick(ticked + 1);
    tally.merge(run.tally);
  }

  // The counts of events [begin, end) decided again here, their lines dropped (after the output
  // was lost, where deciding in turn stops).
  void count_in_turn(std::size_t begin, std::size_t end, ReplayCounts& tally) {
    writing_ = false;
    auto d = copy_deciders();
    if (!d) return;
    replay::RegistryEvent e;
    for (std::size_t i = begin; i < end; ++i) {
      events_.get(i, e);
      replay_event(run_, d->view(), e, tally);
    }
  }

  const ReplayRun& run_;
  const HeldEvents& events_;
  DecidersPool deciders_;
  bool writing_ = true;
};

}  // namespace

std::vector<std::string> replay_logs(const ReplayRun& run, ReplayCounts& tally) {
  const unsigned jobs = std::clamp(run.jobs, 1U, replay::kMaxJobs);
  HeldEvents events(run.logs);
  std::vector<std::string> problems = read_logs(run.logs, jobs, run.part, events, tally.read);
  tally.what_if = tally.what_if || run.what_if != nullptr;
  if (jobs <= 1) {
    decide_in_turn(run, events, tally);
  } else if (std::string problem; !ParallelDecider(run, events).decide_all(tally, problem)) {
    problems.push_back(problem);
  }
  return problems;
}

}  // namespace hivewarden::cli
