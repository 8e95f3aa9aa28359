// A decision made readable: which entries and clients matched, and why it came out as it did.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/policy_view.hpp"

namespace hivewarden::cli {

struct MatchedEntry {
  std::string key;    // the pattern as written in the policy
  std::string value;  // value pattern, empty for key entries
  bool has_value = false;
  std::uint32_t line = 0;
  std::string client;
  std::string client_hash;  // 32 hex digits
  std::uint32_t rules = 0;
  // SPEC §10: which of the entry's conditions held or failed for the operation (empty: none).
  std::string conditions;
};

struct Explanation {
  std::string canonical_key;
  std::string canonical_new_key;     // rename target
  std::vector<std::string> clients;  // sorted, unique
  std::vector<MatchedEntry> matches;
  // Entries whose path matched but whose conditions did not hold (at most kMaxConditionMisses).
  std::vector<MatchedEntry> condition_misses;
  std::string process_rule;  // the policy's processes[] image that applied, if any
  std::string why;           // one sentence
};

// Explains `d`, decided for `request` against `policy` with `scratch` (still holding its hits).
Explanation explain(const PolicyView& policy, const OperationRequest& request, const Decision& d,
                    const DecisionScratch& scratch);

// The SPEC §9 output object: decision, reason, notify, clients, rules, plus key (canonical),
// and with `detailed` the matches, process and explanation.
nlohmann::ordered_json decision_json(const Decision& d, const Explanation& e, bool detailed);

// What `check` prints: the operation, its canonical key, the process, the decision and every entry
// that matched (or whose conditions did not hold), and why. `key_text` is the key as given, `image`
// the process's image as given ("" for none).
void print_explanation(std::ostream& out, const OperationRequest& request,
                       std::u16string_view key_text, const Decision& d, const Explanation& e,
                       const std::string& image);

// "0x400500"
std::string hex_rules(std::uint32_t rules);

}  // namespace hivewarden::cli
