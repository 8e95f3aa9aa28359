// One operation of the `eval` contract (SPEC §9) as owned data, parsed from JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "hivewarden/core/decision.hpp"

namespace hivewarden::cli {

// The strings an OperationRequest points into, kept alive together with it.
struct OperationInput {
  Operation op = Operation::kCreateKey;
  std::u16string key, value, new_name, image, user_sid;
  std::uint32_t pid = 0;
  bool key_exists = false;
  ProcessFlags flags = 0;
  ProcessRules rules = 0;
  std::uint64_t thread = 1;
  bool success = true;  // the post-operation's outcome (`status`)

  // A request viewing this input's strings (valid while the input lives).
  OperationRequest request() const;
};

// Reads the fields of SPEC §9 from a JSON object (op, key, value, new_name, image, pid,
// key_exists, flags, rules, thread, status; extension: user_sid for HKCU). Unknown fields are
// ignored so that users can carry their own. On a missing or mistyped field returns nullopt and
// says which in `error`.
std::optional<OperationInput> operation_from_json(const nlohmann::json& object, std::string& error);

// True for a `status` that means the operation succeeded ("success", "STATUS_SUCCESS", 0).
bool status_is_success(const nlohmann::json& status, bool& valid);

}  // namespace hivewarden::cli
