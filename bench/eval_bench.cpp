// `eval` throughput on 10,000 operations, against the cost of parsing the same JSON lines alone.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/eval_line.hpp"
#include "workload.hpp"

namespace {

constexpr std::size_t kLines = 10000;

// Baseline: what reading the input costs at the least.
void BM_Eval10k_BaselineJsonParse(benchmark::State& state) {
  const auto lines = hivewarden::bench::eval_lines(kLines);
  for (auto _ : state) {
    for (const std::string& line : lines) benchmark::DoNotOptimize(nlohmann::json::parse(line));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kLines));
}
BENCHMARK(BM_Eval10k_BaselineJsonParse)->Unit(benchmark::kMillisecond);

// The whole eval path per line: parse, decide, post-operation, explain, render.
void BM_Eval10k_DefaultPolicy(benchmark::State& state) {
  const auto lines = hivewarden::bench::eval_lines(kLines);
  auto session = hivewarden::cli::open_policy_session("");
  if (!session) {
    state.SkipWithError("default policy failed to load");
    return;
  }
  std::uint64_t n = 0;
  for (auto _ : state) {
    for (const std::string& line : lines) {
      auto r = hivewarden::cli::eval_line(*session, line, ++n);
      benchmark::DoNotOptimize(r.json.dump());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kLines));
}
BENCHMARK(BM_Eval10k_DefaultPolicy)->Unit(benchmark::kMillisecond);

}  // namespace
