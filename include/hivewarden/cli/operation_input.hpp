// The one reader of an operation of the `eval` contract (SPEC §9): `eval`, `check`, `demo` and
// `run` all read an operation with it, so that they decide the same operation the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/util/line_reader.hpp"
#include "hivewarden/util/owned_operation.hpp"

namespace hivewarden::cli {

// Bounds of one operation line: longer lines and deeper nesting are input errors, read no further.
inline constexpr std::size_t kMaxOperationLineBytes = 1024 * 1024;
inline constexpr std::size_t kMaxOperationNesting = 8;

// One operation line read: the operation (its request filled once, its key not yet canonical),
// and the outcome the line gives its post-operation.
struct OperationInput {
  OwnedOperation operation;
  bool success = true;  // the post-operation's outcome (`status`)
  std::string status;   // `status` as the line gave it (empty: none given)
};

// Reads the fields of SPEC §9 from a JSON object (op, key, value, new_name, image, pid,
// key_exists, flags, rules, thread, status, user_sid, type, data; `run`'s link, open_link and
// file). Unknown fields are ignored so that users can carry their own; a field that is present
// with the wrong type or out of range is an error, never a silent default. On error returns
// nullopt and says which field and why in `error`.
std::optional<OperationInput> operation_from_json(const nlohmann::json& object, std::string& error);

// Reads one line of JSON text: refuses lines over kMaxOperationLineBytes or nested deeper than
// kMaxOperationNesting before parsing, then operation_from_json.
std::optional<OperationInput> operation_from_line(std::string_view text, std::string& error);

// One non-blank line of operations: the operation read from it, or why it could not be read.
struct OperationLine {
  std::uint64_t number = 0;
  std::optional<OperationInput> input;
  std::string error;  // when `input` is empty
};

// The operations of a JSON-lines stream, line by line, as every command reads them: blank lines
// skipped, each line bounded by kMaxOperationLineBytes (a longer one is skipped unread).
class OperationLines {
 public:
  explicit OperationLines(std::istream& in) : lines_(in, kMaxOperationLineBytes) {}

  // The next non-blank line; false at the end of the input or when reading failed.
  bool next(OperationLine& line);
  bool read_failed() const { return read_failed_; }
  std::uint64_t lines_read() const { return lines_.line_number(); }

 private:
  LineReader lines_;
  std::string text_;
  bool read_failed_ = false;
};

// `status` (SPEC §9): "success", "STATUS_SUCCESS" or 0 (any case, decimal or hex) is success;
// any other NTSTATUS name (STATUS_...), the host's names (access-denied, ...) or number is a
// failure. `valid` is false for anything else.
bool status_is_success(const nlohmann::json& status, bool& valid);

}  // namespace hivewarden::cli
