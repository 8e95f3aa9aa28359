// eval input lines: any bytes give a decision or an error line, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hivewarden/cli/eval_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden::cli;
  static auto session = open_policy_session("");
  if (!session) std::abort();
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  EvalResult r = eval_line(*session, line, 1);
  if (!r.json.contains("line")) std::abort();
  if (!r.error && !r.json.contains("decision")) std::abort();
  (void)r.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Contexts must not pile up: thread ids come from the input.
  if (session->engine->stats().contexts_outstanding > 0) {
    for (std::uint64_t t = 0; t < 1024; ++t) session->engine->thread_exited(t);
  }
  return 0;
}
