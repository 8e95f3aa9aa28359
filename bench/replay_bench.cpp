// Replaying every EVTX sample in the shared data (read, map, decide) against evtxexport converting
// the same files to text, measured in the same run.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/utf.hpp"

namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& evtx_files() {
  static const std::vector<std::string> files = [] {
    std::vector<std::string> out;
    const fs::path dir = fs::path(HIVEWARDEN_SHARED_DATA) / "evtx";
    if (fs::exists(dir)) {
      for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.path().extension() == ".evtx") out.push_back(e.path().string());
      }
    }
    return out;
  }();
  return files;
}

// Baseline: evtxexport turning each file into text (its default output), written to /dev/null.
void BM_Evtx_EvtxexportToText(benchmark::State& state) {
  if (evtx_files().empty()) {
    state.SkipWithError("no EVTX files in the shared data");
    return;
  }
  for (auto _ : state) {
    for (const std::string& f : evtx_files()) {
      const std::string command = "evtxexport '" + f + "' > /dev/null 2>&1";
      benchmark::DoNotOptimize(std::system(command.c_str()));
    }
  }
  state.SetLabel(std::to_string(evtx_files().size()) + " files");
}
BENCHMARK(BM_Evtx_EvtxexportToText)->Unit(benchmark::kMillisecond);

// hivewarden: every registry event read, mapped and decided by the default policy.
void BM_Evtx_Replay(benchmark::State& state) {
  if (evtx_files().empty()) {
    state.SkipWithError("no EVTX files in the shared data");
    return;
  }
  auto session = hivewarden::cli::open_policy_session("");
  std::uint64_t decided = 0;
  auto keys = std::make_unique<hivewarden::OperationKeys>();
  for (auto _ : state) {
    for (const std::string& f : evtx_files()) {
      hivewarden::replay::ReadStats stats;
      std::string error;
      hivewarden::replay::read_events(
          f,
          [&](hivewarden::replay::RegistryEvent&& e) {
            std::string why;
            auto m = hivewarden::replay::map_event(e, why);
            if (!m) return;
            hivewarden::OperationRequest& r = m->request;
            hivewarden::canonicalize_operation(m->key_text, {1, {}}, *keys, r);
            const auto d = session->engine->decide(r, *session->scratch);
            if (d.context_kept) session->engine->complete(r.thread_id, r.op, true);
            ++decided;
          },
          stats, error);
    }
  }
  state.counters["decided"] = static_cast<double>(decided) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Evtx_Replay)->Unit(benchmark::kMillisecond);

}  // namespace
