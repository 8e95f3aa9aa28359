// The engine against its baselines (Google Benchmark), with the ratios printed at the end: each
// matcher's time per decision over the floor's and over hivewarden's, measured in the same run.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "hivewarden/perf/matchers.hpp"

namespace {

using namespace hivewarden::perf;

enum Kind { kFloor, kHivewarden, kNaive, kTree, kRe2, kHyperscan };
const char* const kKindNames[] = {"floor", "hivewarden", "naive", "writeup-tree", "re2-set", "hyperscan"};

struct Fixture {
  GeneratedPolicy policy;
  std::vector<std::u16string> paths;
};

const NamePool& names() {
  static const NamePool pool = load_name_pool(std::string(HIVEWARDEN_SHARED_DATA) + "/hives/exports/SYSTEM_WIN_10_1709.full.reg.gz");
  return pool;
}

const Fixture& fixture(std::size_t size) {
  static std::map<std::size_t, std::unique_ptr<Fixture>> cache;
  auto& f = cache[size];
  if (!f) {
    f = std::make_unique<Fixture>();
    f->policy = generate_policy(size, names(), 1);
    f->paths = generate_paths(f->policy, names(), 4096, 0.1, 2);
  }
  return *f;
}

void BM_Match(benchmark::State& state) {
  const auto kind = static_cast<Kind>(state.range(0));
  const auto size = static_cast<std::size_t>(state.range(1));
  const Fixture& f = fixture(size);
  std::string error;
  std::unique_ptr<KeyMatcher> m;
  switch (kind) {
    case kFloor: m = make_floor(); break;
    case kHivewarden: m = make_hivewarden(f.policy, error); break;
    case kNaive: m = make_naive(f.policy); break;
    case kTree: m = make_writeup_tree(f.policy); break;
    case kRe2: m = make_re2_set(f.policy, error); break;
    case kHyperscan: m = make_hyperscan(f.policy, error); break;
  }
  if (!m) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m->match(f.paths[i & 4095], u"Value1", (i & 1) != 0));
    ++i;
  }
  state.SetLabel(kKindNames[kind]);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t size : {1000, 10000, 100000}) {
    for (std::int64_t kind = kFloor; kind <= kHyperscan; ++kind) {
      if (size > 10000 && (kind == kRe2 || kind == kHyperscan || kind == kNaive)) continue;  // they do not build in reasonable time
      b->Args({kind, size});
    }
  }
}
BENCHMARK(BM_Match)->Apply(sizes);

// Collects every run and prints, per size, each matcher's ratio to the floor and to hivewarden.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.iterations == 0) continue;
      const std::string name = r.benchmark_name();
      const auto slash = name.rfind('/');
      const std::size_t size = std::stoul(name.substr(slash + 1));
      results_[size][r.report_label] = r.GetAdjustedRealTime();
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nratios (time per decision, same run):\n");
    for (const auto& [size, by_kind] : results_) {
      const double floor = by_kind.count("floor") ? by_kind.at("floor") : 0;
      const double engine = by_kind.count("hivewarden") ? by_kind.at("hivewarden") : 0;
      for (const auto& [kind, t] : by_kind) {
        std::printf("  %8zu %-14s %10.1f ns  %6.2fx floor  %6.2fx hivewarden\n", size, kind.c_str(), t,
                    floor > 0 ? t / floor : 0.0, engine > 0 ? t / engine : 0.0);
      }
    }
  }

 private:
  std::map<std::size_t, std::map<std::string, double>> results_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
