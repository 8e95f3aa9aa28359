// Between Python objects and what the command line's code reads and writes (JSON values, events,
// replay results), for the `hivewarden` Python module.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/replay_run.hpp"
#include "hivewarden/replay/event.hpp"

namespace hivewarden::python {

// Raised to Python as hivewarden.InputError (a ValueError).
struct InputFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A JSON value as Python: dicts keep the order of the fields.
pybind11::object to_python(const nlohmann::ordered_json& value);

// An operation dict as the JSON object `eval` would parse from its line, held to the same bounds
// (nesting, size); false with `error` saying what is wrong (the message `eval` gives for the same
// problem in a line where there is one). Accepts dict, list, tuple, str, int, float, bool, None.
bool operation_json(const pybind11::handle& op, nlohmann::json& out, std::string& error);

// A registry event as a dict of Sysmon's field names (EventID, EventType, TargetObject, Details,
// NewName, Image, ProcessGuid, ProcessId, ThreadId, UtcTime, Computer), plus where it came from
// (source, index) and, when a field could not be read, `unreadable`. A list of them written as JSON
// lines is a log replay reads.
pybind11::dict event_dict(const replay::RegistryEvent& event);

// What replay() gives: the lines `hivewarden replay` prints, with their place in time order, and
// the counts its summary is made of. Results over parts of a set of logs merge into the result
// over all of them (merge_replays).
struct ReplayResult {
  std::vector<cli::ReplayedLine> lines;
  cli::ReplayCounts counts;
  std::vector<std::string> errors;
};

// The ReplayResult class and merge_replays, in module `m`.
void define_replay_result(pybind11::module_& m);

}  // namespace hivewarden::python
