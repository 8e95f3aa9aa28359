// Sigma registry rules -> monitored entries that report (issue: import-sigma). What a policy
// can express is imported; every condition it cannot express is named with the reason.
#pragma once

#include <cstddef>

#include <string>
#include <vector>

namespace hivewarden::sigma {

// One component pattern sequence over a registry path (policy key-pattern syntax), e.g.
// {"\REGISTRY", "**", "Image File Execution Options", "*"}.
using PathPattern = std::vector<std::string>;

// One `field|modifiers: values` test of a condition (SPEC §10): a list of values is any one of
// them (every one with `all`).
struct ConditionTest {
  std::string key;  // "target_object|contains|all"
  std::vector<std::string> values;
};
using ConditionMap = std::vector<ConditionTest>;  // every test holds (AND)

// A monitored entry produced from a rule.
struct ImportedEntry {
  std::string key;    // policy key pattern
  std::string value;  // value name pattern (value entries)
  bool value_entry = false;
  std::vector<std::string> key_rules;    // rule names for key operations
  std::vector<std::string> value_rules;  // rule names for value operations
  std::vector<ConditionMap> when;        // any one map holds; empty: no condition
  std::vector<ConditionMap> unless;      // the entry does not apply when any one map holds
};

enum class ImportStatus { kWhole, kPartial, kNone };

struct RuleImport {
  std::string file;
  std::string title;
  std::string id;
  std::string category;
  ImportStatus status = ImportStatus::kNone;
  std::vector<std::string> notes;  // every condition not expressed, and why
  std::vector<ImportedEntry> entries;
};

// A Sigma rule is a few kilobytes; a larger file is not read.
inline constexpr std::size_t kMaxRuleFileBytes = 1024 * 1024;

// Reads one Sigma rule file and translates it. Never throws: a file that cannot be read or
// parsed, is larger than kMaxRuleFileBytes or breaks the policy reader's YAML bounds (nesting,
// alias expansion, duplicate keys: hivewarden/policy/yaml_limits.hpp) comes back with status
// kNone and a note saying why.
RuleImport import_rule_file(const std::string& path);

// Translates rule text (for tests); `file` names it in notes.
RuleImport import_rule_text(const std::string& yaml, const std::string& file);

// Writes a policy (SPEC §8 YAML) with one commented block of entries per imported rule.
std::string render_policy(const std::vector<RuleImport>& rules);

const char* status_name(ImportStatus s);

}  // namespace hivewarden::sigma
