// One decision against the default policy, against canonicalising the same path alone (the floor).
#include <benchmark/benchmark.h>

#include <memory>

#include "hivewarden/cli/policy_session.hpp"

namespace {

using namespace hivewarden;

const char16_t* const kQuietKey = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs";
const char16_t* const kWatchedKey = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run";

void BM_Decision_FloorCanonicalise(benchmark::State& state) {
  auto path = std::make_unique<KeyPath>();
  for (auto _ : state) {
    benchmark::DoNotOptimize(canonicalize_key(state.range(0) ? kWatchedKey : kQuietKey, {1, {}}, *path));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Decision_FloorCanonicalise)->Arg(0)->Arg(1);

void BM_Decision_DefaultPolicy(benchmark::State& state) {
  auto session = cli::open_policy_session("");
  OperationRequest r;
  r.op = Operation::kSetValue;
  r.value = u"Updater";
  const std::u16string_view key = state.range(0) ? kWatchedKey : kQuietKey;
  auto keys = std::make_unique<OperationKeys>();
  const CanonicalOptions options{session->policy.view().control_set(), {}};
  r.process.image = u"C:\\Windows\\System32\\svchost.exe";
  r.process.pid = 1000;
  r.thread_id = 1;
  for (auto _ : state) {
    canonicalize_operation(key, options, *keys, r);  // the host's part, once per operation
    const Decision d = session->engine->decide(r, *session->scratch);
    if (d.context_kept) session->engine->complete(1, r.op, true);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Decision_DefaultPolicy)->Arg(0)->Arg(1);

}  // namespace
