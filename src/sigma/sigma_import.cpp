#include "hivewarden/sigma/sigma_import.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "condition.hpp"
#include "hivewarden/policy/yaml_prescan.hpp"
#include "hivewarden/util/read_file.hpp"
#include "path_pattern.hpp"

namespace hivewarden::sigma {
namespace {

// One `field|modifiers: values` item of a selection.
struct FieldCondition {
  std::string field;
  std::vector<std::string> modifiers;
  std::vector<std::string> values;  // "" for YAML null
  bool all = false;
};
using SelectionMap = std::vector<FieldCondition>;                 // AND of fields
using Selection = std::vector<SelectionMap>;                     // OR of maps (a list of maps)

constexpr std::size_t kMaxAlternatives = 512;

const std::map<std::string, std::string> kEventTypeOps = {
    {"CreateKey", "create-key"}, {"DeleteKey", "delete-key"}, {"SetValue", "set-value"},
    {"DeleteValue", "delete-value"}, {"RenameKey", "rename-key"}};

std::vector<std::string> ops_of_category(const std::string& category) {
  if (category == "registry_set") return {"set-value"};
  if (category == "registry_add") return {"create-key"};
  if (category == "registry_delete") return {"delete-key", "delete-value"};
  return {"create-key", "delete-key", "set-value", "delete-value", "rename-key"};  // registry_event
}

// Sigma's escapes: `\\` is one backslash, `\*` and `\?` are literal; a lone `\` stays.
std::string unescape(const std::string& v, bool& literal_wildcard) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && (v[i + 1] == '\\' || v[i + 1] == '*' || v[i + 1] == '?')) {
      literal_wildcard = literal_wildcard || v[i + 1] != '\\';
      out += v[++i];
    } else {
      out += v[i];
    }
  }
  return out;
}

bool is_value_op(const std::string& op) { return op == "set-value" || op == "delete-value"; }

SelectionMap read_map(const YAML::Node& map) {
  SelectionMap out;
  for (const auto& item : map) {
    FieldCondition c;
    std::stringstream ss(item.first.Scalar());
    std::string part;
    std::getline(ss, c.field, '|');
    while (std::getline(ss, part, '|')) {
      if (part == "all") {
        c.all = true;
      } else {
        c.modifiers.push_back(part);
      }
    }
    const YAML::Node v = item.second;
    if (v.IsSequence()) {
      for (const auto& x : v) c.values.push_back(x.IsNull() ? "" : x.Scalar());
    } else {
      c.values.push_back(v.IsNull() ? "" : v.Scalar());
    }
    out.push_back(std::move(c));
  }
  return out;
}

class Importer {
 public:
  explicit Importer(RuleImport& rule) : rule_(rule) {}

  void note(const std::string& n) {
    if (std::find(rule_.notes.begin(), rule_.notes.end(), n) == rule_.notes.end()) rule_.notes.push_back(n);
  }

  void run(const YAML::Node& root) {
    rule_.title = root["title"] ? root["title"].as<std::string>("") : "";
    rule_.id = root["id"] ? root["id"].as<std::string>("") : "";
    const YAML::Node logsource = root["logsource"];
    rule_.category = logsource && logsource["category"] ? logsource["category"].as<std::string>("") : "";
    static const std::set<std::string> kCategories = {"registry_set", "registry_add", "registry_delete", "registry_event"};
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
            note("selection '" + name + "': keyword search cannot be expressed");
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
  // One AND-term: its positive selections narrow the path; negated ones are exclusions.
  void translate_term(const Term& term, const std::map<std::string, Selection>& selections) {
    std::vector<SelectionMap> alternatives = {SelectionMap{}};
    for (const Literal& l : term) {
      const Selection& sel = selections.at(l.selection);
      if (l.negated) {
        note("'not " + l.selection + "': exclusions cannot be expressed; the entries also report what it would exclude");
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
    for (const SelectionMap& conditions : alternatives) translate_conjunction(conditions);
  }

  void translate_conjunction(const SelectionMap& conditions) {
    std::vector<std::vector<PathConstraint>> paths = {{}};
    std::vector<std::string> ops = ops_of_category(rule_.category);
    bool path_ok = true;
    for (const FieldCondition& c : conditions) {
      if (c.field == "TargetObject") {
        path_ok = add_path_condition(c, paths) && path_ok;
      } else if (c.field == "EventType" && c.modifiers.empty()) {
        std::vector<std::string> selected;
        for (const std::string& v : c.values) {
          auto it = kEventTypeOps.find(v);
          if (it == kEventTypeOps.end()) {
            note("EventType '" + v + "' is not a registry operation");
          } else if (std::find(ops.begin(), ops.end(), it->second) != ops.end()) {
            selected.push_back(it->second);
          }
        }
        ops = selected;
      } else if (c.field == "Image") {
        note("Image condition cannot be expressed per entry: the entries report for every process");
      } else if (c.field == "Details") {
        note("Details condition cannot be expressed: the entries report whatever data is written");
      } else {
        note(c.field + " condition cannot be expressed: ignored (the entries report more)");
      }
    }
    if (!path_ok) return;
    for (const std::vector<PathConstraint>& constraints : paths) {
      std::vector<Components> patterns;
      std::vector<std::string> notes;
      const bool ok = build_patterns(constraints, patterns, notes);
      for (const std::string& n : notes) note(n);
      if (!ok) continue;
      for (const Components& p : patterns) {
        for (const std::string& op : ops) add_entries(p, op);
      }
    }
  }

  bool add_path_condition(const FieldCondition& c, std::vector<std::vector<PathConstraint>>& paths) {
    Match match = Match::kEquals;
    for (const std::string& m : c.modifiers) {
      if (m == "contains") {
        match = Match::kContains;
      } else if (m == "startswith") {
        match = Match::kStartsWith;
      } else if (m == "endswith") {
        match = Match::kEndsWith;
      } else {
        note("TargetObject|" + m + " cannot be expressed");
        return false;
      }
    }
    std::vector<PathConstraint> items;
    bool literal_wildcard = false;
    for (const std::string& v : c.values) items.push_back({match, unescape(v, literal_wildcard)});
    if (literal_wildcard) note("an escaped `*` or `?` (a literal character) is matched as a wildcard");
    if (c.all || items.size() == 1) {  // AND: every path alternative gets them all
      for (auto& p : paths) p.insert(p.end(), items.begin(), items.end());
      return true;
    }
    std::vector<std::vector<PathConstraint>> next;  // OR: one alternative per value
    for (const auto& p : paths) {
      for (const PathConstraint& item : items) {
        if (next.size() >= kMaxAlternatives) {
          note("too many TargetObject alternatives: some were not imported");
          paths = std::move(next);
          return true;
        }
        auto q = p;
        q.push_back(item);
        next.push_back(std::move(q));
      }
    }
    paths = std::move(next);
    return true;
  }

  // A pattern over key\value becomes (key, value) pairs for value operations.
  void add_entries(const Components& p, const std::string& op) {
    if (!is_value_op(op)) {
      add({join(p), "", {op}, {}});
      return;
    }
    Components key = p;
    if (key.back() == "**") {
      add({join(key), "*", {}, {op}});  // the match ends inside the key
      key.pop_back();
    }
    if (key.size() < 3 || key.back() == "**") return;  // a value sits below a root and a key
    std::string value = key.back();
    if (value == "(Default)") value.clear();  // Sysmon's name for the unnamed default value
    key.pop_back();
    add({join(key), value, {}, {op}});
  }

  void add(ImportedEntry e) {
    for (ImportedEntry& existing : rule_.entries) {
      if (existing.key == e.key && existing.value == e.value) {
        for (const auto& r : e.key_rules) {
          if (std::find(existing.key_rules.begin(), existing.key_rules.end(), r) == existing.key_rules.end()) existing.key_rules.push_back(r);
        }
        for (const auto& r : e.value_rules) {
          if (std::find(existing.value_rules.begin(), existing.value_rules.end(), r) == existing.value_rules.end()) existing.value_rules.push_back(r);
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
  rule.status = rule.entries.empty() ? ImportStatus::kNone : rule.notes.empty() ? ImportStatus::kWhole : ImportStatus::kPartial;
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
    case ImportStatus::kWhole: return "whole";
    case ImportStatus::kPartial: return "partial";
    case ImportStatus::kNone: return "none";
  }
  return "?";
}

namespace {
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}
}  // namespace

std::string render_policy(const std::vector<RuleImport>& rules) {
  std::ostringstream out;
  std::size_t whole = 0, partial = 0, none = 0;
  for (const RuleImport& r : rules) (r.status == ImportStatus::kWhole ? whole : r.status == ImportStatus::kPartial ? partial : none)++;
  out << "# Generated by `hivewarden import-sigma` from " << rules.size() << " Sigma rules: " << whole << " imported whole, "
      << partial << " in part, " << none << " not at all.\n# Entries report (they never deny); see each rule's notes.\n";
  out << "version: 1\nmonitored:\n";
  for (const RuleImport& r : rules) {
    out << "  # " << one_line(r.title) << " (" << r.id << ", " << r.category << "): " << status_name(r.status) << "\n";
    for (const std::string& n : r.notes) out << "  #   not expressed: " << one_line(n) << "\n";
    const std::string client = "sigma:" + (r.id.empty() ? r.file : r.id);
    for (const ImportedEntry& e : r.entries) {
      out << "  - key: " << quoted(e.key) << "\n    client: " << quoted(client) << "\n";
      if (!e.key_rules.empty()) {
        out << "    rules: [";
        for (std::size_t i = 0; i < e.key_rules.size(); ++i) out << (i ? ", " : "") << e.key_rules[i];
        out << "]\n";
      }
      if (!e.value_rules.empty()) {
        out << "    values:\n      - name: " << quoted(e.value) << "\n        rules: [";
        for (std::size_t i = 0; i < e.value_rules.size(); ++i) out << (i ? ", " : "") << e.value_rules[i];
        out << "]\n";
      }
    }
  }
  return out.str();
}

}  // namespace hivewarden::sigma
