// The `hivewarden` Python module (the extension `hivewarden._hivewarden`): policies compiled and
// loaded, operations decided and explained, Sysmon events read and replayed, each through the
// same code as the command line (src/cli) so that the results are the same. Bad input raises
// PolicyError or InputError (ValueError subclasses) with the message the command line prints.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/explain.hpp"
#include "hivewarden/cli/operation_input.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/cli/replay_run.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/python/convert.hpp"
#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/utf.hpp"

namespace py = pybind11;

namespace hivewarden::python {
namespace {

using cli::PolicySession;

struct PolicyFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

// A path as open() takes it: str, bytes or os.PathLike, encoded as the OS names files. A NUL would
// end the name early and open another file, so it is refused as Python's own open() refuses it.
std::string path_text(const py::handle& path) {
  std::string bytes = py::bytes(py::module_::import("os").attr("fsencode")(path));
  if (bytes.find('\0') != std::string::npos) {
    throw py::value_error("embedded null byte in the path " + py::repr(path).cast<std::string>());
  }
  return bytes;
}

// A compiled policy, and engines running it: one per thread deciding at the moment (each decision
// needs its own scratch and canonical keys), kept for the next call.
class Policy {
 public:
  explicit Policy(std::unique_ptr<PolicySession> first, std::string name)
      : blob_(first->blob), name_(std::move(name)) {
    idle_.push_back(std::move(first));
  }

  // An engine for one call; handed back when the lease ends.
  class Lease {
   public:
    explicit Lease(Policy& policy) : policy_(policy), session_(policy.take()) {}
    ~Lease() { policy_.give_back(std::move(session_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PolicySession& operator*() { return *session_; }

   private:
    Policy& policy_;
    std::unique_ptr<PolicySession> session_;
  };

  const policy::Blob& blob() const { return blob_; }
  const std::string& name() const { return name_; }

 private:
  std::unique_ptr<PolicySession> take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        auto session = std::move(idle_.back());
        idle_.pop_back();
        return session;
      }
    }
    std::vector<std::string> errors;  // the blob installed once already: cannot fail now
    auto session = cli::install_policy_session(blob_, name_, errors);
    if (!session) throw PolicyFailure(joined(errors));
    return session;
  }
  void give_back(std::unique_ptr<PolicySession> session) {
    if (!session) return;
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(session));
  }

  const policy::Blob blob_;
  const std::string name_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<PolicySession>> idle_;
};

std::shared_ptr<Policy> session_policy(std::unique_ptr<PolicySession> session,
                                       const std::string& name,
                                       const std::vector<std::string>& errors) {
  if (!session) throw PolicyFailure(joined(errors));
  return std::make_shared<Policy>(std::move(session), name);
}

std::shared_ptr<Policy> compile_text(const std::string& yaml, const std::string& name) {
  std::vector<std::string> errors;
  policy::Blob blob;
  std::unique_ptr<PolicySession> session;
  {
    py::gil_scoped_release unlocked;
    if (cli::compile_policy_text(yaml, name, blob, errors))
      session = cli::install_policy_session(std::move(blob), name, errors);
  }
  return session_policy(std::move(session), name, errors);
}

std::shared_ptr<Policy> compile_file(const py::object& path_object) {
  const std::string path = path_text(path_object);
  if (path.empty()) throw PolicyFailure("no policy file named (an empty path)");
  std::vector<std::string> errors;
  std::unique_ptr<PolicySession> session;
  {
    py::gil_scoped_release unlocked;
    session = cli::open_policy_session(path, errors);
  }
  return session_policy(std::move(session), path, errors);
}

std::shared_ptr<Policy> load_blob(const py::bytes& bytes, const std::string& name) {
  const std::string_view data(bytes);
  std::vector<std::string> errors;
  auto session = cli::install_policy_session(policy::Blob(data.begin(), data.end()), name, errors);
  return session_policy(std::move(session), name, errors);
}

std::shared_ptr<Policy> default_policy() {
  std::vector<std::string> errors;
  return session_policy(cli::open_policy_session("", errors), "(built-in default policy)", errors);
}

// One operation dict read as `eval` reads a line: the reader's message on any problem.
cli::OperationLine read_operation(const py::handle& op, std::uint64_t number) {
  cli::OperationLine line;
  line.number = number;
  nlohmann::json object;
  if (!operation_json(op, object, line.error)) return line;
  line.input = cli::operation_from_json(object, line.error);
  return line;
}

// eval's error text is "line N: why"; a single operation has no line.
std::string without_line(const nlohmann::ordered_json& result) {
  std::string message = result.at("error").get<std::string>();
  const std::size_t colon = message.find(": ");
  return message.rfind("line ", 0) == 0 && colon != std::string::npos ? message.substr(colon + 2)
                                                                      : message;
}

py::object decide(Policy& policy, const py::handle& op) {
  cli::OperationLine line = read_operation(op, 1);
  if (!line.input) throw InputFailure(line.error);
  nlohmann::ordered_json result;
  {
    py::gil_scoped_release unlocked;
    Policy::Lease session(policy);
    result = cli::eval_operation(*session, std::move(line)).json;
  }
  if (result.contains("error")) throw InputFailure(without_line(result));
  result.erase("line");
  return to_python(result);
}

py::list decide_many(Policy& policy, const py::iterable& ops, const std::string& errors) {
  if (errors != "raise" && errors != "inline")
    throw py::value_error("errors must be \"raise\" or \"inline\"");
  std::vector<cli::OperationLine> lines;
  for (const py::handle& op : ops) lines.push_back(read_operation(op, lines.size() + 1));
  std::vector<nlohmann::ordered_json> results(lines.size());
  {
    py::gil_scoped_release unlocked;
    Policy::Lease session(policy);
    for (std::size_t i = 0; i < lines.size(); ++i)
      results[i] = cli::eval_operation(*session, std::move(lines[i])).json;
  }
  py::list out(results.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (errors == "raise" && results[i].contains("error"))
      throw InputFailure(results[i]["error"].get<std::string>());
    out[i] = to_python(results[i]);
  }
  return out;
}

py::object explain(Policy& policy, const py::handle& op, bool json) {
  cli::OperationLine line = read_operation(op, 1);
  if (!line.input) throw InputFailure(line.error);
  // The image as the operation gave it (the reader keeps it as given).
  const std::string image = utf16_to_utf8(line.input->operation.request.process.image);
  std::string text;
  nlohmann::ordered_json detailed;
  {
    py::gil_scoped_release unlocked;
    Policy::Lease session(policy);
    const cli::DecidedOperation decided = cli::decide_operation(*session, *line.input);
    if (decided.key_status != PathStatus::kOk && decided.key_status != PathStatus::kInvalidName)
      throw InputFailure(std::string("key: ") + path_status_text(decided.key_status));
    std::ostringstream out;
    if (json)
      detailed = cli::decision_json(decided.decision, decided.explanation, true);
    else
      cli::print_explanation(out, decided.request, line.input->operation.key_text, decided.decision,
                             decided.explanation, image);
    text = out.str();
  }
  return json ? to_python(detailed) : py::str(text);
}

std::string dump(const Policy& policy) {
  return policy::dump_policy(policy.blob().data(), policy.blob().size());
}

// Raises InputError(message) carrying `name` = `partial` (what was read or decided before it).
[[noreturn]] void raise_with(const std::string& message, const char* name, py::object partial) {
  py::object error = py::module_::import("hivewarden._hivewarden").attr("InputError")(message);
  error.attr(name) = std::move(partial);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

py::list read_events(const py::object& path_object) {
  const std::string path = path_text(path_object);
  std::vector<replay::RegistryEvent> events;
  replay::ReadStats stats;
  std::string error;
  bool read = false;
  {
    py::gil_scoped_release unlocked;
    read = replay::read_events(
        path, [&](replay::RegistryEvent&& e) { events.push_back(std::move(e)); }, stats, error);
  }
  py::list out;
  for (const replay::RegistryEvent& e : events) out.append(event_dict(e));
  if (!read) raise_with(error, "events", out);
  return out;
}

std::vector<std::string> log_paths(const py::object& paths) {
  std::vector<std::string> logs;
  if (py::isinstance<py::str>(paths) || py::isinstance<py::bytes>(paths) ||
      py::hasattr(paths, "__fspath__")) {
    logs.push_back(path_text(paths));
  } else {
    for (const py::handle& path : paths) logs.push_back(path_text(path));
  }
  return logs;
}

constexpr long long kMaxParts = 4096;  // far past any cluster's workers for one log

std::shared_ptr<ReplayResult> replay(const py::object& paths, Policy& policy, bool all,
                                     Policy* what_if, bool strict, long long jobs, long long part,
                                     long long parts) {
  if (jobs < 1 || jobs > replay::kMaxJobs)
    throw py::value_error("replay: jobs must be a whole number of threads from 1 to " +
                          std::to_string(replay::kMaxJobs) + ", not " + std::to_string(jobs));
  if (parts < 1 || parts > kMaxParts || part < 0 || part >= parts)
    throw py::value_error("replay: part must be from 0 to parts - 1 and parts from 1 to " +
                          std::to_string(kMaxParts) + ", not part " + std::to_string(part) +
                          " of " + std::to_string(parts));
  const std::vector<std::string> logs = log_paths(paths);
  auto result = std::make_shared<ReplayResult>();
  {
    py::gil_scoped_release unlocked;
    Policy::Lease session(policy);
    std::optional<Policy::Lease> other;
    if (what_if != nullptr) other.emplace(*what_if);
    cli::ReplayRun run{logs,
                       *session,
                       other ? &**other : nullptr,
                       all,
                       [&](cli::ReplayedLine&& line) {
                         result->lines.push_back(std::move(line));
                         return true;
                       },
                       nullptr,
                       static_cast<unsigned>(jobs),
                       {static_cast<std::uint32_t>(part), static_cast<std::uint32_t>(parts)}};
    result->errors = cli::replay_logs(run, result->counts);
  }
  if (strict && !result->errors.empty())
    raise_with(joined(result->errors), "result", py::cast(result));
  return result;
}

}  // namespace
}  // namespace hivewarden::python

PYBIND11_MODULE(_hivewarden, m) {
  using namespace hivewarden::python;
  m.doc() = "hivewarden: registry policies compiled, decided, explained and replayed";
  py::register_exception<PolicyFailure>(m, "PolicyError", PyExc_ValueError);
  py::register_exception<InputFailure>(m, "InputError", PyExc_ValueError);
  define_replay_result(m);

  py::class_<Policy, std::shared_ptr<Policy>>(m, "Policy",
                                              "A compiled policy, ready to decide operations")
      .def_property_readonly(
          "blob",
          [](const Policy& p) {
            return py::bytes(reinterpret_cast<const char*>(p.blob().data()), p.blob().size());
          },
          "The compiled policy (.hwp bytes): load_policy(blob) gives the same policy back")
      .def_property_readonly("name", &Policy::name)
      .def("decide", &decide, py::arg("op"),
           "Decides one operation (a dict of SPEC section 9 fields); returns the fields `eval` "
           "prints (without `line`)")
      .def("decide_many", &decide_many, py::arg("ops"), py::arg("errors") = "raise",
           "Decides each operation; returns the objects `eval` prints, `line` counting from 1. "
           "errors=\"inline\" returns eval's {line, error} object for a bad one instead of raising")
      .def("explain", &explain, py::arg("op"), py::arg("json") = false,
           "What `check` prints for the operation (json=True: what `check --json` prints)")
      .def("dump", &dump, "The policy as `hivewarden dump` prints it")
      .def("__repr__", [](const Policy& p) { return "<hivewarden.Policy " + p.name() + ">"; })
      .def(py::pickle(
          [](const Policy& p) {
            return py::make_tuple(
                py::bytes(reinterpret_cast<const char*>(p.blob().data()), p.blob().size()),
                p.name());
          },
          [](const py::tuple& state) {
            return load_blob(state[0].cast<py::bytes>(), state[1].cast<std::string>());
          }));

  m.def("compile_policy", &compile_text, py::arg("yaml_text"), py::arg("name") = "(policy text)",
        "Compiles policy YAML text; PolicyError names the line and field of every problem");
  m.def("compile_policy_file", &compile_file, py::arg("path"),
        "Compiles a policy file (.yaml) or loads a compiled one (.hwp)");
  m.def("load_policy", &load_blob, py::arg("blob"), py::arg("name") = "(blob)",
        "Loads a compiled policy from bytes, validated as the engine validates every blob");
  m.def("default_policy", &default_policy, "The built-in default policy");
  m.def("read_events", &read_events, py::arg("path"),
        "The Sysmon registry events (12, 13, 14) of an event log (.evtx, XML, JSON lines, .gz) as "
        "dicts of Sysmon's field names");
  m.def("replay", &replay, py::arg("paths"), py::arg("policy"), py::kw_only(),
        py::arg("all") = false, py::arg("what_if") = nullptr, py::arg("strict") = true,
        py::arg("jobs") = 1, py::arg("part") = 0, py::arg("parts") = 1,
        "Replays event logs through a policy as `hivewarden replay` does; returns a ReplayResult. "
        "jobs: threads reading and deciding (the result is the same at any number). part, parts: "
        "only part `part` of `parts` of each log's records (every part reads the whole log; "
        "merge_parts merges one log's parts into its result, when none of them has errors)");
}
