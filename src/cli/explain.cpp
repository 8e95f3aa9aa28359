#include "hivewarden/cli/explain.hpp"

#include <algorithm>
#include <cstdio>

#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::cli {
namespace {

std::string why_of(const Decision& d, const OperationRequest& request) {
  const std::string op(traits(request.op).name);
  switch (d.reason) {
    case Reason::kHardenedKey:
      return "the key is under a hardened key; only System, the AV service, friendly and service-SID processes may touch it (SPEC 4.1); no notification";
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
      return std::string("a matched rule denies ") + op + ", but the process is exempt (" + exemption_name(d.exemption) + ")" +
             (d.notify != NotifyMode::kNone ? "; the operation is reported" : "");
    case Reason::kNotify:
      return "a matched rule asks for " + op + " to be reported after it succeeds (SPEC 4.6)";
    case Reason::kNoMatch:
      return "no monitored entry asks anything of " + op + " on this key";
    case Reason::kKeyExists:
      return "the key exists: create-key only opens it (SPEC 4.2)";
    case Reason::kLegacyHardening:
      return "legacy hardening: seces and service-SID processes may not query LoadAppInit_DLLs (SPEC 5)";
    case Reason::kInvalidName:
      return "the key or value name is malformed (empty component, NUL where the form cannot carry one, or over a registry limit): denied, fail closed";
    case Reason::kSubtreeProtected:
      if (request.op == Operation::kDeleteKey)
        return "delete-key would delete this key's protected values with it (" +
               policy::rule_names(d.subtree_rules) +
               "), and the process has no exemption (SPEC 4.3)";
      return op + " would move or overwrite protected keys or values below this key (" + policy::rule_names(d.subtree_rules) +
             "), and the process has no exemption";
    case Reason::kMatchLimit:
      return "the policy's wildcards kept too many alternatives alive for this path: denied, fail closed";
  }
  return "";
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
    const MatchHit& hit = scratch.match.hits[i];
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
    e.clients.push_back(m.client);
    e.matches.push_back(std::move(m));
  }
  std::sort(e.clients.begin(), e.clients.end());
  e.clients.erase(std::unique(e.clients.begin(), e.clients.end()), e.clients.end());
  if (d.process.matched_process_rule != blob::kNoIndex) {
    e.process_rule = utf16_to_utf8(policy.str(policy.processes()[d.process.matched_process_rule].display));
  }
  e.why = why_of(d, request);
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
  out["rule_names"] = policy::rule_names(d.rules);
  out["process"] = {{"flags", policy::process_flag_names(d.process.flags)},
                    {"rules", policy::process_rule_names(d.process.rules)},
                    {"matched_image", e.process_rule}};
  nlohmann::ordered_json matches = nlohmann::ordered_json::array();
  for (const MatchedEntry& m : e.matches) {
    nlohmann::ordered_json j{{"key", m.key}, {"client", m.client}, {"client_hash", m.client_hash},
                     {"rules", hex_rules(m.rules)}, {"rule_names", policy::rule_names(m.rules)}, {"line", m.line}};
    if (m.has_value) j["value"] = m.value;
    matches.push_back(std::move(j));
  }
  out["matches"] = std::move(matches);
  out["why"] = e.why;
  return out;
}

}  // namespace hivewarden::cli
