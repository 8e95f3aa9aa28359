#include "hivewarden/python/convert.hpp"

#include <Python.h>

#include "hivewarden/cli/operation_input.hpp"

namespace py = pybind11;

namespace hivewarden::python {
namespace {

using nlohmann::json;

py::str text(const std::string& s) {
  // Text from logs and policies may hold bytes that are not UTF-8; replaced as `eval` replaces
  // them.
  PyObject* str = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (str == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(str);
}

// Reads a Python value into JSON within the bounds `eval` holds a line to.
class OperationReader {
 public:
  explicit OperationReader(std::string& error) : error_(error) {}

  bool read(PyObject* value, json& out, std::size_t depth) {
    if (value == Py_None) {
      out = nullptr;
    } else if (PyBool_Check(value)) {
      out = value == Py_True;
    } else if (PyFloat_Check(value)) {
      out = PyFloat_AsDouble(value);
    } else if (PyLong_Check(value) || (PyIndex_Check(value) && !PyUnicode_Check(value))) {
      return read_integer(value, out);
    } else if (PyUnicode_Check(value)) {
      return read_string(value, out);
    } else if (PyDict_Check(value)) {
      return read_dict(value, out, depth + 1);
    } else if (PyList_Check(value) || PyTuple_Check(value)) {
      return read_list(value, out, depth + 1);
    } else {
      return fail(where() + "a Python " + Py_TYPE(value)->tp_name +
                  " is no JSON value (use str, int, float, bool, None, list or dict)");
    }
    return spend(8);
  }

 private:
  std::string where() const { return field_.empty() ? "" : "field `" + field_ + "`: "; }
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }
  // Every operation is bounded as a line of `eval` is: in bytes, and in nesting.
  bool spend(std::size_t bytes) {
    used_ += bytes;
    if (used_ <= cli::kMaxOperationLineBytes) return true;
    return fail("the operation is larger than " + std::to_string(cli::kMaxOperationLineBytes) +
                " bytes (the limit of one operation)");
  }
  bool nested(std::size_t depth) {
    if (depth <= cli::kMaxOperationNesting) return true;
    return fail("JSON nested deeper than " + std::to_string(cli::kMaxOperationNesting) +
                " levels (the limit of one operation)");
  }

  bool read_integer(PyObject* value, json& out) {
    const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(value));
    if (!index) throw py::error_already_set();
    int overflow = 0;
    const long long as_signed = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow == 0) {
      if (as_signed == -1 && PyErr_Occurred()) throw py::error_already_set();
      // As JSON text parses: unsigned when not negative (the reader tells them apart).
      if (as_signed >= 0)
        out = static_cast<std::uint64_t>(as_signed);
      else
        out = static_cast<std::int64_t>(as_signed);
      return spend(8);
    }
    if (overflow > 0) {
      const unsigned long long as_unsigned = PyLong_AsUnsignedLongLong(index.ptr());
      if (!(as_unsigned == ~0ULL && PyErr_Occurred())) {
        out = static_cast<std::uint64_t>(as_unsigned);
        return spend(8);
      }
      PyErr_Clear();
    }
    // Past 64 bits: a float, as the JSON text of the number would parse, for the reader to refuse.
    const double as_double = PyLong_AsDouble(index.ptr());
    if (as_double == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      return fail(where() + "an integer too large for JSON");
    }
    out = as_double;
    return spend(8);
  }

  bool read_string(PyObject* value, json& out) {
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(value, &size);
    if (utf8 == nullptr) {  // a lone surrogate
      PyErr_Clear();
      return fail(where().empty() ? "a string that is not valid UTF-8"
                                  : "field `" + field_ + "` is not valid UTF-8");
    }
    if (!spend(static_cast<std::size_t>(size))) return false;
    out = std::string(utf8, static_cast<std::size_t>(size));
    return true;
  }

  // Dicts and lists are read from a snapshot that holds its items: nothing the reading calls (an
  // __index__) can free an item being read.
  bool read_dict(PyObject* value, json& out, std::size_t depth) {
    if (!nested(depth)) return false;
    out = json::object();
    const py::object items = py::reinterpret_steal<py::object>(PyDict_Items(value));
    if (!items) throw py::error_already_set();
    for (const py::handle& pair : py::reinterpret_borrow<py::list>(items)) {
      PyObject* key = PyTuple_GET_ITEM(pair.ptr(), 0);
      if (!PyUnicode_Check(key))
        return fail(std::string("field names must be strings, not ") + Py_TYPE(key)->tp_name);
      json name;
      if (!read_string(key, name)) return false;
      const bool top = depth == 1;
      if (top) field_ = name.get<std::string>();
      if (!read(PyTuple_GET_ITEM(pair.ptr(), 1), out[name.get<std::string>()], depth)) return false;
      if (top) field_.clear();
    }
    return true;
  }

  bool read_list(PyObject* value, json& out, std::size_t depth) {
    if (!nested(depth)) return false;
    out = json::array();
    const py::object items = py::reinterpret_steal<py::object>(PySequence_List(value));
    if (!items) throw py::error_already_set();
    for (const py::handle& item : py::reinterpret_borrow<py::list>(items)) {
      if (!read(item.ptr(), out.emplace_back(), depth)) return false;
    }
    return true;
  }

  std::string& error_;
  std::string field_;  // the top-level field being read, to name it in an error
  std::size_t used_ = 0;
};

}  // namespace

py::object to_python(const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return py::none();
    case json::value_t::boolean:
      return py::bool_(value.get<bool>());
    case json::value_t::number_integer:
      return py::int_(value.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return py::int_(value.get<std::uint64_t>());
    case json::value_t::number_float:
      return py::float_(value.get<double>());
    case json::value_t::string:
      return text(value.get_ref<const std::string&>());
    case json::value_t::array: {
      py::list out(value.size());
      for (std::size_t i = 0; i < value.size(); ++i) out[i] = to_python(value[i]);
      return out;
    }
    case json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : value.items()) out[text(k)] = to_python(v);
      return out;
    }
    default:  // binary and discarded values: never in what the command line writes
      return py::none();
  }
}

bool operation_json(const py::handle& op, json& out, std::string& error) {
  return OperationReader(error).read(op.ptr(), out, 0);
}

py::dict event_dict(const replay::RegistryEvent& e) {
  py::dict d;
  d["EventID"] = e.event_id;
  d["Provider"] = "Microsoft-Windows-Sysmon";
  d["EventType"] = text(e.event_type);
  d["UtcTime"] = text(e.utc_time);
  d["ProcessGuid"] = text(e.process_guid);
  d["ProcessId"] = e.pid;
  d["ThreadId"] = e.thread;
  d["Image"] = text(e.image);
  d["TargetObject"] = text(e.target_object);
  if (e.event_id == 13 || !e.details.empty()) d["Details"] = text(e.details);
  if (e.event_id == 14 || !e.new_name_path.empty()) d["NewName"] = text(e.new_name_path);
  d["Computer"] = text(e.computer);
  d["source"] = text(e.source);
  d["index"] = e.index;
  if (!e.unreadable.empty()) d["unreadable"] = text(e.unreadable);
  return d;
}

}  // namespace hivewarden::python
