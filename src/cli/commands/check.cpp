// `hivewarden check`: decides one operation and explains why.
#include <iostream>
#include <sstream>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/eval_line.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/bit_names.hpp"
#include "hivewarden/util/utf.hpp"

#include <nlohmann/json.hpp>

namespace hivewarden::cli {
namespace {

nlohmann::json comma_list(const std::string& list) {
  nlohmann::json names = nlohmann::json::array();
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

nlohmann::json number_or_text(const std::string& text) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_number_integer() ? parsed : nlohmann::json(text);
}

// The options as the JSON object of SPEC §9, so that `check` reads its operation with the same
// reader as `eval`, `demo` and `run`. `--data` is a JSON value (1, "text", ["a","b"]) or plain
// text, taken as a string.
nlohmann::json operation_object(const CheckOptions& o) {
  nlohmann::json object{{"op", o.op}, {"key", o.key}, {"pid", o.pid}};
  if (!o.value.empty() || o.op == "set-value" || o.op == "delete-value" || o.op == "query-value") {
    object["value"] = o.value;
  }
  if (o.has_new_name) object["new_name"] = o.new_name;
  if (!o.image.empty()) object["image"] = o.image;
  if (!o.user_sid.empty()) object["user_sid"] = o.user_sid;
  if (o.key_exists) object["key_exists"] = true;
  if (o.link) object["link"] = true;
  if (!o.flags.empty()) object["flags"] = comma_list(o.flags);
  if (!o.rules.empty()) object["rules"] = comma_list(o.rules);
  // A number given on the command line is a number to the reader, as in a JSON line.
  if (!o.status.empty()) object["status"] = number_or_text(o.status);
  if (!o.type.empty()) object["type"] = number_or_text(o.type);
  if (!o.data.empty()) {
    nlohmann::json data = nlohmann::json::parse(o.data, nullptr, false);
    object["data"] = data.is_discarded() ? nlohmann::json(o.data) : data;
  }
  return object;
}

}  // namespace

int run_check(const CheckOptions& options, std::ostream& out) {
  std::string error;
  const std::optional<OperationInput> input = operation_from_json(operation_object(options), error);
  if (!input) {
    std::cerr << "error: " << error << "\n";
    return kExitInputError;
  }
  auto session = open_policy_session(options.policy);
  if (!session) return kExitInputError;
  const DecidedOperation decided = decide_operation(*session, *input);
  const Decision& d = decided.decision;
  if (decided.key_status != PathStatus::kOk && decided.key_status != PathStatus::kInvalidName) {
    std::cerr << "error: --key: " << path_status_text(decided.key_status) << "\n";
    return kExitInputError;
  }
  if (options.json) {
    out << decision_json(d, decided.explanation, true)
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    print_explanation(out, decided.request, input->operation.key_text, d, decided.explanation,
                      options.image);
  }
  return kExitOk;
}

Subcommand register_check(CLI::App& app) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Decide one operation and explain why");
  cmd->footer(kConditionsHelp);
  cmd->add_option("--policy", o->policy,
                  "Policy file (.yaml or .hwp); default: the built-in policy");
  cmd->add_option("--op", o->op,
                  "create-key, delete-key, set-value, delete-value, rename-key, restore-key, "
                  "replace-key, query-value")
      ->required();
  cmd->add_option(
         "--key", o->key,
         "Key path: \\REGISTRY\\..., HKLM\\..., HKU\\..., HKCU\\... (with --user-sid), HKCR\\...")
      ->required();
  cmd->add_option("--value", o->value, "Value name (value operations)");
  auto* new_name = cmd->add_option("--new-name", o->new_name, "New last component (rename-key)");
  cmd->add_option("--image", o->image,
                  "Image path of the process (\"System\" with --pid 4 is the kernel)");
  cmd->add_option("--pid", o->pid, "Process id");
  cmd->add_option("--flags", o->flags,
                  "Extra process flags, comma-separated (system, av-service, excluded, "
                  "service-sid, friendly, seces)");
  cmd->add_option("--rules", o->rules,
                  "Extra process rules, comma-separated (allow-all-registry, notify-sync)");
  cmd->add_option("--user-sid", o->user_sid, "The user's SID, for HKCU paths");
  cmd->add_option("--status", o->status,
                  "The operation's outcome: success (default), or an NTSTATUS name or number (then "
                  "nothing is reported)");
  cmd->add_option("--type", o->type,
                  "set-value: the new value's type (REG_SZ, REG_DWORD, ... or a number)");
  cmd->add_option("--data", o->data,
                  "set-value: the new data, a JSON value (1, \"text\", [\"a\",\"b\"], hex for "
                  "binary) or plain text");
  cmd->add_flag("--link", o->link,
                "create-key: the new key is a symbolic link (REG_OPTION_CREATE_LINK)");
  cmd->add_flag("--key-exists", o->key_exists, "create-key: the key already exists (an open)");
  cmd->add_flag("--json", o->json, "Print one JSON object instead of text");
  return {cmd, [o, new_name] {
            o->has_new_name = new_name->count() > 0;  // an empty new name is still a name
            return run_check(*o, std::cout);
          }};
}

}  // namespace hivewarden::cli
