// `hivewarden run`: operations (SPEC §9 lines) applied to an in-memory registry through the
// callback chain with the engine in it, as Windows would: each line's real status and decision.
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
#include "hivewarden/consumer/notifier.hpp"
#include "hivewarden/host/engine_filter.hpp"
#include "hivewarden/host/hive_file.hpp"
#include "hivewarden/host/reg_file.hpp"
#include "hivewarden/util/output_file.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

// Prints what `run` did with one line: the real status, and the engine's decision when the
// engine was asked (an operation on a key that does not exist fails before any callback).
// `asked_status` is the line's own `status`: a failure the line asked for is printed as given.
void print_result(std::ostream& out, std::uint64_t number, Operation op, std::u16string_view key,
                  host::Status status, const Decision* d, const std::string& asked_status = {}) {
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
  out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// Reads a restore / replace file's subtree; on success remembers which file it was.
bool load_saved_file(const std::string& file, std::uint32_t control_set, host::Subtree& saved,
                     std::string& saved_file, std::string& error) {
  std::string bytes;
  saved_file.clear();
  if (!host::read_reg_file(file, bytes, error) ||
      !host::load_subtree(bytes, file, saved, error, control_set)) {
    return false;
  }
  saved_file = file;
  return true;
}

}  // namespace

int run_run(const RunOptions& o, std::ostream& out) {
  auto session = open_policy_session(o.policy);
  if (!session) return kExitInputError;
  host::Registry registry;
  if (!o.registry.empty()) {
    std::string bytes, error;
    host::RegImportStats stats;
    if (!host::read_reg_file(o.registry, bytes, error)) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
    if (!host::import_reg(bytes, o.registry, registry, stats, error,
                          session->policy.view().control_set())) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
  }
  for (const std::string& spec : o.hives) {  // FILE=MOUNT
    const std::size_t eq = spec.rfind('=');
    std::u16string mount;
    std::unique_ptr<KeyPath> mount_path(new KeyPath);
    const auto mount16 = utf8_to_utf16(eq == std::string::npos ? "" : spec.substr(eq + 1));
    if (eq == std::string::npos || !mount16 ||
        canonicalize_key(*mount16, {session->policy.view().control_set(), {}}, *mount_path) !=
            PathStatus::kOk) {
      std::cerr << "error: --hive " << spec << ": expected FILE=KEY, e.g. SYSTEM=HKLM\\SYSTEM\n";
      return kExitInputError;
    }
    host::HiveImportStats stats;
    std::string error;
    if (!host::import_hive(spec.substr(0, eq), std::u16string(mount_path->text()), registry, stats,
                           error)) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
    std::cerr << "run: mounted " << spec.substr(0, eq) << " (" << stats.keys << " keys, "
              << stats.values << " values)\n";
  }
  std::unique_ptr<SocketProducer> producer;
  if (!o.socket.empty()) {
    producer = std::make_unique<SocketProducer>(ProducerConfig{o.socket});
    for (int i = 0; i < 100 && !producer->connected(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!producer->connected())
      std::cerr << "run: no consumer on " << o.socket << " yet; records wait for one\n";
  }
  Notifier notifier(producer.get(), std::chrono::milliseconds(o.sync_timeout_ms));
  host::EngineFilter filter(*session->engine, &notifier);
  host::CallbackChain chain;
  chain.add(328010, filter.callback());

  std::istream* in = &std::cin;
  std::ifstream file;
  if (o.ops != "-") {
    file.open(o.ops);
    if (!file) {
      std::cerr << "error: cannot open " << o.ops << "\n";
      return kExitInputError;
    }
    in = &file;
  }
  std::map<std::string, int> by_status;
  std::uint64_t errors = 0;
  std::unique_ptr<KeyPath> path(new KeyPath);
  host::Subtree saved;
  std::string saved_file;  // the file `saved` was read from
  OperationLines lines(*in);
  OperationLine line;
  while (lines.next(line)) {
    const std::uint64_t number = line.number;
    auto fail = [&](const std::string& why) {
      nlohmann::ordered_json result;
      result["line"] = number;
      result["error"] = "line " + std::to_string(number) + ": " + why;
      out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      ++errors;
    };
    if (!line.input) {
      fail(line.error);
      continue;
    }
    const OperationInput* input = &*line.input;
    const OperationRequest& req = input->operation.request;
    std::string error;
    const PathStatus ps = canonicalize_key(
        input->operation.key_text, {session->policy.view().control_set(), req.process.user_sid}, *path);
    if (ps == PathStatus::kInvalidName) {
      // No registry holds such a name; the engine denies it (fail closed), as `eval` says.
      OperationRequest invalid = req;
      const Decision d = session->engine->decide(invalid, *session->scratch);
      print_result(out, number, req.op, input->operation.key_text, host::Status::kAccessDenied, &d);
      ++by_status[host::status_name(host::Status::kAccessDenied)];
      continue;
    }
    if (ps != PathStatus::kOk) {
      fail(std::string("key: ") + path_status_text(ps));
      continue;
    }
    host::HostOperation op;
    op.op = req.op;
    op.key = std::u16string(path->text());
    op.value = req.value;
    op.new_name = req.new_name;
    op.type = req.type;
    op.data = req.data;
    op.image = req.process.image;
    op.pid = req.process.pid;
    op.flags = req.process.extra_flags;
    op.rules = req.process.extra_rules;
    op.win32_names = !path->native_form;
    op.thread = req.thread_id;
    op.open_link = req.open_link;
    op.create_link = req.creates_link;
    op.fails = !input->success;  // the line says the operation failed: it does, after the engine
    if (op.op == Operation::kRestoreKey || op.op == Operation::kReplaceKey) {
      // The last saved file read is kept: many lines restoring the same file read it once.
      const std::string file = utf16_to_utf8(req.file);
      if (file.empty() ||
          (file != saved_file &&
           !load_saved_file(file, session->policy.view().control_set(), saved, saved_file,
                            error))) {
        fail(file.empty()
                 ? "restore-key and replace-key need `file`, a .reg file of the subtree"
                 : error);
        continue;
      }
      op.saved = saved.get();
    }
    host::EngineFilter::forget_last_decision();
    host::Status status = host::Status::kSuccess;
    if (op.op == Operation::kCreateKey && !registry.key_exists(op.key)) {
      // As RegCreateKeyEx: each missing level is its own create.
      const auto parts = host::split_path(op.key);
      std::u16string level;
      // Once one level is missing, every level below it is too: stop looking them up.
      bool may_exist = true;
      for (std::size_t i = 0; i < parts.size() && status == host::Status::kSuccess; ++i) {
        level += u"\\" + parts[i];
        if (i + 1 < parts.size() && may_exist) {
          may_exist = registry.key_exists(level);
          if (may_exist) continue;
        }
        host::HostOperation step = op;
        step.key = level;
        step.create_link =
            op.create_link && i + 1 == parts.size();  // only the last level is the link
        host::EngineFilter::forget_last_decision();
        status = host::apply(registry, chain, step);
      }
    } else {
      status = host::apply(registry, chain, op);
    }
    print_result(out, number, op.op, path->text(), status, host::EngineFilter::last_decision(),
                 input->status);
    ++by_status[host::status_name(status)];
    if (!out) break;
  }
  if (lines.read_failed()) {
    std::cerr << "error: reading " << o.ops << " failed after line " << lines.lines_read() << "\n";
    ++errors;
  }
  if (producer) producer->flush(std::chrono::milliseconds(2000));
  std::cerr << "run: " << lines.lines_read() << " lines:";
  for (const auto& [s, n] : by_status) std::cerr << " " << s << "=" << n;
  if (by_status.empty()) std::cerr << " none applied";
  std::cerr << (errors ? ", " + std::to_string(errors) + " not applied" : std::string())
            << "; registry now " << registry.key_count() << " keys, " << registry.value_count()
            << " values; " << filter.notifications() << " notifications";
  if (producer) {
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
  if (std::string error;
      !o.export_path.empty() && !util::write_output_file(
                                    o.export_path,
                                    [&registry](const util::OutputSink& sink) {
                                      return host::export_reg(registry, u"\\REGISTRY", sink);
                                    },
                                    error)) {
    std::cerr << "error: " << error << "\n";
    return kExitInputError;
  }
  return errors == 0 ? kExitOk : kExitInputError;
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
