#include "hivewarden/cli/explain.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "hivewarden/core/condition.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/bit_names.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

std::string why_of(const Decision& d, const OperationRequest& request) {
  const std::string op(traits(request.op).name);
  switch (d.reason) {
    case Reason::kHardenedKey:
      return "the key is under a hardened key; only System, the AV service, friendly and "
             "service-SID processes may touch it (SPEC 4.1); no notification";
    case Reason::kTamperProtection:
      if ((d.rules & rule::kTamperProtection) == 0 && request.op == Operation::kDeleteKey)
        return "a value of this key has tamper-protection, and delete-key would delete it with the "
               "key: denied for every process, reported (SPEC 4.3, 4.4)";
      if ((d.rules & rule::kTamperProtection) == 0)
        return op +
               " would move or overwrite a key or value below this key that has tamper-protection: "
               "denied for every process, reported (SPEC 4.3, 4.4)";
      return "a matched rule has tamper-protection: denied for every process, reported (SPEC 4.4)";
    case Reason::kDenyRule:
      return "a matched rule denies " + op + " and the process has no exemption (SPEC 4.5)";
    case Reason::kExempt:
      return std::string("a matched rule denies ") + op + ", but the process is exempt (" +
             exemption_name(d.exemption) + ")" +
             (d.notify != NotifyMode::kNone ? "; the operation is reported" : "");
    case Reason::kNotify:
      return "a matched rule asks for " + op + " to be reported after it succeeds (SPEC 4.6)";
    case Reason::kNoMatch:
      return "no monitored entry asks anything of " + op + " on this key";
    case Reason::kKeyExists:
      return "the key exists: create-key only opens it (SPEC 4.2)";
    case Reason::kLegacyHardening:
      return "legacy hardening: seces and service-SID processes may not query LoadAppInit_DLLs "
             "(SPEC 5)";
    case Reason::kInvalidName:
      return "the key or value name is malformed (empty component, NUL where the form cannot carry "
             "one, or over a registry limit): denied, fail closed";
    case Reason::kSubtreeProtected:
      if (request.op == Operation::kDeleteKey)
        return "delete-key would delete this key's protected values with it (" +
               rule_names(d.subtree_rules) + "), and the process has no exemption (SPEC 4.3)";
      return op + " would move or overwrite protected keys or values below this key (" +
             rule_names(d.subtree_rules) + "), and the process has no exemption";
    case Reason::kMatchLimit:
      return "the policy's wildcards kept too many alternatives alive for this path: denied, fail "
             "closed";
  }
  return "";
}

// The operation's field as a condition saw it, for an explanation.
std::string field_description(const PolicyView& policy, const OperationRequest& request,
                              std::uint32_t field) {
  char16_t text[256];
  std::int64_t n = condition_field_text(policy, field, request, text, 256);
  const std::string name = condition_field_name(field);
  if (n < 0 && field == blob::kFieldData)  // not a string: say what it is, as Sysmon would
    n = condition_field_text(policy, blob::kFieldDetails, request, text, 256);
  if (n < 0) return "the operation has no " + name;
  std::string shown = utf16_to_utf8(std::u16string_view(text, static_cast<std::size_t>(n)));
  if (n == 256) shown += "...";
  return "its " + name + " is '" + shown + "'";
}

// Which condition held or failed (SPEC §10), in words.
std::string conditions_outcome(const PolicyView& policy, const blob::Entry& entry,
                               const OperationRequest& request) {
  if (!has_conditions(entry)) return "";
  std::uint64_t work = 0;
  const ConditionVerdict v = evaluate_conditions(policy, entry, request, work);
  if (v.over_budget) return "conditions: not decided, over the work bound (fail closed)";
  std::string out;
  if (v.when_held != blob::kNoIndex) {
    out = "when held: (" +
          policy::condition_group_text(policy, policy.condition_groups(entry.when)[v.when_held]) +
          ")";
  } else if (entry.when.count > 0) {
    const blob::ConditionTest& failed = policy.condition_test(v.when_failed);
    out = "when failed: no condition held (first failing test: " +
          policy::condition_test_text(policy, failed) + "; " +
          field_description(policy, request, failed.field) + ")";
  }
  if (v.unless_held != blob::kNoIndex) {
    const blob::Range group = policy.condition_groups(entry.unless)[v.unless_held];
    out += (out.empty() ? "" : "; ") + std::string("unless held: (") +
           policy::condition_group_text(policy, group) + ")";
  } else if (entry.unless.count > 0 && v.applies) {
    out += (out.empty() ? "" : "; ") + std::string("unless: none held");
  }
  return out;
}

MatchedEntry matched_entry(const PolicyView& policy, const OperationRequest& request,
                           const MatchHit& hit) {
  const blob::Entry& entry = policy.entries()[hit.entry];
  const blob::Client& client = policy.clients()[hit.client];
  MatchedEntry m;
  m.key = utf16_to_utf8(policy.str(entry.key));
  m.has_value = entry.has_value != 0;
  if (m.has_value) m.value = utf16_to_utf8(policy.str(entry.value));
  m.line = entry.line;
  m.client = utf16_to_utf8(policy.str(client.name));
  m.client_hash = hex_bytes(client.hash, sizeof client.hash);
  m.rules = hit.rules;
  m.conditions = conditions_outcome(policy, entry, request);
  return m;
}

nlohmann::ordered_json matched_json(const MatchedEntry& m) {
  nlohmann::ordered_json j{{"key", m.key},
                           {"client", m.client},
                           {"client_hash", m.client_hash},
                           {"rules", hex_rules(m.rules)},
                           {"rule_names", rule_names(m.rules)},
                           {"line", m.line}};
  if (m.has_value) j["value"] = m.value;
  if (!m.conditions.empty()) j["conditions"] = m.conditions;
  return j;
}

// One entry that matched (or whose path matched but whose conditions did not hold).
void print_entry(std::ostream& out, const char* label, const MatchedEntry& m) {
  out << label << " line " << m.line << ": key '" << m.key << "'";
  if (m.has_value) out << " value '" << m.value << "'";
  out << " client " << m.client << " [" << m.client_hash << "] rules " << rule_names(m.rules)
      << "\n";
  if (!m.conditions.empty()) out << "           " << m.conditions << "\n";
}

}  // namespace

std::string hex_rules(std::uint32_t rules) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%06x", rules);
  return b;
}

Explanation explain(const PolicyView& policy, const OperationRequest& request, const Decision& d,
                    const DecisionScratch& scratch) {
  Explanation e;
  if (d.reason != Reason::kInvalidName && request.key != nullptr) {
    e.canonical_key = utf16_to_utf8(request.key->text());
    if (request.new_key != nullptr) e.canonical_new_key = utf16_to_utf8(request.new_key->text());
  }
  for (std::uint32_t i = 0; i < scratch.match.hit_count; ++i) {
    MatchedEntry m = matched_entry(policy, request, scratch.match.hits[i]);
    e.clients.push_back(m.client);
    e.matches.push_back(std::move(m));
  }
  for (std::uint32_t i = 0; i < scratch.match.condition_miss_count; ++i)
    e.condition_misses.push_back(matched_entry(policy, request, scratch.match.condition_misses[i]));
  std::sort(e.clients.begin(), e.clients.end());
  e.clients.erase(std::unique(e.clients.begin(), e.clients.end()), e.clients.end());
  if (d.process.matched_process_rule != blob::kNoIndex) {
    e.process_rule =
        utf16_to_utf8(policy.str(policy.processes()[d.process.matched_process_rule].display));
  }
  e.why = why_of(d, request);
  if (d.reason == Reason::kNoMatch && !e.condition_misses.empty())
    e.why = "an entry's path matched, but its conditions did not hold for this operation (SPEC 10)";
  return e;
}

nlohmann::ordered_json decision_json(const Decision& d, const Explanation& e, bool detailed) {
  nlohmann::ordered_json out;
  out["decision"] = verdict_name(d.verdict);
  out["reason"] = reason_name(d.reason);
  out["notify"] = notify_name(d.notify);
  out["clients"] = e.clients;
  out["rules"] = hex_rules(d.rules);
  if (!e.canonical_key.empty()) out["key"] = e.canonical_key;
  if (!e.canonical_new_key.empty()) out["new_key"] = e.canonical_new_key;
  if (d.exemption != Exemption::kNone) out["exemption"] = exemption_name(d.exemption);
  if (d.subtree_rules != 0) out["subtree_rules"] = hex_rules(d.subtree_rules);
  if (!detailed) return out;
  out["rule_names"] = rule_names(d.rules);
  out["process"] = {{"flags", process_flag_names(d.process.flags)},
                    {"rules", process_rule_names(d.process.rules)},
                    {"matched_image", e.process_rule}};
  nlohmann::ordered_json matches = nlohmann::ordered_json::array();
  for (const MatchedEntry& m : e.matches) matches.push_back(matched_json(m));
  out["matches"] = std::move(matches);
  if (!e.condition_misses.empty()) {
    nlohmann::ordered_json misses = nlohmann::ordered_json::array();
    for (const MatchedEntry& m : e.condition_misses) misses.push_back(matched_json(m));
    out["condition_misses"] = std::move(misses);
  }
  out["why"] = e.why;
  return out;
}

void print_explanation(std::ostream& out, const OperationRequest& request, std::u16string_view key,
                       const Decision& d, const Explanation& e, const std::string& image) {
  out << "operation  " << traits(request.op).name << "  " << utf16_to_utf8(key);
  if (traits(request.op).matches_values || request.op == Operation::kQueryValue) {
    out << "  value '" << utf16_to_utf8(request.value) << "'";
  }
  if (request.op == Operation::kRenameKey)
    out << "  -> '" << utf16_to_utf8(request.new_name) << "'";
  out << "\n";
  if (!e.canonical_key.empty()) out << "canonical  " << e.canonical_key << "\n";
  if (!e.canonical_new_key.empty()) out << "new key    " << e.canonical_new_key << "\n";
  out << "process    " << (image.empty() ? "(no image)" : image) << " (pid " << request.process.pid
      << "): flags " << process_flag_names(d.process.flags) << ", rules "
      << process_rule_names(d.process.rules);
  out << (d.process.unclassified
              ? " (not classified: matching the policy's image globs would take too long; no "
                "rule of the policy applies, seces is assumed)"
          : e.process_rule.empty() ? " (no process rule of the policy matched)"
                                   : " (policy: " + e.process_rule + ")")
      << "\n";
  out << "decision   " << (d.verdict == Verdict::kDeny ? "DENY" : "ALLOW") << " ("
      << reason_name(d.reason) << ")\n";
  out << "notify     " << notify_name(d.notify) << "\n";
  out << "rules      " << rule_names(d.rules) << " (" << hex_rules(d.rules) << ")\n";
  if (d.subtree_rules != 0) {  // what the operation would take with it (SPEC 4.3)
    out << "subtree    " << rule_names(d.subtree_rules) << " (" << hex_rules(d.subtree_rules)
        << ")\n";
  }
  for (const MatchedEntry& m : e.matches) print_entry(out, "matched   ", m);
  for (const MatchedEntry& m : e.condition_misses) print_entry(out, "not met   ", m);
  out << "why        " << e.why << "\n";
}

}  // namespace hivewarden::cli
