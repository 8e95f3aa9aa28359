// `hivewarden monitor`: the consumer end of notifications, printing each record as it arrives.
#include <atomic>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/consumer/record_json.hpp"
#include "hivewarden/consumer/socket_consumer.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

}  // namespace

int run_monitor(const MonitorOptions& options, std::ostream& out) {
  ClientNames names;
  if (!options.policy.empty()) {  // client names for the hashes in records
    auto session = open_policy_session(options.policy);
    if (!session) return kExitInputError;
    const PolicyView& view = session->policy.view();
    for (const blob::Client& c : view.clients()) names[hex_bytes(c.hash, sizeof c.hash)] = utf16_to_utf8(view.str(c.name));
  }
  std::mutex out_mutex;
  std::atomic<std::uint64_t> seen{0};
  SocketConsumer consumer(
      options.socket,
      [&](const RecordView& record) {
        std::lock_guard<std::mutex> lock(out_mutex);
        // --count N prints exactly N: records that arrive in the same burst after the Nth are
        // acknowledged (so no sender waits) but not printed.
        if (options.count != 0 && seen.load() >= options.count) return !options.no_ack;
        if (options.json) {
          out << record_to_json(record, names.empty() ? nullptr : &names).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
          out << record_to_text(record, names.empty() ? nullptr : &names) << "\n";
        }
        out.flush();
        ++seen;
        return !options.no_ack;
      },
      [&](const std::string& what) {
        std::lock_guard<std::mutex> lock(out_mutex);
        std::cerr << "monitor: dropped a connection: " << what << "\n";
      });
  std::string error;
  if (!consumer.start(error)) {
    std::cerr << "error: " << error << "\n";
    return kExitInputError;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cerr << "monitor: listening on " << options.socket << " (Ctrl-C to stop)\n";
  while (!g_stop && (options.count == 0 || seen.load() < options.count)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  consumer.stop();
  const ConsumerStats s = consumer.stats();
  std::cerr << "monitor: " << s.received << " records, " << s.acks_sent << " acknowledged, " << s.decode_errors
            << " malformed, " << s.connections << " connections\n";
  return kExitOk;
}

Subcommand register_monitor(CLI::App& app) {
  auto o = std::make_shared<MonitorOptions>();
  auto* cmd = app.add_subcommand(
      "monitor", "Receive notification records on a Unix socket and print each as it arrives");
  cmd->add_option("--socket", o->socket, "Socket path to listen on")->required();
  cmd->add_option("--policy", o->policy,
                  "Policy whose client names to show for the hashes in records");
  cmd->add_flag("--json", o->json, "One JSON object per record instead of text");
  cmd->add_flag("--no-ack", o->no_ack,
                "Never acknowledge sync records (tests producers' timeouts)");
  cmd->add_option("--count", o->count,
                  "Stop after this many records (default: run until interrupted)");
  Subcommand monitor{cmd, [o] { return run_monitor(*o, std::cout); }};
  monitor.keeps_sigpipe = true;  // its output never ends: SIGPIPE is how `monitor | head` stops
  return monitor;
}

}  // namespace hivewarden::cli
