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
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

std::string le_bytes(std::uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

std::string utf16le(const std::u16string& u, bool terminate) {
  std::string s;
  for (char16_t c : u) s += le_bytes(c, 2);
  if (terminate) s += le_bytes(0, 2);
  return s;
}

// set-value data: `type` (REG_SZ, REG_DWORD... or a number, default REG_SZ) and `data` (a string,
// a number, a list of strings for REG_MULTI_SZ, or hex for REG_BINARY / other types).
bool value_data(const nlohmann::json& line, std::uint32_t& type, std::string& data, std::string& error) {
  static const std::map<std::string, std::uint32_t> kTypes = {
      {"REG_NONE", 0}, {"REG_SZ", 1}, {"REG_EXPAND_SZ", 2}, {"REG_BINARY", 3}, {"REG_DWORD", 4},
      {"REG_LINK", 6}, {"REG_MULTI_SZ", 7}, {"REG_QWORD", 11}};
  type = 1;
  if (const auto t = line.find("type"); t != line.end()) {
    if (t->is_string() && kTypes.count(t->get<std::string>())) {
      type = kTypes.at(t->get<std::string>());
    } else if (t->is_number_unsigned()) {
      type = t->get<std::uint32_t>();
    } else {
      error = "field `type` must be a REG_* name or a number";
      return false;
    }
  }
  const auto d = line.find("data");
  if (d == line.end() || d->is_null()) return true;
  if ((type == 4 || type == 11) && d->is_number_unsigned()) {
    data = le_bytes(d->get<std::uint64_t>(), type == 4 ? 4 : 8);
  } else if (type == 7 && d->is_array()) {
    for (const auto& item : *d) {
      if (!item.is_string()) {
        error = "REG_MULTI_SZ data is a list of strings";
        return false;
      }
      data += utf16le(utf8_to_utf16(item.get<std::string>()).value_or(u""), true);
    }
    data += le_bytes(0, 2);
  } else if ((type == 1 || type == 2 || type == 6) && d->is_string()) {
    data = utf16le(utf8_to_utf16(d->get<std::string>()).value_or(u""), type != 6);
  } else if (d->is_string()) {  // hex for everything else
    const std::string hex = d->get<std::string>();
    if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      error = "field `data` must be hex for this type";
      return false;
    }
    for (std::size_t i = 0; i < hex.size(); i += 2) data += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  } else {
    error = "field `data` does not fit the type";
    return false;
  }
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
    if (!read_file(o.registry, bytes)) {
      std::cerr << "error: cannot open " << o.registry << "\n";
      return kExitInputError;
    }
    if (!host::import_reg(bytes, o.registry, registry, stats, error, session->policy.view().control_set())) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
  }
  for (const std::string& spec : o.hives) {  // FILE=MOUNT
    const std::size_t eq = spec.rfind('=');
    std::u16string mount;
    std::unique_ptr<KeyPath> mount_path(new KeyPath);
    const auto mount16 = utf8_to_utf16(eq == std::string::npos ? "" : spec.substr(eq + 1));
    if (eq == std::string::npos || !mount16 || canonicalize_key(*mount16, {}, *mount_path) != PathStatus::kOk) {
      std::cerr << "error: --hive " << spec << ": expected FILE=KEY, e.g. SYSTEM=HKLM\\SYSTEM\n";
      return kExitInputError;
    }
    host::HiveImportStats stats;
    std::string error;
    if (!host::import_hive(spec.substr(0, eq), std::u16string(mount_path->text()), registry, stats, error)) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
    std::cerr << "run: mounted " << spec.substr(0, eq) << " (" << stats.keys << " keys, " << stats.values << " values)\n";
  }
  std::unique_ptr<SocketProducer> producer;
  if (!o.socket.empty()) {
    producer = std::make_unique<SocketProducer>(ProducerConfig{o.socket});
    for (int i = 0; i < 100 && !producer->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!producer->connected()) std::cerr << "run: no consumer on " << o.socket << " yet; records wait for one\n";
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
  std::uint64_t number = 0, errors = 0;
  std::unique_ptr<KeyPath> path(new KeyPath);
  std::string text;
  while (std::getline(*in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::ordered_json result;
    result["line"] = number;
    auto fail = [&](const std::string& why) {
      result["error"] = "line " + std::to_string(number) + ": " + why;
      out << result.dump() << "\n";
      ++errors;
    };
    const nlohmann::json line = nlohmann::json::parse(text, nullptr, false);
    std::string error;
    const auto input = line.is_discarded() ? std::nullopt : operation_from_json(line, error);
    if (!input) {
      fail(line.is_discarded() ? "not valid JSON" : error);
      continue;
    }
    const PathStatus ps = canonicalize_key(input->key, {session->policy.view().control_set(), input->user_sid}, *path);
    if (ps != PathStatus::kOk) {
      fail(std::string("key: ") + path_status_text(ps));
      continue;
    }
    host::HostOperation op;
    op.op = input->op;
    op.key = std::u16string(path->text());
    op.value = input->value;
    op.new_name = input->new_name;
    op.image = input->image;
    op.pid = input->pid;
    op.thread = input->thread;
    op.open_link = line.value("open_link", false);
    op.create_link = line.value("link", false);
    host::Subtree saved;
    if (op.op == Operation::kSetValue && !value_data(line, op.type, op.data, error)) {
      fail(error);
      continue;
    }
    if (op.op == Operation::kRestoreKey || op.op == Operation::kReplaceKey) {
      const std::string source = line.value("file", std::string());
      std::string bytes;
      if (source.empty() || !read_file(source, bytes) || !host::load_subtree(bytes, source, saved, error)) {
        fail(source.empty() ? "restore-key and replace-key need `file`, a .reg file of the subtree" : error.empty() ? "cannot open " + source : error);
        continue;
      }
      op.saved = saved.get();
    }
    host::Status status = host::Status::kSuccess;
    if (op.op == Operation::kCreateKey) {  // as RegCreateKeyEx: each missing level is its own create
      const auto parts = host::split_path(op.key);
      std::u16string level;
      for (std::size_t i = 0; i < parts.size() && status == host::Status::kSuccess; ++i) {
        level += u"\\" + parts[i];
        if (i + 1 < parts.size() && registry.key_exists(level)) continue;
        host::HostOperation step = op;
        step.key = level;
        step.create_link = op.create_link && i + 1 == parts.size();  // only the last level is the link
        status = host::apply(registry, chain, step);
      }
    } else {
      status = host::apply(registry, chain, op);
    }
    const Decision& d = host::EngineFilter::last_decision();
    result["op"] = traits(op.op).name;
    result["key"] = utf16_to_utf8(path->text());
    result["status"] = host::status_name(status);
    result["decision"] = verdict_name(d.verdict);
    result["reason"] = reason_name(d.reason);
    result["notify"] = status == host::Status::kSuccess || d.verdict == Verdict::kDeny ? notify_name(d.notify) : "none";
    ++by_status[host::status_name(status)];
    out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!out) break;
  }
  if (producer) producer->flush(std::chrono::milliseconds(2000));
  std::cerr << "run: " << number << " lines:";
  for (const auto& [s, n] : by_status) std::cerr << " " << s << "=" << n;
  std::cerr << (errors ? ", " + std::to_string(errors) + " not applied" : std::string()) << "; registry now "
            << registry.key_count() << " keys, " << registry.value_count() << " values; " << filter.notifications()
            << " notifications";
  if (producer) {
    const DeliveryStats s = producer->stats();
    std::cerr << " (" << s.sent << " sent, " << s.dropped_overflow + s.dropped_disconnected << " dropped, " << s.sync_timeouts
              << " sync timeouts)";
  }
  std::cerr << "\n";
  if (!o.export_path.empty()) {
    std::ofstream exported(o.export_path, std::ios::binary);
    exported << host::export_reg(registry);
    if (!exported.flush()) {
      std::cerr << "error: cannot write " << o.export_path << "\n";
      return kExitInputError;
    }
  }
  return errors == 0 ? kExitOk : kExitInputError;
}

}  // namespace hivewarden::cli
