// `hivewarden check`: decides one operation and explains why.
#include <iostream>
#include <sstream>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/cli/explain.hpp"
#include "hivewarden/cli/policy_session.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

template <std::size_t N>
bool names_to_bits(const std::string& list, const NamedBit (&table)[N], std::uint32_t& bits, const char* what) {
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    std::uint32_t bit = 0;
    if (!bit_by_name(table, name, bit)) {
      std::cerr << "error: unknown " << what << " '" << name << "'\n";
      return false;
    }
    bits |= bit;
  }
  return true;
}

bool to16(const std::string& s, std::u16string& out, const char* what) {
  auto converted = utf8_to_utf16(s);
  if (!converted) {
    std::cerr << "error: " << what << " is not valid UTF-8\n";
    return false;
  }
  out = std::move(*converted);
  return true;
}

void print_readable(std::ostream& out, const OperationRequest& request, const Decision& d, const Explanation& e,
                    const std::string& image) {
  out << "operation  " << traits(request.op).name << "  " << utf16_to_utf8(request.key);
  if (traits(request.op).matches_values || request.op == Operation::kQueryValue) {
    out << "  value '" << utf16_to_utf8(request.value) << "'";
  }
  if (request.op == Operation::kRenameKey) out << "  -> '" << utf16_to_utf8(request.new_name) << "'";
  out << "\n";
  if (!e.canonical_key.empty()) out << "canonical  " << e.canonical_key << "\n";
  if (!e.canonical_new_key.empty()) out << "new key    " << e.canonical_new_key << "\n";
  out << "process    " << (image.empty() ? "(no image)" : image) << " (pid " << request.process.pid << "): flags "
      << policy::process_flag_names(d.process.flags) << ", rules " << policy::process_rule_names(d.process.rules);
  out << (e.process_rule.empty() ? " (no process rule of the policy matched)" : " (policy: " + e.process_rule + ")")
      << "\n";
  out << "decision   " << (d.verdict == Verdict::kDeny ? "DENY" : "ALLOW") << " (" << reason_name(d.reason) << ")\n";
  out << "notify     " << notify_name(d.notify) << "\n";
  out << "rules      " << policy::rule_names(d.rules) << " (" << hex_rules(d.rules) << ")\n";
  if (d.subtree_rules != 0) {  // what the operation would take with it (SPEC 4.3)
    out << "subtree    " << policy::rule_names(d.subtree_rules) << " ("
        << hex_rules(d.subtree_rules) << ")\n";
  }
  for (const MatchedEntry& m : e.matches) {
    out << "matched    line " << m.line << ": key '" << m.key << "'";
    if (m.has_value) out << " value '" << m.value << "'";
    out << " client " << m.client << " [" << m.client_hash << "] rules " << policy::rule_names(m.rules) << "\n";
  }
  out << "why        " << e.why << "\n";
}

}  // namespace

int run_check(const CheckOptions& options, std::ostream& out) {
  OperationRequest request;
  if (!operation_by_name(options.op, request.op)) {
    std::cerr << "error: unknown --op '" << options.op
              << "' (create-key, delete-key, set-value, delete-value, rename-key, restore-key, replace-key, query-value)\n";
    return kExitInputError;
  }
  std::u16string key, value, new_name, image, sid;
  if (!to16(options.key, key, "--key") || !to16(options.value, value, "--value") ||
      !to16(options.new_name, new_name, "--new-name") || !to16(options.image, image, "--image") ||
      !to16(options.user_sid, sid, "--user-sid")) {
    return kExitInputError;
  }
  if (request.op == Operation::kRenameKey && new_name.empty()) {
    std::cerr << "error: rename-key needs --new-name\n";
    return kExitInputError;
  }
  request.key = key;
  request.value = value;
  request.new_name = new_name;
  request.key_exists = options.key_exists;
  request.process.image = image;
  request.process.pid = options.pid;
  request.process.user_sid = sid;
  if (!names_to_bits(options.flags, kProcessFlagNames, request.process.extra_flags, "process flag") ||
      !names_to_bits(options.rules, kProcessRuleNames, request.process.extra_rules, "process rule")) {
    return kExitInputError;
  }
  auto session = open_policy_session(options.policy);
  if (!session) return kExitInputError;
  const PolicyView& view = session->policy.view();
  const Decision d = session->engine->decide_with(view, request, *session->scratch);
  if (d.path_status != PathStatus::kOk) {
    std::cerr << "error: --key: " << path_status_text(d.path_status) << "\n";
    return kExitInputError;
  }
  const Explanation e = explain(view, request, d, *session->scratch);
  if (options.json) {
    out << decision_json(d, e, true).dump() << "\n";
  } else {
    print_readable(out, request, d, e, options.image);
  }
  return kExitOk;
}

}  // namespace hivewarden::cli
