// parse_policy_yaml: SPEC §8 policy text -> PolicySource, with every problem located.
#include <yaml-cpp/yaml.h>

#include <set>

#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/rules.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/policy/yaml_prescan.hpp"
#include "hivewarden/util/number.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {
namespace {

// Rules that mean something on a key (key operations) and on a value (value operations).
constexpr Rules kKeyRules = rule::kCreateKey | rule::kRenameKey | rule::kDeleteKey |
                            rule::kRestoreKey | rule::kReplaceKey | rule::kCreateKeyDeny |
                            rule::kRenameKeyDeny | rule::kDeleteDeny | rule::kReplaceKeyDeny |
                            rule::kRestoreKeyDeny | rule::kTamperProtection;
constexpr Rules kValueRules = rule::kSetValue | rule::kSetValueCapture | rule::kSetValueDeny |
                              rule::kDeleteValue | rule::kDeleteValueCapture | rule::kDeleteDeny |
                              rule::kTamperProtection;
constexpr Rules kKeyOperationBits = kKeyRules & ~rule::kTamperProtection;
constexpr Rules kValueOperationBits =
    rule::kSetValue | rule::kSetValueDeny | rule::kDeleteValue | rule::kDeleteDeny;

class Loader {
 public:
  Loader(const std::string& file, std::vector<PolicyProblem>& problems)
      : file_(file), problems_(problems) {}

  void problem(const YAML::Node& node, const std::string& field, const std::string& message) {
    if (++reported_ > limits::kMaxReportedProblems) return;
    SourceLocation where;
    if (node.IsDefined() && node.Mark().line >= 0) {
      where = {static_cast<std::uint32_t>(node.Mark().line + 1),
               static_cast<std::uint32_t>(node.Mark().column + 1)};
    }
    problems_.push_back({file_, where, field, message});
  }

  static SourceLocation where(const YAML::Node& node) {
    if (!node.IsDefined() || node.Mark().line < 0) return {};
    return {static_cast<std::uint32_t>(node.Mark().line + 1),
            static_cast<std::uint32_t>(node.Mark().column + 1)};
  }

  // Reports keys of a mapping that are not in `allowed` (typos must not pass silently).
  void check_fields(const YAML::Node& map, const std::string& field,
                    std::initializer_list<const char*> allowed) {
    for (const auto& item : map) {
      const std::string name = item.first.Scalar();
      bool known = false;
      for (const char* a : allowed) known = known || name == a;
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        problem(item.first, field.empty() ? name : field + "." + name,
                "unknown field (expected one of: " + list + ")");
      }
    }
  }

  bool string_field(const YAML::Node& map, const char* name, const std::string& field,
                    std::string& out, bool required) {
    const YAML::Node node = map[name];
    if (!node.IsDefined() || node.IsNull()) {
      if (required) problem(map, field + "." + name, "missing (required)");
      return false;
    }
    if (!node.IsScalar()) {
      problem(node, field + "." + name, "must be a string");
      return false;
    }
    out = node.Scalar();
    return true;
  }

  // Reads a list of names from `table` into a bit set.
  template <std::size_t N>
  std::uint32_t bits_field(const YAML::Node& map, const char* name, const std::string& field,
                           const NamedBit (&table)[N], const char* what) {
    const YAML::Node node = map[name];
    if (!node.IsDefined() || node.IsNull()) return 0;
    const std::string path = field + "." + name;
    if (!node.IsSequence()) {
      problem(node, path,
              std::string("must be a list of ") + what + " names, e.g. [" +
                  std::string(table[0].name) + "]");
      return 0;
    }
    std::uint32_t bits = 0;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      std::uint32_t bit = 0;
      if (!item.IsScalar() || !bit_by_name(table, item.Scalar(), bit)) {
        std::string names;
        for (const NamedBit& nb : table)
          names += std::string(names.empty() ? "" : ", ") + std::string(nb.name);
        problem(item, item_path,
                "unknown " + std::string(what) + " '" + (item.IsScalar() ? item.Scalar() : "?") +
                    "' (known: " + names + ")");
        continue;
      }
      bits |= bit;
    }
    return bits;
  }

  // After the walk: one line for the problems not shown.
  void summarise_unreported() {
    if (reported_ <= limits::kMaxReportedProblems) return;
    problems_.push_back({file_,
                         {},
                         "(policy)",
                         std::to_string(reported_ - limits::kMaxReportedProblems) +
                             " more problems not shown (limit kMaxReportedProblems)"});
  }

  // Entry counts are bounded after alias expansion; false (reported once) past `limit`.
  bool within_limit(const YAML::Node& node, const std::string& field, std::size_t count,
                    std::size_t limit, const char* what, const char* limit_name) {
    if (count < limit) return true;
    problem(node, field,
            std::string("more than ") + std::to_string(limit) + " " + what + " (limit " +
                limit_name + ")");
    return false;
  }

  void top(const YAML::Node& root, PolicySource& out) {
    if (!root.IsMap()) {
      problem(root, "(document)",
              "a policy is a mapping with version, hardened_keys, processes, monitored");
      return;
    }
    check_fields(
        root, "",
        {"version", "legacy_hardening", "control_set", "hardened_keys", "processes", "monitored"});
    const YAML::Node version = root["version"];
    if (!version.IsDefined()) {
      problem(root, "version", "missing (required; this build reads version 1)");
    } else if (!version.IsScalar() || version.Scalar() != "1") {
      problem(version, "version",
              "unsupported policy version '" + (version.IsScalar() ? version.Scalar() : "?") +
                  "' (this build reads version 1)");
    }
    if (const YAML::Node n = root["legacy_hardening"]; n.IsDefined() && !n.IsNull()) {
      bool value = false;
      if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
        problem(n, "legacy_hardening", "must be true or false");
      }
      out.legacy_hardening = value;
    }
    if (const YAML::Node n = root["control_set"]; n.IsDefined() && !n.IsNull()) {
      int value = 0;
      // Decimal digits only: yaml-cpp would also read 0x2 as 2 (and refuses 0o2).
      if (!n.IsScalar() || !decimal(n.Scalar(), value) || value < 1 || value > 999) {
        problem(n, "control_set",
                "must be a number from 1 to 999 (CurrentControlSet = ControlSet00N)");
      } else {
        out.control_set = static_cast<std::uint32_t>(value);
      }
    }
    hardened(root["hardened_keys"], out);
    processes(root["processes"], out);
    monitored(root["monitored"], out);
  }

  // A number written in decimal digits (at most 9 of them), nothing else.
  static bool decimal(const std::string& text, int& value) {
    NumberForm form;
    form.base = NumberBase::kDecimal;
    form.max_digits = 9;
    const std::optional<std::uint64_t> n = parse_unsigned(text, form);
    if (n) value = static_cast<int>(*n);  // 9 digits fit an int
    return n.has_value();
  }

  bool sequence(const YAML::Node& node, const std::string& field) {
    if (!node.IsDefined() || node.IsNull()) return false;
    if (!node.IsSequence()) {
      problem(node, field, "must be a list");
      return false;
    }
    return true;
  }

  void hardened(const YAML::Node& list, PolicySource& out) {
    if (!sequence(list, "hardened_keys")) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string field = "hardened_keys[" + std::to_string(i) + "]";
      if (!within_limit(item, field, i, limits::kMaxHardenedKeys, "hardened keys",
                        "kMaxHardenedKeys"))
        return;
      if (!item.IsScalar()) {
        problem(item, field, "must be a key path string");
        continue;
      }
      KeyPattern pattern;
      std::string error;
      if (!parse_literal_key(item.Scalar(), out.control_set, pattern, error)) {
        problem(item, field, error);
        continue;
      }
      out.hardened_keys.push_back({item.Scalar(), where(item)});
    }
  }

  void processes(const YAML::Node& list, PolicySource& out) {
    if (!sequence(list, "processes")) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string field = "processes[" + std::to_string(i) + "]";
      if (!within_limit(item, field, i, limits::kMaxProcesses, "processes", "kMaxProcesses"))
        return;
      if (!item.IsMap()) {
        problem(item, field, "must be a mapping with image, flags, rules");
        continue;
      }
      check_fields(item, field, {"image", "flags", "rules"});
      ProcessEntry entry;
      entry.where = where(item);
      if (string_field(item, "image", field, entry.image, true)) {
        if (entry.image.empty()) problem(item["image"], field + ".image", "empty image pattern");
        if (entry.image.find('\0') != std::string::npos)
          problem(item["image"], field + ".image", "NUL in image pattern");
        if (min_match_units(entry.image) > limits::kMaxImagePathUnits)
          problem(item["image"], field + ".image",
                  "can never match: longer than 32,767 UTF-16 units (the longest Windows path)");
      }
      entry.flags = bits_field(item, "flags", field, kProcessFlagNames, "process flag");
      entry.rules = bits_field(item, "rules", field, kProcessRuleNames, "process rule");
      if (entry.flags == 0 && entry.rules == 0)
        problem(item, field, "gives the process neither flags nor rules");
      out.processes.push_back(std::move(entry));
    }
  }

  void monitored(const YAML::Node& list, PolicySource& out) {
    if (!sequence(list, "monitored")) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string field = "monitored[" + std::to_string(i) + "]";
      if (!within_limit(item, field, i, limits::kMaxMonitoredEntries, "monitored entries",
                        "kMaxMonitoredEntries"))
        return;
      if (!item.IsMap()) {
        problem(item, field, "must be a mapping with key, client, rules, values");
        continue;
      }
      check_fields(item, field, {"key", "client", "rules", "values"});
      MonitoredEntry entry;
      entry.where = where(item);
      if (string_field(item, "key", field, entry.key, true)) {
        KeyPattern pattern;
        std::string error;
        // The pattern parser also refuses a key deeper or longer than the registry allows.
        if (!parse_key_pattern(entry.key, out.control_set, pattern, error))
          problem(item["key"], field + ".key", error);
      }
      if (const YAML::Node client = item["client"]; client.IsDefined() && client.IsNull()) {
        // `client: ~` or `client:` with nothing: say so rather than take the default silently.
        problem(client, field + ".client",
                "empty client name (leave `client` out for the client `default`)");
        entry.client = "default";  // reported once
      } else if (!string_field(item, "client", field, entry.client, false)) {
        entry.client = "default";
      }
      if (entry.client.empty()) problem(item["client"], field + ".client", "empty client name");
      entry.rules = bits_field(item, "rules", field, kRuleNames, "rule");
      check_rule_kinds(item["rules"], field + ".rules", entry.rules, kKeyRules, kKeyOperationBits,
                       "a value rule: put it under `values`", "key operations");
      values(item["values"], field + ".values", entry);
      if (entry.rules == 0 && entry.values.empty())
        problem(item, field, "has no rules and no values: it matches nothing");
      out.monitored.push_back(std::move(entry));
    }
  }

  void values(const YAML::Node& list, const std::string& field, MonitoredEntry& entry) {
    if (!sequence(list, field)) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string vfield = field + "[" + std::to_string(i) + "]";
      if (!within_limit(item, vfield, value_rules_, limits::kMaxValueRules,
                        "value rules in all monitored entries", "kMaxValueRules"))
        return;
      ++value_rules_;
      if (!item.IsMap()) {
        problem(item, vfield, "must be a mapping with name and rules");
        continue;
      }
      check_fields(item, vfield, {"name", "rules"});
      ValueRule value;
      value.where = where(item);
      string_field(item, "name", vfield, value.name, true);
      if (min_match_units(value.name) > limits::kMaxValueNameUnits)
        problem(item["name"], vfield + ".name",
                "can never match: longer than 16,383 UTF-16 units (the registry's limit for a "
                "value name)");
      if (value.name.find("**") != std::string::npos)
        problem(item["name"], vfield + ".name", "`**` has no meaning in a value name (use `*`)");
      value.rules = bits_field(item, "rules", vfield, kRuleNames, "rule");
      check_rule_kinds(item["rules"], vfield + ".rules", value.rules, kValueRules,
                       kValueOperationBits, "a key rule: put it on the entry, not under `values`",
                       "value operations");
      entry.values.push_back(std::move(value));
    }
  }

  // At most the fewest UTF-16 units a name matching this pattern has: its text without the `*`s
  // (a `?` stands for one unit). Past Windows' limit the pattern can never match. (Key paths are
  // counted by the key pattern parser, in their kernel form.)
  static std::size_t min_match_units(const std::string& pattern) {
    const auto units = utf8_to_utf16(pattern);
    if (!units) return 0;  // the prescan refused text that is not UTF-8
    std::size_t count = 0;
    for (char16_t c : *units) count += c != u'*';
    return count;
  }

  // A rule that can never fire where it is written is an error, not a silent no-op.
  void check_rule_kinds(const YAML::Node& node, const std::string& field, Rules rules,
                        Rules allowed, Rules operations, const char* misplaced, const char* what) {
    if (!node.IsDefined() || rules == 0) return;
    for (const NamedBit& nb : kRuleNames) {
      if ((rules & nb.bit) && !(allowed & nb.bit))
        problem(node, field, std::string(nb.name) + " is " + misplaced);
    }
    if ((rules & operations) == 0) {
      problem(
          node, field,
          std::string("names no ") + what +
              ": rules like capture or tamper-protection only apply to an operation that matches");
    }
  }

 private:
  const std::string& file_;
  std::vector<PolicyProblem>& problems_;
  std::size_t reported_ = 0;
  std::size_t value_rules_ = 0;
};

}  // namespace

bool parse_policy_yaml(std::string_view yaml, const std::string& file_name, PolicySource& out,
                       std::vector<PolicyProblem>& problems) {
  const std::size_t before = problems.size();
  out = PolicySource{};
  out.file = file_name;
  PolicyProblem refused;
  if (!prescan_policy_yaml(yaml, file_name, refused)) {
    problems.push_back(std::move(refused));
    return false;
  }
  Loader loader(file_name, problems);
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    loader.top(root, out);
    loader.summarise_unreported();
  } catch (const YAML::Exception& e) {
    SourceLocation where;
    if (e.mark.line >= 0)
      where = {static_cast<std::uint32_t>(e.mark.line + 1),
               static_cast<std::uint32_t>(e.mark.column + 1)};
    problems.push_back({file_name, where, "(yaml)", e.msg});
  }
  return problems.size() == before;
}

std::string PolicyProblem::to_string() const {
  std::string s = file;
  if (where.line > 0) s += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  return s + ": " + field + ": " + message;
}

}  // namespace hivewarden::policy
