// parse_policy_yaml: SPEC §8 policy text -> PolicySource, with every problem located.
#include <yaml-cpp/yaml.h>

#include <set>

#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/core/rules.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/policy/key_pattern.hpp"
#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/policy/yaml_prescan.hpp"
#include "hivewarden/util/number.hpp"
#include "hivewarden/util/reg_types.hpp"
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

// `field|modifier|...` of a condition test (SPEC §10) into its field, match and flags; false with
// `error` saying what is wrong.
bool condition_field(const std::string& name, std::uint32_t& field) {
  for (std::uint32_t f = blob::kFieldImage; f <= blob::kFieldLast; ++f) {
    if (name == condition_field_name(f)) {
      field = f;
      return true;
    }
  }
  return false;
}

struct Modifiers {
  std::string compare;  // contains, startswith, endswith, lt, gt, or empty
  std::string width;    // dword, qword, type, or empty
  bool all = false;
};

bool read_modifiers(std::string_view rest, Modifiers& m, std::string& error) {
  while (!rest.empty()) {
    const std::size_t bar = rest.find('|');
    const std::string mod(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    if (mod == "re") {
      error =
          "regular expressions (`re`) are not supported: they cannot be bounded in a kernel "
          "callback (use contains, startswith, endswith or wildcards)";
      return false;
    }
    if (mod == "all") {
      m.all = true;
    } else if (mod == "contains" || mod == "startswith" || mod == "endswith" || mod == "lt" ||
               mod == "gt") {
      if (!m.compare.empty()) {
        error = "two comparisons (`" + m.compare + "` and `" + mod + "`): name one";
        return false;
      }
      m.compare = mod;
    } else if (mod == "dword" || mod == "qword" || mod == "type") {
      if (!m.width.empty()) {
        error = "`" + m.width + "` and `" + mod + "` together: name one";
        return false;
      }
      m.width = mod;
    } else {
      error =
          "unknown modifier '" + mod +
          "' (known: contains, startswith, endswith, all, lt, gt; for data: dword, qword, type)";
      return false;
    }
  }
  return true;
}

bool match_of(std::uint32_t field, const Modifiers& m, ConditionTest& test, std::string& error) {
  const bool numeric_field = field == blob::kFieldData || field == blob::kFieldDetails;
  if (!m.width.empty() && field != blob::kFieldData) {
    error = "`" + m.width + "` applies to `data` only";
    return false;
  }
  if ((m.compare == "lt" || m.compare == "gt") && !numeric_field) {
    error = "`" + m.compare + "` compares numbers: only `data` and `details` have one";
    return false;
  }
  if (m.width == "type") {
    if (!m.compare.empty()) {
      error = "`type` compares the value type's name: no `" + m.compare + "` with it";
      return false;
    }
    test.match = blob::kMatchType;
  } else if (!m.width.empty()) {
    if (!m.compare.empty() && m.compare != "lt" && m.compare != "gt") {
      error = "`" + m.width + "` compares numbers: `" + m.compare + "` does not go with it";
      return false;
    }
    test.flags |= m.width == "dword" ? blob::kTestDword : blob::kTestQword;
    test.match = m.compare == "lt"   ? blob::kMatchLess
                 : m.compare == "gt" ? blob::kMatchGreater
                                     : blob::kMatchNumberEqual;
  } else {
    test.match = m.compare == "contains"     ? blob::kMatchContains
                 : m.compare == "startswith" ? blob::kMatchStartsWith
                 : m.compare == "endswith"   ? blob::kMatchEndsWith
                 : m.compare == "lt"         ? blob::kMatchLess
                 : m.compare == "gt"         ? blob::kMatchGreater
                                             : blob::kMatchEqual;
  }
  if (m.all) test.flags |= blob::kTestAll;
  return true;
}

bool condition_spec(const std::string& spec, ConditionTest& test, std::string& error) {
  const std::size_t bar = spec.find('|');
  const std::string name = spec.substr(0, bar);
  if (!condition_field(name, test.field)) {
    error = "unknown field '" + name + "' (known:";
    for (std::uint32_t f = blob::kFieldImage; f <= blob::kFieldLast; ++f)
      error += std::string(f == blob::kFieldImage ? " " : ", ") + condition_field_name(f);
    error += ")";
    return false;
  }
  Modifiers m;
  if (bar != std::string::npos && !read_modifiers(std::string_view(spec).substr(bar + 1), m, error))
    return false;
  return match_of(test.field, m, test, error);
}

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
      check_fields(item, field, {"key", "client", "rules", "values", "when", "unless"});
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
      conditions(item, field, entry.conditions);
      if (!entry.conditions.empty() && entry.rules == 0)
        problem(item, field,
                "`when` / `unless` apply to the entry's key operations, and it has no key rules "
                "(put them on its values)");
      key_entry_fields(entry.conditions, field);
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
      check_fields(item, vfield, {"name", "rules", "when", "unless"});
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
      conditions(item, vfield, value.conditions);
      entry.values.push_back(std::move(value));
    }
  }

  // `when` / `unless` of an entry or of a value (SPEC §10).
  void conditions(const YAML::Node& item, const std::string& field, Conditions& out) {
    condition_list(item["when"], field + ".when", out.when);
    condition_list(item["unless"], field + ".unless", out.unless);
  }

  // A mapping (one condition) or a list of them.
  void condition_list(const YAML::Node& node, const std::string& field,
                      std::vector<ConditionGroup>& out) {
    if (!node.IsDefined()) return;
    if (node.IsMap()) return condition_group(node, field, out);
    if (!node.IsSequence()) {
      problem(node, field, "must be a mapping of field tests, or a list of such mappings");
      return;
    }
    if (node.size() == 0) {
      problem(node, field, "empty list (leave it out, or name at least one condition)");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item_field = field + "[" + std::to_string(i) + "]";
      if (!within_limit(node[i], item_field, i, limits::kMaxConditionsPerList,
                        "conditions in one list", "kMaxConditionsPerList"))
        return;
      if (!node[i].IsMap()) {
        problem(node[i], item_field,
                "must be a mapping of field tests, e.g. {image|endswith: '\\reg.exe'}");
        continue;
      }
      condition_group(node[i], item_field, out);
    }
  }

  void condition_group(const YAML::Node& map, const std::string& field,
                       std::vector<ConditionGroup>& out) {
    if (map.size() == 0) {
      problem(map, field, "empty condition (name at least one field test)");
      return;
    }
    if (!within_limit(map, field, map.size() - 1, limits::kMaxTestsPerCondition,
                      "field tests in one condition", "kMaxTestsPerCondition"))
      return;
    ConditionGroup group;
    bool ok = true;
    for (const auto& kv : map) {
      ConditionTest test;
      test.where = where(kv.first);
      ok = condition_test(kv.first, kv.second, field, test) && ok;
      group.push_back(std::move(test));
    }
    if (ok) out.push_back(std::move(group));
  }

  // `field|modifier|...: value or [values]`.
  bool condition_test(const YAML::Node& key, const YAML::Node& values, const std::string& field,
                      ConditionTest& test) {
    const std::string spec = key.IsScalar() ? key.Scalar() : "?";
    const std::string tfield = field + "." + spec;
    std::string error;
    if (!key.IsScalar() || !condition_spec(spec, test, error)) {
      problem(key, tfield, key.IsScalar() ? error : "a field test's name must be a string");
      return false;
    }
    if (values.IsNull() || (values.IsSequence() && values.size() == 0) || values.IsMap()) {
      problem(values, tfield,
              values.IsMap() ? "must be a value or a list of values, not a mapping"
                             : "needs a value or a non-empty list of values");
      return false;
    }
    const std::size_t count = values.IsSequence() ? values.size() : 1;
    if (!within_limit(values, tfield, count - 1, limits::kMaxValuesPerTest,
                      "values in one field test", "kMaxValuesPerTest"))
      return false;
    bool ok = true;
    for (std::size_t i = 0; i < count; ++i) {
      const YAML::Node v = values.IsSequence() ? values[i] : values;
      const std::string vfield =
          values.IsSequence() ? tfield + "[" + std::to_string(i) + "]" : tfield;
      ok = condition_value(v, vfield, test) && ok;
    }
    if (ok && test.match == blob::kMatchEqual) {  // wildcards make it a glob (one for all values)
      for (const std::string& t : test.texts)
        if (t.find_first_of("*?") != std::string::npos) test.match = blob::kMatchGlob;
    }
    return ok && key_in_kernel_form(values, tfield, test);
  }

  // `key` is compared in kernel form: an equal, glob or startswith text that cannot begin a
  // kernel path (`HKLM\...`, as an entry's `key:` may say) would never hold, silently.
  bool key_in_kernel_form(const YAML::Node& values, const std::string& field,
                          const ConditionTest& test) {
    if (test.field != blob::kFieldKey ||
        (test.match != blob::kMatchEqual && test.match != blob::kMatchGlob &&
         test.match != blob::kMatchStartsWith))
      return true;
    for (const std::string& t : test.texts) {
      const bool may_begin_a_path =
          t.empty() || t[0] == '\\' ||
          (test.match == blob::kMatchGlob && (t[0] == '*' || t[0] == '?'));
      if (!may_begin_a_path) {
        problem(values, field,
                "'" + t +
                    "' can never match: `key` is the kernel form (\\REGISTRY\\MACHINE\\..., "
                    "\\REGISTRY\\USER\\...); write it so, or test `target_object` (HKLM\\...)");
        return false;
      }
    }
    return true;
  }

  bool condition_value(const YAML::Node& v, const std::string& field, ConditionTest& test) {
    if (!v.IsScalar()) {
      problem(v, field, "must be a string or a number");
      return false;
    }
    const std::string& text = v.Scalar();
    if (test.match == blob::kMatchType) {
      std::uint32_t type = 0;
      const auto n = parse_unsigned(text, NumberForm{});
      if (!reg_type_by_name(text, type) && !n) {
        problem(v, field, "unknown value type '" + text + "' (e.g. dword, qword, sz, binary)");
        return false;
      }
      test.numbers.push_back(n ? *n : type);
      return true;
    }
    if (test.match >= blob::kMatchNumberEqual) {
      NumberForm form;
      form.bits = (test.flags & blob::kTestDword) != 0 ? 32 : 64;
      const auto n = parse_unsigned(text, form);
      if (!n) {
        problem(v, field,
                "'" + text + "' is not a number (decimal or 0x hex, at most " +
                    std::to_string(form.bits) + " bits)");
        return false;
      }
      test.numbers.push_back(*n);
      return true;
    }
    const auto units = utf8_to_utf16(text);
    if (units && units->size() > limits::kMaxConditionValueUnits) {
      problem(v, field,
              "longer than " + std::to_string(limits::kMaxConditionValueUnits) +
                  " UTF-16 units (limit kMaxConditionValueUnits)");
      return false;
    }
    test.texts.push_back(text);
    return true;
  }

  // A key entry's conditions can only test what a key operation has.
  void key_entry_fields(const Conditions& conditions, const std::string& field) {
    for (const auto* list : {&conditions.when, &conditions.unless}) {
      for (const ConditionGroup& group : *list) {
        for (const ConditionTest& test : group) {
          if (test.field == blob::kFieldValue || test.field == blob::kFieldData ||
              test.field == blob::kFieldDetails) {
            problems_.push_back({file_, test.where, field,
                                 std::string("`") + condition_field_name(test.field) +
                                     "` is a value's: a key operation has none (put the "
                                     "condition on a value)"});
          }
        }
      }
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
