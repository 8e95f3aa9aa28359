// A policy as written (SPEC §8), after parsing and checking, before compiling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hivewarden/core/rules.hpp"

namespace hivewarden::policy {

// Where something came from in the policy file (1-based; 0 when unknown).
struct SourceLocation {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// One test of a condition (SPEC §10): a field, how it is compared (blob::ConditionMatch and
// blob::kTest* flags), and the values it is compared with (texts as written, or numbers).
struct ConditionTest {
  std::uint32_t field = 0;
  std::uint32_t match = 0;
  std::uint32_t flags = 0;
  std::vector<std::string> texts;
  std::vector<std::uint64_t> numbers;
  SourceLocation where;
};
using ConditionGroup = std::vector<ConditionTest>;  // every test holds (AND)

// `when`: one group holds (or there is none); `unless`: no group holds.
struct Conditions {
  std::vector<ConditionGroup> when;
  std::vector<ConditionGroup> unless;
  bool empty() const { return when.empty() && unless.empty(); }
};

struct ValueRule {
  std::string name;  // value name or glob; "" is the default value
  Rules rules = 0;
  SourceLocation where;
  Conditions conditions;  // last: aggregate initialisers written before conditions still compile
};

struct MonitoredEntry {
  std::string key;  // key pattern (SPEC §6)
  std::string client;
  Rules rules = 0;  // key operations
  std::vector<ValueRule> values;
  SourceLocation where;
  Conditions conditions;  // on the key operations
};

struct ProcessEntry {
  std::string image;  // glob
  ProcessFlags flags = 0;
  ProcessRules rules = 0;
  SourceLocation where;
};

struct HardenedKey {
  std::string key;
  SourceLocation where;
};

struct PolicySource {
  std::string file;  // for messages
  bool legacy_hardening = false;
  std::uint32_t control_set = 1;
  std::vector<HardenedKey> hardened_keys;
  std::vector<ProcessEntry> processes;
  std::vector<MonitoredEntry> monitored;
};

// One problem found in a policy: file, line, field and what is wrong.
struct PolicyProblem {
  std::string file;
  SourceLocation where;
  std::string field;  // e.g. "monitored[2].values[0].rules[1]"
  std::string message;

  // "file:line:column: field: message"
  std::string to_string() const;
};

}  // namespace hivewarden::policy
