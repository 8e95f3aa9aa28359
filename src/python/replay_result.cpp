// replay()'s result as Python sees it, and merging results (one per part of a fleet's logs).
#include <algorithm>

#include <pybind11/stl.h>

#include "hivewarden/python/convert.hpp"

namespace py = pybind11;

namespace hivewarden::python {
namespace {

using Result = std::shared_ptr<ReplayResult>;

py::list decisions(const ReplayResult& r) {
  py::list out(r.lines.size());
  for (std::size_t i = 0; i < r.lines.size(); ++i) out[i] = to_python(r.lines[i].json);
  return out;
}

py::list order(const ReplayResult& r) {
  py::list out(r.lines.size());
  for (std::size_t i = 0; i < r.lines.size(); ++i)
    out[i] = py::make_tuple(r.lines[i].time_key, r.lines[i].position);
  return out;
}

// Results over logs A and then B merge into the result over A and B: lines in time order, ties in
// the order the logs were read (A's events before B's: each later result's positions count on
// from the events read before it).
Result merge(const std::vector<Result>& parts) {
  auto merged = std::make_shared<ReplayResult>();
  for (const Result& part : parts) {
    if (!part) throw py::value_error("merge_replays: None is no ReplayResult");
    const std::uint64_t read_before = merged->counts.read.registry;
    for (const cli::ReplayedLine& line : part->lines)
      merged->lines.push_back({line.json, line.time_key, read_before + line.position});
    merged->counts.merge(part->counts);
    merged->errors.insert(merged->errors.end(), part->errors.begin(), part->errors.end());
  }
  std::stable_sort(merged->lines.begin(), merged->lines.end(), [](const auto& a, const auto& b) {
    return a.time_key != b.time_key ? a.time_key < b.time_key : a.position < b.position;
  });
  return merged;
}

// The event's number in its log, from a line's "event" object.
std::uint64_t event_index(const cli::ReplayedLine& line) {
  const auto event = line.json.find("event");
  if (event == line.json.end() || !event->is_object()) return 0;
  const auto index = event->find("index");
  return index != event->end() && index->is_number_unsigned() ? index->get<std::uint64_t>() : 0;
}

// The parts (k of K, replay(..., part=k, parts=K)) of one log merge into the log's result: counts
// add up; lines go in reading order (the event's index in the log), numbered again in that order,
// then in time order, as replaying the log whole orders them.
Result merge_parts(const std::vector<Result>& parts) {
  auto merged = std::make_shared<ReplayResult>();
  for (const Result& part : parts) {
    if (!part) throw py::value_error("merge_parts: None is no ReplayResult");
    if (!part->errors.empty())
      throw py::value_error("merge_parts: a part has errors (replay the log whole): " +
                            part->errors.front());
    for (const cli::ReplayedLine& line : part->lines) merged->lines.push_back(line);
    merged->counts.merge(part->counts);
  }
  auto& lines = merged->lines;
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return event_index(a) < event_index(b); });
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i].position = i;
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
    return a.time_key != b.time_key ? a.time_key < b.time_key : a.position < b.position;
  });
  return merged;
}

std::string output(const ReplayResult& r) {
  std::string out;
  for (const cli::ReplayedLine& line : r.lines) out += line.text() + "\n";
  return out;
}

// Pickled (to ship a result from a worker) as JSON text.
py::bytes state(const ReplayResult& r) {
  nlohmann::ordered_json lines = nlohmann::ordered_json::array();
  for (const cli::ReplayedLine& line : r.lines)
    lines.push_back({line.time_key, line.position, line.json});
  const nlohmann::ordered_json all{
      {"lines", std::move(lines)}, {"counts", r.counts.to_json()}, {"errors", r.errors}};
  return py::bytes(all.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result from_state(const py::bytes& bytes) {
  const nlohmann::ordered_json all =
      nlohmann::ordered_json::parse(std::string(bytes), nullptr, false);
  auto r = std::make_shared<ReplayResult>();
  std::string error;
  const auto bad = [] { throw py::value_error("not the state of a pickled ReplayResult"); };
  if (!all.is_object() || !all.contains("lines") || !all["lines"].is_array() ||
      !all.contains("errors") || !all["errors"].is_array() || !all.contains("counts") ||
      !cli::ReplayCounts::from_json(all["counts"], r->counts, error))
    bad();
  for (const auto& line : all["lines"]) {
    if (!line.is_array() || line.size() != 3 || !line[0].is_number_integer() ||
        !line[1].is_number_unsigned())
      bad();
    r->lines.push_back({line[2], line[0].get<std::int64_t>(), line[1].get<std::uint64_t>()});
  }
  for (const auto& e : all["errors"]) {
    if (!e.is_string()) bad();
    r->errors.push_back(e.get<std::string>());
  }
  return r;
}

}  // namespace

void define_replay_result(py::module_& m) {
  py::class_<ReplayResult, Result>(m, "ReplayResult",
                                   "Decisions and counts of a replay (hivewarden.replay)")
      .def_property_readonly("decisions", &decisions,
                             "The lines `hivewarden replay` prints, as dicts, in time order")
      .def_property_readonly(
          "summary", [](const ReplayResult& r) { return to_python(cli::replay_summary(r.counts)); },
          "The summary `hivewarden replay --summary` writes")
      .def_property_readonly(
          "counts", [](const ReplayResult& r) { return to_python(r.counts.to_json()); },
          "Every count, whole (the summary's top ten keys and processes are cut from these)")
      .def_readonly("errors", &ReplayResult::errors,
                    "Each log that could not be read whole (the file and the record)")
      .def_property_readonly("order", &order,
                             "Each decision's place: (UtcTime in microseconds since 1601, position "
                             "in the order the logs were read)")
      .def("output", &output, "The lines `hivewarden replay` prints (its stdout), as text")
      .def(
          "summary_text", [](const ReplayResult& r) { return cli::replay_summary_text(r.counts); },
          "The text of the summary file `hivewarden replay --summary` writes")
      .def(
          "totals",
          [](const ReplayResult& r, const std::string& what_if_name) {
            return cli::replay_totals(r.counts, what_if_name);
          },
          py::arg("what_if_name") = "", "The totals line `hivewarden replay` prints last on stderr")
      .def("__len__", [](const ReplayResult& r) { return r.lines.size(); })
      .def(py::pickle([](const ReplayResult& r) { return state(r); }, &from_state));
  m.def("merge_parts", &merge_parts, py::arg("parts"),
        "Merges the results of replay(log, part=k, parts=K) for k = 0..K-1 into the result of "
        "replay(log); ValueError if a part has errors (a damaged log: replay it whole)");
  m.def("merge_replays", &merge, py::arg("results"),
        "Merges the results of replays over parts of a list of logs, in the list's order, into the "
        "result of one replay over all of them");
}

}  // namespace hivewarden::python
