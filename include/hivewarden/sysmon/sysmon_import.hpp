// Sysmon configurations (the XML users already deploy) -> a policy that reports the registry
// events Sysmon would log (issue 13 item 3; semantics written down in docs/SYSMON-IMPORT.md).
// Only RegistryEvent filters are imported; other event types are skipped with a note.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hivewarden::sysmon {

// The fields of Sysmon's RegistryEvent (events 12, 13, 14).
enum class Field {
  kRuleName,
  kEventType,
  kUtcTime,
  kProcessGuid,
  kProcessId,
  kImage,
  kTargetObject,
  kDetails,
  kNewName,
  kUser,
};

// Sysmon's filter conditions (the `condition` attribute; `is` when absent).
enum class Condition {
  kIs,
  kIsNot,
  kIsAny,
  kContains,
  kContainsAny,
  kContainsAll,
  kExcludes,
  kExcludesAny,
  kExcludesAll,
  kBeginWith,
  kEndWith,
  kNotBeginWith,
  kNotEndWith,
  kLessThan,
  kMoreThan,
  kImage,
};

struct Filter {
  Field field = Field::kTargetObject;
  Condition condition = Condition::kIs;
  std::string value;
  std::size_t line = 0;
};

// One Sysmon rule: its filters must all hold (a lone filter, a <Rule groupRelation="and">, or
// the filters of a <RuleGroup groupRelation="and">).
struct Rule {
  std::vector<Filter> filters;
  std::string file;
  std::size_t line = 0;
  std::string name;  // the `name` attribute (Sysmon's RuleName), for comments
};

// The RegistryEvent part of one or more configuration files, merged as Sysmon would merge them.
struct Config {
  std::vector<Rule> include, exclude;
  bool has_include_element = false;  // a <RegistryEvent onmatch="include"> (even empty)
  bool has_exclude_element = false;
  std::vector<std::string> notes;  // what was skipped (other event types)
};

// Bounds: bad input gets an error, never unbounded work or memory.
inline constexpr std::size_t kMaxConfigFileBytes = 4u << 20;
inline constexpr std::size_t kMaxRules = 20'000;  // over all files read into one Config
inline constexpr std::size_t kMaxFiltersPerRule = 64;
inline constexpr std::size_t kMaxValueBytes = 4096;          // one filter's text
inline constexpr std::size_t kMaxListItems = 256;            // `;`-separated items of one filter
inline constexpr std::size_t kMaxGeneratedEntries = 40'000;  // also: exclude tests
inline constexpr std::size_t kMaxPolicyBytes = 16u << 20;    // the policy reader's own file bound

struct Problem {
  std::string file;
  std::size_t line = 0;  // 0: the file as a whole
  std::string element;   // e.g. "<TargetObject>"; may be empty
  std::string message;
  std::string to_string() const;
};

// Reads one configuration (its text, `file` names it) into `config`, adding to what is there.
// Returns false, with every problem found, on malformed XML, an unknown element, field or
// condition, or a bound exceeded. Never throws.
bool read_config_text(std::string_view xml, const std::string& file, Config& config,
                      std::vector<Problem>& problems);
// The same from a file (at most kMaxConfigFileBytes).
bool read_config_file(const std::string& path, Config& config, std::vector<Problem>& problems);

struct PolicyImport {
  std::string yaml;  // a SPEC §8/§10 policy: entries with `when`/`unless`, notify bits only
  std::vector<std::string> notes;  // what could not be expressed exactly (the import is partial)
  std::size_t entries = 0;
  bool whole() const { return notes.empty(); }
};

// Turns the configuration into a reporting policy. Returns false (with a problem) only when a
// bound on the generated policy is exceeded.
bool build_policy(const Config& config, PolicyImport& out, std::vector<Problem>& problems);

const char* field_name(Field f);
const char* condition_name(Condition c);

}  // namespace hivewarden::sysmon
