#include "hivewarden/sigma/sigma_import.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "condition.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/policy/yaml_prescan.hpp"
#include "hivewarden/util/read_file.hpp"
#include "hivewarden/util/utf.hpp"
#include "path_pattern.hpp"

namespace hivewarden::sigma {
namespace {

// One `field|modifiers: values` item of a selection, as Sigma wrote it.
struct FieldTest {
  std::string field;
  std::vector<std::string> modifiers;
  std::vector<std::optional<std::string>> values;  // nullopt for YAML null
  bool all = false;
  std::string unsupported;  // why the engine cannot test it ("" when it can)
};
using SelectionMap = std::vector<FieldTest>;  // AND of tests
using Selection = std::vector<SelectionMap>;  // OR of maps (a list of maps)

constexpr std::size_t kMaxAlternatives = 512;

const std::vector<std::string> kAllOps = {"create-key", "delete-key", "set-value", "delete-value",
                                          "rename-key"};

std::vector<std::string> ops_of_category(const std::string& category) {
  if (category == "registry_set") return {"set-value"};
  if (category == "registry_add") return {"create-key"};
  if (category == "registry_delete") return {"delete-key", "delete-value"};
  return kAllOps;  // registry_event
}

// Sysmon's EventType and EventID of each operation.
std::string event_type_of(const std::string& op) {
  if (op == "create-key") return "CreateKey";
  if (op == "delete-key") return "DeleteKey";
  if (op == "set-value") return "SetValue";
  if (op == "delete-value") return "DeleteValue";
  return "RenameKey";
}
std::string event_id_of(const std::string& op) {
  return op == "set-value" ? "13" : op == "rename-key" ? "14" : "12";
}

// The engine's field for a Sigma field of Sysmon's registry events.
const std::map<std::string, std::string> kFields = {{"TargetObject", "target_object"},
                                                    {"Details", "details"},
                                                    {"Image", "image"},
                                                    {"NewName", "new_target_object"}};

// Whether a Sysmon registry event of this operation has the field at all (Details only on
// SetValue, NewName only on RenameKey).
bool op_has_field(const std::string& op, const std::string& field) {
  if (field == "Details") return op == "set-value";
  if (field == "NewName") return op == "rename-key";
  return true;
}

bool is_value_op(const std::string& op) {
  return op == "set-value" || op == "delete-value";
}

// Sigma's escapes: `\\` is one backslash, `\*` and `\?` literal wildcard characters (which the
// engine's conditions cannot say); a lone `\` stays.
std::string unescape(const std::string& v, bool& literal_wildcard) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() &&
        (v[i + 1] == '\\' || v[i + 1] == '*' || v[i + 1] == '?')) {
      literal_wildcard = literal_wildcard || v[i + 1] != '\\';
      out += v[++i];
    } else {
      out += v[i];
    }
  }
  return out;
}

std::string why_unsupported(const FieldTest& t) {
  if (t.field == "EventType" || t.field == "EventID") {
    return t.modifiers.empty() ? "" : t.field + "|" + t.modifiers[0] + " is not an operation test";
  }
  if (t.field == "User") {
    return "User (the process's account in Sysmon) has no engine field: the engine's `user` is the "
           "key's hive SID";
  }
  if (!kFields.count(t.field))
    return "field " + t.field + " is not in Sysmon registry events' engine fields";
  for (const std::string& m : t.modifiers) {
    if (m == "contains" || m == "startswith" || m == "endswith" || m == "exists") continue;
    if (m == "re") return t.field + "|re: a regular expression (not bounded in a kernel)";
    if (m == "cased") return t.field + "|cased: case-sensitive comparison";
    return t.field + "|" + m + ": the modifier '" + m + "'";
  }
  if (std::count_if(t.modifiers.begin(), t.modifiers.end(),
                    [](const std::string& m) { return m != "exists"; }) > 1) {
    return t.field + ": several string modifiers";
  }
  return "";
}

FieldTest read_test(const std::string& key, const YAML::Node& v) {
  FieldTest t;
  std::stringstream ss(key);
  std::string part;
  std::getline(ss, t.field, '|');
  while (std::getline(ss, part, '|')) {
    if (part == "all") {
      t.all = true;
    } else {
      t.modifiers.push_back(part);
    }
  }
  bool literal_wildcard = false;
  auto add = [&](const YAML::Node& x) {
    if (x.IsNull()) {
      t.values.push_back(std::nullopt);
    } else if (x.IsScalar()) {
      t.values.push_back(unescape(x.Scalar(), literal_wildcard));
    } else {
      t.unsupported = t.field + ": a value that is not a string";
    }
  };
  if (v.IsSequence()) {
    for (const auto& x : v) add(x);
  } else {
    add(v);
  }
  if (t.values.empty() && t.unsupported.empty())
    t.unsupported = t.field + ": an empty list of values";
  if (t.unsupported.empty()) t.unsupported = why_unsupported(t);
  if (t.unsupported.empty() && literal_wildcard) {
    t.unsupported = t.field + ": an escaped `*` or `?` (a literal character)";
  }
  return t;
}

SelectionMap read_map(const YAML::Node& map) {
  SelectionMap out;
  for (const auto& item : map) out.push_back(read_test(item.first.Scalar(), item.second));
  return out;
}

// Sigma's plain comparison of `pattern` with one of Sysmon's fixed ASCII texts (an EventType, an
// EventID, `(Default)`): without case, `*` and `?` wildcards.
bool sigma_equal(const std::string& pattern, const std::string& ascii_text) {
  auto upper = [](std::u16string s) {
    for (char16_t& c : s) {
      if (c >= u'a' && c <= u'z') c = static_cast<char16_t>(c - u'a' + u'A');
    }
    return s;
  };
  const auto p = utf8_to_utf16(pattern);
  const auto t = utf8_to_utf16(ascii_text);
  return p && t && glob_match(upper(*p), upper(*t));
}

// What a test is, once the operation is known.
enum class Outcome { kHolds, kFails, kDepends };

// A test on one operation: EventType/EventID and the fields the operation lacks decide it here;
// null values are resolved (null holds exactly when the field is absent).
Outcome specialize(FieldTest& t, const std::string& op) {
  if (t.field == "EventType" || t.field == "EventID") {
    const std::string mine = t.field == "EventType" ? event_type_of(op) : event_id_of(op);
    const auto holds = [&](const std::optional<std::string>& v) {
      return v && sigma_equal(*v, mine);
    };
    const bool held = t.all ? std::all_of(t.values.begin(), t.values.end(), holds)
                            : std::any_of(t.values.begin(), t.values.end(), holds);
    return held ? Outcome::kHolds : Outcome::kFails;
  }
  const bool has = op_has_field(op, t.field);
  if (std::find(t.modifiers.begin(), t.modifiers.end(), "exists") != t.modifiers.end()) {
    const bool want =
        t.values.size() == 1 && t.values[0] && (*t.values[0] == "true" || *t.values[0] == "yes");
    return want == has ? Outcome::kHolds : Outcome::kFails;
  }
  const bool has_null = std::find(t.values.begin(), t.values.end(), std::nullopt) != t.values.end();
  if (!has) return has_null && !t.all ? Outcome::kHolds : Outcome::kFails;
  if (has_null) {
    if (t.all) return Outcome::kFails;  // a present field is not null
    t.values.erase(std::remove(t.values.begin(), t.values.end(), std::nullopt), t.values.end());
    if (t.values.empty()) return Outcome::kFails;
  }
  return Outcome::kDepends;
}

Match match_of(const FieldTest& t) {
  for (const std::string& m : t.modifiers) {
    if (m == "contains") return Match::kContains;
    if (m == "startswith") return Match::kStartsWith;
    if (m == "endswith") return Match::kEndsWith;
  }
  return Match::kEquals;
}

std::string condition_key(const FieldTest& t) {
  std::string key = kFields.at(t.field);
  for (const std::string& m : t.modifiers) key += "|" + m;
  if (t.all && t.values.size() > 1) key += "|all";
  return key;
}

ConditionTest condition_of(const FieldTest& t) {
  ConditionTest c{condition_key(t), {}};
  for (const auto& v : t.values) c.values.push_back(*v);
  return c;
}

// Sigma's `*` and `?` are wildcards with every modifier, but the engine's contains, startswith
// and endswith compare literally (SPEC §10): such a test becomes a glob over the whole field
// (`*v*`, `v*`, `*v`), which the engine matches as Sigma does.
FieldTest wildcards_as_glob(FieldTest t) {
  const Match match = match_of(t);
  const bool wild = std::any_of(t.values.begin(), t.values.end(), [](const auto& v) {
    return v && v->find_first_of("*?") != std::string::npos;
  });
  if (match == Match::kEquals || !wild) return t;
  for (auto& v : t.values) {
    if (!v) continue;
    if (match != Match::kStartsWith) v = "*" + *v;
    if (match != Match::kEndsWith) *v += "*";
  }
  std::erase_if(t.modifiers, [](const std::string& m) {
    return m == "contains" || m == "startswith" || m == "endswith";
  });
  return t;
}

// AND of tests as a list of condition maps (any one holds). A YAML map cannot hold one key twice:
// two OR tests on the same field|modifier are multiplied out; single values join an `all` list.
bool to_condition_maps(const std::vector<FieldTest>& sigma_tests, std::vector<ConditionMap>& out) {
  std::vector<FieldTest> tests;
  for (const FieldTest& t : sigma_tests) tests.push_back(wildcards_as_glob(t));
  std::vector<ConditionMap> maps = {ConditionMap{}};
  auto find = [](ConditionMap& m, const std::string& key) -> ConditionTest* {
    for (ConditionTest& c : m) {
      if (c.key == key) return &c;
    }
    return nullptr;
  };
  for (const FieldTest& t : tests) {
    const bool single = t.values.size() == 1 || t.all;
    std::string base = kFields.at(t.field);
    for (const std::string& m : t.modifiers) base += "|" + m;
    std::vector<ConditionMap> next;
    for (ConditionMap& m : maps) {
      if (single) {
        std::vector<std::string> values;
        for (const auto& v : t.values) values.push_back(*v);
        ConditionTest* all = find(m, base + "|all");
        ConditionTest* one = find(m, base);
        if (all == nullptr && one == nullptr) {
          m.push_back({values.size() > 1 ? base + "|all" : base, values});
        } else if (all != nullptr) {
          all->values.insert(all->values.end(), values.begin(), values.end());
        } else if (one->values.size() == 1) {
          values.insert(values.begin(), one->values[0]);
          one->key = base + "|all";
          one->values = values;
        } else {
          m.push_back({base + "|all", values});
        }
        next.push_back(std::move(m));
        continue;
      }
      if (find(m, base) == nullptr) {
        m.push_back(condition_of(t));
        next.push_back(std::move(m));
        continue;
      }
      for (const auto& v : t.values) {  // a second OR test on the same key: one map per value
        if (next.size() >= kMaxAlternatives) return false;
        ConditionMap copy = m;
        ConditionTest* all = find(copy, base + "|all");
        if (all != nullptr) {
          all->values.push_back(*v);
        } else {
          copy.push_back({base + "|all", {*v}});
        }
        next.push_back(std::move(copy));
      }
    }
    maps = std::move(next);
  }
  out = std::move(maps);
  return true;
}

// Sysmon writes the unnamed default value as `(Default)`: a value-name pattern that matches that
// text (without case) also stands for the unnamed value (`(default)`, `(Def*`, `*ault)`, ...).
bool names_the_default_value(const std::string& pattern) {
  return sigma_equal(pattern, "(Default)");
}

// A key pattern over TargetObject (key, or key\value for value operations) as entries.
struct Placement {
  std::string key, value;
};
std::vector<Placement> placements(Components p, bool value_op) {
  if (!value_op) return {{join(p), ""}};
  std::vector<Placement> out;
  if (p.back() == "**") {
    out.push_back({join(p), "*"});  // the match ends inside the key
    p.pop_back();
  }
  // A value sits below a root and a key; HKCR (SOFTWARE\Classes) is a key itself.
  const bool root_is_a_key = p.size() == 2 && p[0] == "HKCR";
  if ((p.size() < 3 && !root_is_a_key) || p.back() == "**") return out;
  const std::string value = p.back();
  p.pop_back();
  out.push_back({join(p), value});  // also a value literally named so: Sysmon writes it the same
  if (value != "*" && names_the_default_value(value)) out.push_back({join(p), ""});
  return out;
}

class Importer {
 public:
  explicit Importer(RuleImport& rule) : rule_(rule) {}

  void note(const std::string& n) {
    if (std::find(rule_.notes.begin(), rule_.notes.end(), n) == rule_.notes.end())
      rule_.notes.push_back(n);
  }

  void run(const YAML::Node& root) {
    rule_.title = root["title"] ? root["title"].as<std::string>("") : "";
    rule_.id = root["id"] ? root["id"].as<std::string>("") : "";
    const YAML::Node logsource = root["logsource"];
    rule_.category =
        logsource && logsource["category"] ? logsource["category"].as<std::string>("") : "";
    static const std::set<std::string> kCategories = {"registry_set", "registry_add",
                                                      "registry_delete", "registry_event"};
    if (!kCategories.count(rule_.category)) {
      note("category '" + rule_.category + "' is not a registry category");
      return;
    }
    const YAML::Node detection = root["detection"];
    if (!detection || !detection.IsMap()) {
      note("no detection section");
      return;
    }
    std::map<std::string, Selection> selections;
    std::vector<std::string> names;
    std::string condition;
    for (const auto& item : detection) {
      const std::string name = item.first.Scalar();
      if (name == "condition") {
        condition = item.second.IsSequence() ? "" : item.second.Scalar();
        if (item.second.IsSequence()) note("a list of conditions is not supported");
        continue;
      }
      if (name == "timeframe") {
        note("timeframe (correlation) cannot be expressed");
        continue;
      }
      Selection sel;
      if (item.second.IsMap()) {
        sel.push_back(read_map(item.second));
      } else if (item.second.IsSequence()) {
        for (const auto& m : item.second) {
          if (m.IsMap()) {
            sel.push_back(read_map(m));
          } else {
            FieldTest keyword;
            keyword.unsupported = "selection '" + name + "': a keyword search (no field)";
            sel.push_back({keyword});
          }
        }
      } else {
        note("selection '" + name + "' is neither a map nor a list");
      }
      selections[name] = std::move(sel);
      names.push_back(name);
    }
    Dnf dnf;
    std::string error;
    if (!condition_to_dnf(condition, names, dnf, error)) {
      note("condition '" + condition + "': " + error);
      return;
    }
    for (const Term& term : dnf) translate_term(term, selections);
  }

 private:
  // One AND-term: its positive selections multiply out into alternatives (each an AND of tests);
  // its negated selections' maps become `unless` maps (not (m1 or m2) = unless [m1, m2]).
  void translate_term(const Term& term, const std::map<std::string, Selection>& selections) {
    std::vector<SelectionMap> alternatives = {SelectionMap{}};
    std::vector<SelectionMap> exclusions;
    for (const Literal& l : term) {
      const Selection& sel = selections.at(l.selection);
      if (l.negated) {
        exclusions.insert(exclusions.end(), sel.begin(), sel.end());
        continue;
      }
      std::vector<SelectionMap> next;
      for (const SelectionMap& a : alternatives) {
        for (const SelectionMap& m : sel) {
          if (next.size() >= kMaxAlternatives) {
            note("too many alternatives: some were not imported");
            break;
          }
          SelectionMap joined = a;
          joined.insert(joined.end(), m.begin(), m.end());
          next.push_back(std::move(joined));
        }
      }
      alternatives = std::move(next);
    }
    for (const SelectionMap& a : alternatives) {
      for (const std::string& op : ops_of_category(rule_.category))
        translate_for_op(a, exclusions, op);
    }
  }

  // The tests of a map that still depend on the event, for this operation. False when the map
  // cannot hold for it. `drop_unsupported`: leave out what the engine cannot test (a wider match)
  // instead of failing the map.
  bool specialize_map(const SelectionMap& map, const std::string& op, std::vector<FieldTest>& out,
                      bool& unsupported) {
    out.clear();
    unsupported = false;
    for (FieldTest t : map) {
      if (!t.unsupported.empty()) {
        unsupported = true;
        note(t.unsupported);
        continue;
      }
      const Outcome o = specialize(t, op);
      if (o == Outcome::kFails) return false;
      if (o == Outcome::kDepends) out.push_back(std::move(t));
    }
    return true;
  }

  // The engine also counts a key's value entries when the key is deleted (SPEC §4.3), but Sysmon
  // logs that as a DeleteKey event of the key, which a value's tests never match: every map of a
  // value entry needs a test that only value operations have (`value`, `details`).
  static void only_value_operations(std::vector<ConditionMap>& when) {
    if (when.empty()) when.emplace_back();
    for (ConditionMap& map : when) {
      const bool has_value_field = std::any_of(map.begin(), map.end(), [](const ConditionTest& t) {
        return t.key.rfind("value", 0) == 0 || t.key.rfind("details", 0) == 0;
      });
      if (!has_value_field) map.push_back({"value", {"*"}});
    }
  }

  void translate_for_op(const SelectionMap& alternative,
                        const std::vector<SelectionMap>& exclusions, const std::string& op) {
    std::vector<FieldTest> tests;
    bool unsupported = false;
    if (!specialize_map(alternative, op, tests, unsupported)) return;  // never for this op
    std::vector<ConditionMap> unless;
    for (const SelectionMap& m : exclusions) {
      std::vector<FieldTest> ex;
      if (!specialize_map(m, op, ex, unsupported)) continue;  // never excludes this op
      if (unsupported) {
        note(
            "an exclusion the engine cannot test is left out: the entries also report what it "
            "would exclude");
        continue;
      }
      if (ex.empty()) return;  // excludes every event of this op
      std::vector<ConditionMap> maps;
      if (!to_condition_maps(ex, maps)) {
        note("an exclusion multiplies out to too many maps: left out");
        continue;
      }
      unless.insert(unless.end(), maps.begin(), maps.end());
    }
    // The tree holds one TargetObject test: the most selective one that can be put on it.
    std::vector<Components> patterns = {{"\\REGISTRY", "**"}};
    int best_rank = 0;
    std::size_t best = tests.size();
    bool best_exact = false;
    for (std::size_t i = 0; i < tests.size(); ++i) {
      const FieldTest& t = tests[i];
      if (t.field != "TargetObject") continue;
      const Match match = match_of(t);
      std::vector<Components> mine;
      bool usable = true, exact = !t.all || t.values.size() == 1;
      for (const auto& v : t.values) {
        const IndexPattern ip = index_pattern(match, *v);
        usable = usable && ip.usable;
        exact = exact && ip.exact;
        mine.push_back(ip.components);
        if (t.all) break;  // every value holds: one is enough for the index
      }
      if (!usable) continue;
      const int rank = (match == Match::kEquals || match == Match::kStartsWith ? 30
                        : match == Match::kEndsWith                            ? 20
                                                                               : 10) +
                       (exact ? 5 : 0);
      if (rank > best_rank) {
        best_rank = rank;
        best = i;
        best_exact = exact;
        patterns = std::move(mine);
      }
    }
    if (best < tests.size() && best_exact)
      tests.erase(tests.begin() + static_cast<std::ptrdiff_t>(best));
    std::vector<ConditionMap> when;
    if (!tests.empty() && !to_condition_maps(tests, when)) {
      note("the tests multiply out to too many maps: some alternatives were not imported");
    }
    if (is_value_op(op)) only_value_operations(when);
    for (const Components& p : patterns) {
      for (const Placement& place : placements(p, is_value_op(op))) {
        ImportedEntry e;
        e.key = place.key;
        e.value = place.value;
        e.value_entry = is_value_op(op);
        (e.value_entry ? e.value_rules : e.key_rules).push_back(op);
        e.when = when;
        e.unless = unless;
        add(std::move(e));
      }
    }
  }

  static bool same_conditions(const std::vector<ConditionMap>& a,
                              const std::vector<ConditionMap>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].size() != b[i].size()) return false;
      for (std::size_t j = 0; j < a[i].size(); ++j) {
        if (a[i][j].key != b[i][j].key || a[i][j].values != b[i][j].values) return false;
      }
    }
    return true;
  }

  void add(ImportedEntry e) {
    for (ImportedEntry& existing : rule_.entries) {
      if (existing.key == e.key && existing.value == e.value &&
          existing.value_entry == e.value_entry && same_conditions(existing.when, e.when) &&
          same_conditions(existing.unless, e.unless)) {
        for (const auto& r : e.key_rules) {
          if (std::find(existing.key_rules.begin(), existing.key_rules.end(), r) ==
              existing.key_rules.end())
            existing.key_rules.push_back(r);
        }
        for (const auto& r : e.value_rules) {
          if (std::find(existing.value_rules.begin(), existing.value_rules.end(), r) ==
              existing.value_rules.end())
            existing.value_rules.push_back(r);
        }
        return;
      }
    }
    rule_.entries.push_back(std::move(e));
  }

  RuleImport& rule_;
};

}  // namespace

RuleImport import_rule_text(const std::string& yaml, const std::string& file) {
  RuleImport rule;
  rule.file = file;
  Importer importer(rule);
  // The policy reader's bounds hold for rules too: size, UTF-8, nesting, alias expansion,
  // duplicate keys (yaml-cpp would keep the first silently), one document.
  if (policy::PolicyProblem problem; !policy::prescan_policy_yaml(yaml, file, problem)) {
    rule.notes.push_back("YAML: " + problem.to_string());
    rule.status = ImportStatus::kNone;
    return rule;
  }
  try {
    importer.run(YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    rule.notes.push_back("YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    rule.notes.push_back(std::string("unreadable rule: ") + e.what());
  }
  rule.status = rule.entries.empty() ? ImportStatus::kNone
                : rule.notes.empty() ? ImportStatus::kWhole
                                     : ImportStatus::kPartial;
  return rule;
}

RuleImport import_rule_file(const std::string& path) {
  std::string text, why;
  if (read_file_bounded(path, kMaxRuleFileBytes, text, why) != ReadFileStatus::kOk) {
    RuleImport rule;
    rule.file = path;
    rule.notes.push_back("not read: " + why);
    return rule;
  }
  return import_rule_text(text, path);
}

const char* status_name(ImportStatus s) {
  switch (s) {
    case ImportStatus::kWhole:
      return "whole";
    case ImportStatus::kPartial:
      return "partial";
    case ImportStatus::kNone:
      return "none";
  }
  return "?";
}

namespace {
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}
std::string rule_list(const std::vector<std::string>& rules) {
  std::string out;
  for (std::size_t i = 0; i < rules.size(); ++i) out += (i ? ", " : "") + rules[i];
  return out;
}

// `when: [{k: 'v', k2: ['a', 'b']}, ...]` in flow style: one line per condition list.
std::string conditions(const char* name, const std::vector<ConditionMap>& maps,
                       const char* indent) {
  if (maps.empty()) return "";
  std::string out = std::string(indent) + name + ": [";
  for (std::size_t i = 0; i < maps.size(); ++i) {
    out += i ? ", {" : "{";
    for (std::size_t j = 0; j < maps[i].size(); ++j) {
      const ConditionTest& t = maps[i][j];
      out += (j ? ", " : "") + t.key + ": ";
      if (t.values.size() == 1) {
        out += quoted(t.values[0]);
        continue;
      }
      out += "[";
      for (std::size_t k = 0; k < t.values.size(); ++k)
        out += (k ? ", " : "") + quoted(t.values[k]);
      out += "]";
    }
    out += "}";
  }
  return out + "]\n";
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}
}  // namespace

std::string render_policy(const std::vector<RuleImport>& rules) {
  std::ostringstream out;
  std::size_t whole = 0, partial = 0, none = 0;
  for (const RuleImport& r : rules)
    (r.status == ImportStatus::kWhole     ? whole
     : r.status == ImportStatus::kPartial ? partial
                                          : none)++;
  out << "# Generated by `hivewarden import-sigma` from " << rules.size()
      << " Sigma rules: " << whole << " imported whole, " << partial << " in part, " << none
      << " not at all.\n# Entries report (they never deny); see each rule's notes.\n";
  out << "version: 1\nmonitored:\n";
  for (const RuleImport& r : rules) {
    out << "  # " << one_line(r.title) << " (" << r.id << ", " << r.category
        << "): " << status_name(r.status) << "\n";
    for (const std::string& n : r.notes) out << "  #   not expressed: " << one_line(n) << "\n";
    const std::string client = "sigma:" + (r.id.empty() ? r.file : r.id);
    for (const ImportedEntry& e : r.entries) {
      out << "  - key: " << quoted(e.key) << "\n    client: " << quoted(client) << "\n";
      if (!e.value_entry) {
        out << "    rules: [" << rule_list(e.key_rules) << "]\n";
        out << conditions("when", e.when, "    ") << conditions("unless", e.unless, "    ");
        continue;
      }
      out << "    values:\n      - name: " << quoted(e.value) << "\n        rules: ["
          << rule_list(e.value_rules) << "]\n";
      out << conditions("when", e.when, "        ") << conditions("unless", e.unless, "        ");
    }
  }
  return out.str();
}

}  // namespace hivewarden::sigma
