// `hivewarden run`: operations (SPEC §9 lines) applied to an in-memory registry through the
// callback chain with the engine in it, as Windows would: each line's real status and decision.
// Each line is read once (OperationLines), its key canonicalised once (canonicalize_operation),
// and applied with one host::apply, which returns the status and the engine's decision.
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/operation_input.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/producer/notifier.hpp"
#include "hivewarden/host/apply.hpp"
#include "hivewarden/host/engine_filter.hpp"
#include "hivewarden/host/hive_file.hpp"
#include "hivewarden/host/reg_file.hpp"
#include "hivewarden/util/output_file.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

void print_json(std::ostream& out, const nlohmann::ordered_json& result) {
  out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// Prints what `run` did with one line: the real status, and the engine's decision when the
// engine was asked (an operation on a key that does not exist fails before any callback).
// `asked_status` is the line's own `status`: a failure the line asked for is printed as given.
void print_result(std::ostream& out, std::uint64_t number, Operation op, std::u16string_view key,
                  host::Status status, const Decision* d, const std::string& asked_status) {
  nlohmann::ordered_json result;
  result["line"] = number;
  result["op"] = traits(op).name;
  result["key"] = utf16_to_utf8(key);
  result["status"] = status == host::Status::kUnsuccessful && !asked_status.empty()
                         ? asked_status
                         : std::string(host::status_name(status));
  if (d != nullptr) {
    result["decision"] = verdict_name(d->verdict);
    result["reason"] = reason_name(d->reason);
  }
  const bool reported =
      d != nullptr && (status == host::Status::kSuccess || d->verdict == Verdict::kDeny);
  result["notify"] = reported ? notify_name(d->notify) : "none";
  print_json(out, result);
}

// The starting registry: a .reg file, then hive files mounted (FILE=MOUNT).
bool load_registry(const RunOptions& o, std::uint32_t control_set, host::Registry& registry) {
  std::string bytes, error;
  host::RegImportStats reg_stats;
  if (!o.registry.empty() &&
      (!host::read_reg_file(o.registry, bytes, error) ||
       !host::import_reg(bytes, o.registry, registry, reg_stats, error, control_set))) {
    std::cerr << "error: " << error << "\n";
    return false;
  }
  std::unique_ptr<KeyPath> mount(new KeyPath);
  for (const std::string& spec : o.hives) {
    const std::size_t eq = spec.rfind('=');
    const auto mount16 = utf8_to_utf16(eq == std::string::npos ? "" : spec.substr(eq + 1));
    if (eq == std::string::npos || !mount16 ||
        canonicalize_key(*mount16, {control_set, {}}, *mount) != PathStatus::kOk) {
      std::cerr << "error: --hive " << spec << ": expected FILE=KEY, e.g. SYSTEM=HKLM\\SYSTEM\n";
      return false;
    }
    host::HiveImportStats stats;
    if (!host::import_hive(spec.substr(0, eq), std::u16string(mount->text()), registry, stats,
                           error)) {
      std::cerr << "error: " << error << "\n";
      return false;
    }
    std::cerr << "run: mounted " << spec.substr(0, eq) << " (" << stats.keys << " keys, "
              << stats.values << " values)\n";
  }
  return true;
}

std::unique_ptr<SocketProducer> connect_producer(const RunOptions& o) {
  if (o.socket.empty()) return nullptr;
  auto producer = std::make_unique<SocketProducer>(ProducerConfig{o.socket});
  for (int i = 0; i < 100 && !producer->connected(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!producer->connected())
    std::cerr << "run: no consumer on " << o.socket << " yet; records wait for one\n";
  return producer;
}

// The lines' operations applied one by one, with what they need between lines.
class LineRunner {
 public:
  LineRunner(host::Registry& registry, const host::CallbackChain& chain, std::uint32_t control_set)
      : registry_(registry), chain_(chain), control_set_(control_set) {}

  void run(OperationLine& line, std::ostream& out);

  std::map<std::string, int> by_status;
  std::uint64_t errors = 0;

 private:
  void fail(std::ostream& out, std::uint64_t number, const std::string& why);
  bool load_saved(const OperationRequest& request, std::string& error);

  host::Registry& registry_;
  const host::CallbackChain& chain_;
  std::uint32_t control_set_;
  std::unique_ptr<OperationKeys> keys_{new OperationKeys};  // the line's canonical keys
  host::Subtree saved_;
  std::string saved_file_;  // the file `saved_` was read from
};

void LineRunner::fail(std::ostream& out, std::uint64_t number, const std::string& why) {
  nlohmann::ordered_json result;
  result["line"] = number;
  result["error"] = "line " + std::to_string(number) + ": " + why;
  print_json(out, result);
  ++errors;
}

// A restore / replace line's subtree. The last file read is kept: many lines restoring the same
// file read it once.
bool LineRunner::load_saved(const OperationRequest& request, std::string& error) {
  if (request.file.empty()) {
    error = "restore-key and replace-key need `file`, a .reg file of the subtree";
    return false;
  }
  const std::string file = utf16_to_utf8(request.file);
  if (file == saved_file_) return true;
  std::string bytes;
  saved_file_.clear();
  if (!host::read_reg_file(file, bytes, error) ||
      !host::load_subtree(bytes, file, saved_, error, control_set_)) {
    return false;
  }
  saved_file_ = file;
  return true;
}

void LineRunner::run(OperationLine& line, std::ostream& out) {
  if (!line.input) return fail(out, line.number, line.error);
  OperationInput& input = *line.input;
  OperationRequest& request = input.operation.request;
  const PathStatus ps = canonicalize_operation(
      input.operation.key_text, {control_set_, request.process.user_sid}, *keys_, request);
  // An invalid name (kInvalidName) is not an input error: no registry holds such a name, and the
  // engine denies it (fail closed), as `eval` says.
  if (ps != PathStatus::kOk && ps != PathStatus::kInvalidName)
    return fail(out, line.number, std::string("key: ") + path_status_text(ps));
  // The line says the operation failed: it does, after the engine.
  host::HostInputs inputs{nullptr, !input.success, control_set_};
  const bool restores =
      request.op == Operation::kRestoreKey || request.op == Operation::kReplaceKey;
  if (restores && request.key != nullptr) {
    std::string error;
    if (!load_saved(request, error)) return fail(out, line.number, error);
    inputs.saved = saved_.get();
  }
  const host::Applied applied = host::apply(registry_, chain_, request, inputs);
  const std::u16string_view key =
      request.key != nullptr ? request.key->text() : input.operation.key_text;
  print_result(out, line.number, request.op, key, applied.status,
               applied.decision ? &*applied.decision : nullptr, input.status);
  ++by_status[host::status_name(applied.status)];
}

void print_summary(std::uint64_t lines, const LineRunner& runner, const host::Registry& registry,
                   const host::EngineFilter& filter, const SocketProducer* producer,
                   const Notifier& notifier) {
  std::cerr << "run: " << lines << " lines:";
  for (const auto& [s, n] : runner.by_status) std::cerr << " " << s << "=" << n;
  if (runner.by_status.empty()) std::cerr << " none applied";
  std::cerr << (runner.errors ? ", " + std::to_string(runner.errors) + " not applied"
                              : std::string())
            << "; registry now " << registry.key_count() << " keys, " << registry.value_count()
            << " values; " << filter.notifications() << " notifications";
  if (producer != nullptr) {
    const DeliveryStats s = producer->stats();
    std::cerr << " (" << s.sent << " sent, " << s.dropped_overflow + s.dropped_disconnected
              << " dropped, " << s.sync_timeouts << " sync timeouts";
    if (const NotifierStats n = notifier.stats(); n.sync_not_waited > 0) {
      std::cerr << ", " << n.sync_not_waited
                << " sync records not waited for: the consumer stopped answering";
    }
    std::cerr << ")";
  }
  std::cerr << "\n";
}

bool export_registry(const std::string& path, const host::Registry& registry) {
  std::string error;
  if (path.empty() || util::write_output_file(
                          path,
                          [&registry](const util::OutputSink& sink) {
                            return host::export_reg(registry, u"\\REGISTRY", sink);
                          },
                          error)) {
    return true;
  }
  std::cerr << "error: " << error << "\n";
  return false;
}

}  // namespace

int run_run(const RunOptions& o, std::ostream& out) {
  auto session = open_policy_session(o.policy);
  if (!session) return kExitInputError;
  const std::uint32_t control_set = session->policy.view().control_set();
  host::Registry registry;
  if (!load_registry(o, control_set, registry)) return kExitInputError;
  const std::unique_ptr<SocketProducer> producer = connect_producer(o);
  Notifier notifier(producer.get(), std::chrono::milliseconds(o.sync_timeout_ms));
  host::EngineFilter filter(*session->engine, &notifier);
  host::CallbackChain chain;
  chain.add(328010, filter.callback());

  std::ifstream file;
  if (o.ops != "-") {
    file.open(o.ops);
    if (!file) {
      std::cerr << "error: cannot open " << o.ops << "\n";
      return kExitInputError;
    }
  }
  OperationLines lines(o.ops == "-" ? std::cin : file);
  LineRunner runner(registry, chain, control_set);
  OperationLine line;
  while (lines.next(line)) {
    runner.run(line, out);
    if (!out) break;  // nobody reads the results any more
  }
  if (lines.read_failed()) {
    std::cerr << "error: reading " << o.ops << " failed after line " << lines.lines_read() << "\n";
    ++runner.errors;
  }
  if (producer) producer->flush(std::chrono::milliseconds(2000));
  print_summary(lines.lines_read(), runner, registry, filter, producer.get(), notifier);
  if (!export_registry(o.export_path, registry)) return kExitInputError;
  return runner.errors == 0 ? kExitOk : kExitInputError;
}

Subcommand register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand(
      "run",
      "Apply operations (JSON lines) to a registry through the callback chain, with real outcomes");
  cmd->add_option("--policy", o->policy,
                  "Policy file (.yaml or .hwp); default: the built-in policy");
  cmd->add_option("--registry", o->registry,
                  "Starting registry: a .reg file (regedit 4 or 5, UTF-16 or UTF-8)");
  cmd->add_option("--hive", o->hives,
                  "Mount a real hive file: FILE=KEY (e.g. SYSTEM=HKLM\\SYSTEM); repeatable");
  cmd->add_option("--ops", o->ops, "Operations as JSON lines, or - for standard input")
      ->capture_default_str();
  cmd->add_option("--socket", o->socket,
                  "Send notification records to a consumer listening here (hivewarden monitor)");
  cmd->add_option("--sync-timeout", o->sync_timeout_ms,
                  "How long a sync notification waits for its acknowledgement (ms)")
      ->capture_default_str();
  cmd->add_option("--export", o->export_path, "Write the final registry to this .reg file");
  return {cmd, [o] { return run_run(*o, std::cout); }};
}

}  // namespace hivewarden::cli
