// `hivewarden bench`: the engine against its baselines on generated policies, in one run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <thread>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/perf/matchers.hpp"
#include "hivewarden/policy/compile.hpp"

namespace hivewarden::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_ns = 0, p99_ns = 0;
  std::size_t ops = 0;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Per-operation times over the paths (half key operations, half value operations), until all are
// done or the time budget is spent. The clock's own cost is measured and taken off.
Timing measure(perf::KeyMatcher& m, const std::vector<std::u16string>& paths,
               double budget_seconds) {
  static const double clock_cost = [] {
    const auto t0 = Clock::now();
    for (int i = 0; i < 100000; ++i) (void)Clock::now();
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / 100000;
  }();
  std::vector<double> samples;
  samples.reserve(paths.size());
  volatile std::uint32_t sink = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(200, paths.size()); ++i)
    sink = sink ^ m.match(paths[i], u"Value1", i % 2);  // warm up
  const auto start = Clock::now();
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const auto t0 = Clock::now();
    sink = sink ^ m.match(paths[i], u"Value1", i % 2 == 1);
    const auto t1 = Clock::now();
    samples.push_back(
        std::max(0.0, std::chrono::duration<double, std::nano>(t1 - t0).count() - clock_cost));
    if ((i & 63) == 0 && i >= 200 && seconds_since(start) > budget_seconds) break;
  }
  std::sort(samples.begin(), samples.end());
  Timing t;
  t.ops = samples.size();
  t.median_ns = samples[samples.size() / 2];
  t.p99_ns = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  return t;
}

constexpr int kNameWidth = 35;  // "hivewarden, every entry conditioned"

// The column widths of cells(): "x hivewarden" is wider than its numbers, so "ops" is narrower.
std::string text_header() {
  char b[200];
  std::snprintf(b, sizeof b, "%9s  %-*s %9s %9s %10s %12s %6s\n", "entries", kNameWidth, "matcher",
                "median", "p99", "x floor", "x hivewarden", "ops");
  return b;
}

void row(std::ostream& out, bool markdown, std::size_t size, const std::string& name,
         const std::string& cells) {
  char b[256];
  if (markdown) {
    std::snprintf(b, sizeof b, "| %zu | %s | %s |\n", size, name.c_str(), cells.c_str());
  } else {
    std::snprintf(b, sizeof b, "%9zu  %-*s %s\n", size, kNameWidth, name.c_str(), cells.c_str());
  }
  out << b;
  out.flush();  // long runs: show each row as it is measured
}

std::string cells(const Timing& t, double floor, double engine, bool markdown) {
  char b[200];
  std::snprintf(b, sizeof b,
                markdown ? "%.0f | %.0f | %.2f | %.2f | %zu" : "%9.0f %9.0f %9.2fx %9.2fx %8zu",
                t.median_ns, t.p99_ns, floor > 0 ? t.median_ns / floor : 0.0,
                engine > 0 ? t.median_ns / engine : 0.0, t.ops);
  return b;
}

// Two threads deciding while a third swaps between two prepared policies `swaps_per_second`
// times a second, against one thread alone: decisions per second, and whether any decision came
// from a half-swapped policy (every decision must give the rules of one whole policy).
void thread_scaling(std::ostream& out, const perf::GeneratedPolicy& a,
                    const perf::GeneratedPolicy& other, const std::vector<std::u16string>& paths,
                    double seconds, int swaps_per_second) {
  policy::Blob blob_a, blob_b;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::compile_policy(a.source, blob_a, problems) ||
      !policy::compile_policy(other.source, blob_b, problems))
    return;
  Engine engine;
  PolicyError error;
  const PolicyRef pa = engine.prepare_policy(blob_a.data(), blob_a.size(), error);
  const PolicyRef pb = engine.prepare_policy(blob_b.data(), blob_b.size(), error);
  engine.install_prepared(pa);
  auto run = [&](int threads, bool swapping) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> total{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        auto scratch = std::make_unique<DecisionScratch>();
        auto keys = std::make_unique<OperationKeys>();
        const CanonicalOptions options{pa.view().control_set(), {}};
        std::uint64_t n = 0;
        OperationRequest r;
        r.op = Operation::kCreateKey;
        r.thread_id = static_cast<std::uint64_t>(t + 1);
        for (std::size_t i = static_cast<std::size_t>(t); !stop.load(std::memory_order_relaxed);
             i = (i + 1) % paths.size()) {
          canonicalize_operation(paths[i], options, *keys, r);  // as a host does, once
          const Decision d = engine.decide(r, *scratch);
          if (d.context_kept) engine.complete(r.thread_id, r.op, true);
          ++n;
        }
        total += n;
      });
    }
    std::thread swapper;
    std::uint64_t swaps = 0;
    if (swapping) {
      swapper = std::thread([&] {
        bool use_b = true;
        const auto period = std::chrono::microseconds(1000000 / swaps_per_second);
        auto next = Clock::now();
        while (!stop.load()) {
          next += period;
          std::this_thread::sleep_until(next);
          engine.install_prepared(use_b ? pb : pa);
          use_b = !use_b;
          ++swaps;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& w : workers) w.join();
    if (swapper.joinable()) swapper.join();
    return std::pair<double, std::uint64_t>(static_cast<double>(total.load()) / seconds, swaps);
  };
  const auto one = run(1, true);
  const auto two = run(2, true);
  char b[300];
  std::snprintf(b, sizeof b,
                "threads (%zu-entry policy, swapped %d times a second): 1 thread %.0f decisions/s, "
                "2 threads %.0f decisions/s: "
                "%.2fx (%llu and %llu swaps)\n",
                a.patterns.size(), swaps_per_second, one.first, two.first, two.first / one.first,
                static_cast<unsigned long long>(one.second),
                static_cast<unsigned long long>(two.second));
  out << b;
}

// The same policy with conditions (SPEC §10), on the same paths: conditioned entries no path
// matches (as many as a tenth of the policy: they must cost nothing), then every entry
// conditioned with conditions that hold (the cost of evaluating them on each match). One engine
// at a time: at a million entries each blob is hundreds of megabytes.
bool measure_conditioned(std::ostream& out, const BenchOptions& o,
                         const perf::GeneratedPolicy& generated,
                         const std::vector<std::u16string>& paths, double floor_ns,
                         double engine_ns) {
  for (const bool elsewhere : {true, false}) {
    std::string error;
    std::unique_ptr<perf::KeyMatcher> m;
    {
      perf::GeneratedPolicy conditioned = generated;
      if (elsewhere) {
        perf::add_conditions_elsewhere(conditioned,
                                       std::max<std::size_t>(1, generated.patterns.size() / 10));
      } else {
        perf::condition_every_entry(conditioned);
      }
      m = perf::make_hivewarden(
          conditioned, error, perf::kBenchImage,
          elsewhere ? "hivewarden, conditions elsewhere" : "hivewarden, every entry conditioned");
    }
    if (!m) {
      std::cerr << "error: conditioned policy: " << error << "\n";
      return false;
    }
    row(out, o.markdown, generated.patterns.size(), m->name(),
        cells(measure(*m, paths, o.budget), floor_ns, engine_ns, o.markdown));
  }
  return true;
}

// The baselines on the same paths (the regex engines only up to --regex-max: they take minutes
// to build past it), their build times added to `policy_lines`.
void measure_baselines(std::ostream& out, const BenchOptions& o,
                       const perf::GeneratedPolicy& generated,
                       const std::vector<std::u16string>& paths, double floor_ns, double engine_ns,
                       std::string& policy_lines) {
  const std::size_t size = generated.patterns.size();
  std::string error;
  char line[300];
  std::vector<std::pair<std::string, std::unique_ptr<perf::KeyMatcher>>> baselines;
  if (size <= o.naive_max) baselines.emplace_back("", perf::make_naive(generated));
  baselines.emplace_back("", perf::make_writeup_tree(generated));
  if (size <= o.regex_max) {
    auto t0 = Clock::now();
    auto re2 = perf::make_re2_set(generated, error);
    std::snprintf(line, sizeof line, "%zu entries: RE2::Set built in %.1f s\n", size,
                  seconds_since(t0));
    policy_lines += line;
    baselines.emplace_back(re2 ? "" : "RE2::Set: " + error, std::move(re2));
    t0 = Clock::now();
    auto hs = perf::make_hyperscan(generated, error);
    std::snprintf(line, sizeof line, "%zu entries: Hyperscan built in %.1f s\n", size,
                  seconds_since(t0));
    policy_lines += line;
    baselines.emplace_back(hs ? "" : "Hyperscan: " + error, std::move(hs));
  }
  for (auto& [why, m] : baselines) {
    if (!m) {
      row(out, o.markdown, size, "(not built)", why);
      continue;
    }
    row(out, o.markdown, size, m->name(),
        cells(measure(*m, paths, o.budget), floor_ns, engine_ns, o.markdown));
  }
  if (size > o.naive_max) row(out, o.markdown, size, "naive list", "skipped (over --naive-max)");
  if (size > o.regex_max)
    row(out, o.markdown, size, "RE2::Set, Hyperscan", "skipped (over --regex-max)");
}

// What one size costs in memory, so that a regression shows (issue 14's targets: at most 64
// bytes per entry beyond names, a decision scratch of at most 8 KB): the blob less its string pool
// per entry, and what a caller keeps per deciding thread (the engine's DecisionScratch and the
// host's OperationKeys, into which it canonicalises the operation's keys).
std::string footprint_header(bool markdown) {
  if (markdown) {
    return "| entries | bytes per entry beyond names | decision scratch bytes | DecisionScratch | "
           "OperationKeys |\n|---|---|---|---|---|\n";
  }
  char b[200];
  std::snprintf(b, sizeof b, "%-9s %9s  %28s  %22s  %15s  %13s\n", "footprint", "entries",
                "bytes per entry beyond names", "decision scratch bytes", "DecisionScratch",
                "OperationKeys");
  return b;
}

std::string footprint_row(bool markdown, std::size_t size, double bytes_per_entry) {
  const std::size_t scratch = sizeof(DecisionScratch);
  const std::size_t keys = sizeof(OperationKeys);
  char b[200];
  if (markdown) {
    std::snprintf(b, sizeof b, "| %zu | %.1f | %zu | %zu | %zu |\n", size, bytes_per_entry,
                  scratch + keys, scratch, keys);
  } else {
    std::snprintf(b, sizeof b, "%-9s %9zu  %28.1f  %22zu  %15zu  %13zu\n", "footprint", size,
                  bytes_per_entry, scratch + keys, scratch, keys);
  }
  return b;
}

std::uint32_t blob_checksum(const policy::Blob& blob) {
  blob::Header h;
  std::memcpy(&h, blob.data(), sizeof h);
  return h.checksum;
}

// --compile-runs: only compile_policy, each size `runs` times on one generated policy, with the
// time of each phase (the issue-14 target: a million entries under 3 s, every run).
int compile_only(const BenchOptions& o, const perf::NamePool& names, std::ostream& out) {
  for (std::size_t size : o.sizes) {
    const perf::GeneratedPolicy generated = perf::generate_policy(size, names, 1);
    for (std::size_t run = 0; run < o.compile_runs; ++run) {
      policy::CompilePhases phases;
      policy::CompileOptions options;
      options.threads = o.compile_threads;
      options.phases = &phases;
      policy::Blob blob;
      std::vector<policy::PolicyProblem> problems;
      const auto t0 = Clock::now();
      const std::clock_t cpu0 = std::clock();
      if (!policy::compile_policy(generated.source, blob, problems, options)) {
        std::cerr << "error: compile failed at " << size << " entries\n";
        return kExitInputError;
      }
      const double compile_s = seconds_since(t0);
      const double cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
      char line[300];
      std::snprintf(
          line, sizeof line,
          "%zu entries: compiled in %.2f s, %.2f s CPU (%u threads: entries %.2f s, layout %.2f s, "
          "write %.2f s, checksum %.2f s), %zu bytes, checksum %08x\n",
          size, compile_s, cpu_s, phases.threads, phases.entries, phases.layout, phases.write,
          phases.checksum, blob.size(), blob_checksum(blob));
      out << line << std::flush;
    }
  }
  return kExitOk;
}

}  // namespace

int run_bench(const BenchOptions& o, std::ostream& out) {
  const perf::NamePool names = perf::load_name_pool(o.names);
  if (o.compile_runs > 0) return compile_only(o, names, out);
  out << "hivewarden bench: key names from " << names.source << " (" << names.paths.size()
      << " keys); " << o.ops << " operations per size, " << o.match_share * 100
      << "% matching an entry\n";
  // What one decision needs besides the policy (issue 14: kilobytes, whatever the policy), and
  // what a host keeps per thread for an operation's canonical keys.
  out << "decision scratch: " << sizeof(DecisionScratch) << " bytes (at most " << kMaxActiveStates
      << " live wildcard states, then match-limit); operation keys: " << sizeof(OperationKeys)
      << " bytes\n";
  const std::string header = o.markdown ? "| entries | matcher | median ns | p99 ns | x floor | x "
                                          "hivewarden | ops |\n|---|---|---|---|---|---|---|\n"
                                        : text_header();
  std::string policy_lines;
  std::string footprint = footprint_header(o.markdown);
  out << header;
  perf::GeneratedPolicy largest_for_threads;
  for (std::size_t size : o.sizes) {
    auto t0 = Clock::now();
    const perf::GeneratedPolicy generated = perf::generate_policy(size, names, 1);
    const double generate_s = seconds_since(t0);
    t0 = Clock::now();
    policy::Blob blob;
    std::vector<policy::PolicyProblem> problems;
    if (!policy::compile_policy(generated.source, blob, problems)) {
      std::cerr << "error: compile failed at " << size << " entries\n";
      return kExitInputError;
    }
    const double compile_s = seconds_since(t0);
    std::string error;
    auto engine = perf::make_hivewarden(generated, error);
    if (!engine) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
    // Bytes per entry beyond the names: everything but the string pool.
    std::uint64_t string_bytes = 0;
    {
      blob::Header h;
      std::memcpy(&h, blob.data(), sizeof h);
      string_bytes = h.sections[blob::kStrings].count * 2;
    }
    const double bytes_per_entry =
        static_cast<double>(blob.size() - string_bytes) / static_cast<double>(size);
    char line[300];
    std::snprintf(line, sizeof line,
                  "%zu entries: generated in %.2f s, compiled in %.2f s, %zu bytes (%.1f bytes per "
                  "entry beyond names)\n",
                  size, generate_s, compile_s, blob.size(), bytes_per_entry);
    policy_lines += line;
    footprint += footprint_row(o.markdown, size, bytes_per_entry);

    const auto paths = perf::generate_paths(generated, names, o.ops, o.match_share, 2);
    auto floor = perf::make_floor();
    const Timing tf = measure(*floor, paths, o.budget);
    const Timing te = measure(*engine, paths, o.budget);
    row(out, o.markdown, size, floor->name(), cells(tf, tf.median_ns, te.median_ns, o.markdown));
    row(out, o.markdown, size, engine->name(), cells(te, tf.median_ns, te.median_ns, o.markdown));
    if (!measure_conditioned(out, o, generated, paths, tf.median_ns, te.median_ns))
      return kExitInputError;
    measure_baselines(out, o, generated, paths, tf.median_ns, te.median_ns, policy_lines);
    if (size == o.thread_size) largest_for_threads = generated;
  }
  out << "\n" << policy_lines << "\n" << footprint;
  if (o.thread_seconds > 0 && !largest_for_threads.patterns.empty()) {
    const perf::GeneratedPolicy other =
        perf::generate_policy(largest_for_threads.patterns.size(), names, 3);
    const auto paths = perf::generate_paths(largest_for_threads, names, 20000, o.match_share, 4);
    thread_scaling(out, largest_for_threads, other, paths, o.thread_seconds, 100);
  }
  return kExitOk;
}

Subcommand register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench",
                                 "Measure decisions against the baselines (floor, naive list, "
                                 "write-up tree walk, RE2::Set, Hyperscan)");
  cmd->add_option("--sizes", o->sizes, "Policy sizes in entries")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--ops", o->ops, "Operations per size")->capture_default_str();
  cmd->add_option("--match-share", o->match_share, "Share of operations that match an entry")
      ->capture_default_str();
  cmd->add_option("--budget", o->budget, "Seconds per matcher and size at most")
      ->capture_default_str();
  cmd->add_option("--naive-max", o->naive_max, "Largest policy to run the naive list on")
      ->capture_default_str();
  cmd->add_option("--regex-max", o->regex_max, "Largest policy to build RE2::Set and Hyperscan for")
      ->capture_default_str();
  cmd->add_option("--thread-size", o->thread_size, "Policy size of the two-thread swap run")
      ->capture_default_str();
  cmd->add_option("--thread-seconds", o->thread_seconds, "Seconds per thread-scaling run (0: skip)")
      ->capture_default_str();
  cmd->add_option("--names", o->names, "A .reg export (gzip or plain) to take key names from")
      ->capture_default_str();
  cmd->add_flag("--markdown", o->markdown, "Print the table as Markdown");
  cmd->add_option("--compile-runs", o->compile_runs,
                  "Only compile each size this many times, printing the time of each phase");
  cmd->add_option("--compile-threads", o->compile_threads,
                  "Threads that compile a policy (0: the compiler's default)")
      ->capture_default_str();
  return {cmd, [o] { return run_bench(*o, std::cout); }};
}

}  // namespace hivewarden::cli
