// A Sysmon configuration -> a reporting policy with SPEC §10 conditions. Each include rule becomes
// one entry per group of operations (key operations on the entry, value operations in its value
// list); its filters become `when` (positive) and `unless` (negated) tests, and every exclude rule
// that can apply to the operation joins `unless`. EventType filters are decided here, per
// operation. What the engine cannot express is widened (an include) or dropped (an exclude), so
// the policy reports at least every event Sysmon logs; each such place is a note.
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "hivewarden/sysmon/sysmon_import.hpp"

namespace hivewarden::sysmon {
namespace {

enum Op { kCreateKey, kDeleteKey, kRenameKey, kSetValue, kDeleteValue, kOpCount };
constexpr std::array<const char*, kOpCount> kEventType = {"CreateKey", "DeleteKey", "RenameKey",
                                                          "SetValue", "DeleteValue"};
constexpr std::array<const char*, kOpCount> kRuleName = {"create-key", "delete-key", "rename-key",
                                                         "set-value", "delete-value"};
bool is_value_op(int op) {
  return op == kSetValue || op == kDeleteValue;
}

// ---- Sysmon's string tests (case-insensitive), used for EventType which is known per operation.
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> items;
  std::string item;
  std::istringstream in(value);
  while (std::getline(in, item, ';'))
    if (!item.empty()) items.push_back(item);
  return items;
}
bool starts(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}
bool ends(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
bool holds(Condition c, const std::string& field_text, const std::string& filter_text) {
  const std::string f = lower(field_text), v = lower(filter_text);
  const auto list = split_list(v);
  const auto has = [&](const std::string& x) { return f.find(x) != std::string::npos; };
  switch (c) {
    case Condition::kIs:
      return f == v;
    case Condition::kIsNot:
      return f != v;
    case Condition::kIsAny:
      return std::find(list.begin(), list.end(), f) != list.end();
    case Condition::kContains:
      return has(v);
    case Condition::kContainsAny:
      return std::any_of(list.begin(), list.end(), has);
    case Condition::kContainsAll:
      return std::all_of(list.begin(), list.end(), has);
    case Condition::kExcludes:
      return !has(v);
    case Condition::kExcludesAny:
      return !std::all_of(list.begin(), list.end(), has);
    case Condition::kExcludesAll:
      return !std::any_of(list.begin(), list.end(), has);
    case Condition::kBeginWith:
      return starts(f, v);
    case Condition::kEndWith:
      return ends(f, v);
    case Condition::kNotBeginWith:
      return !starts(f, v);
    case Condition::kNotEndWith:
      return !ends(f, v);
    case Condition::kLessThan:
      return f < v;
    case Condition::kMoreThan:
      return f > v;
    case Condition::kImage:
      return f == v || ends(f, "\\" + v);
  }
  return false;
}

// ---- One filter as a §10 test: `key: values` (a list means any of; `|all` every one).
struct Literal {
  std::string key;
  std::vector<std::string> values;
  bool negated = false;
  bool exact = true;  // false: the test holds for a superset of what Sysmon's filter matches
  bool any_list() const { return values.size() > 1 && !ends(key, "|all"); }
};

std::optional<std::string> policy_field(Field f, std::string& why) {
  switch (f) {
    case Field::kImage:
      return "image";
    case Field::kTargetObject:
      return "target_object";
    case Field::kDetails:
      return "details";
    case Field::kNewName:  // the new key's whole path, as Sysmon writes it
      return "new_target_object";
    case Field::kUser:
      why = "User (the process's account; the engine's user is the key's hive SID)";
      break;
    default:
      why = std::string(field_name(f)) + " (not a field of the engine's operations)";
      break;
  }
  return std::nullopt;
}

bool has_wildcard(const std::vector<std::string>& values) {
  return std::any_of(values.begin(), values.end(), [](const std::string& v) {
    return v.find_first_of("*?") != std::string::npos;
  });
}

std::optional<Literal> translate(const Filter& filter, std::string& why) {
  const std::optional<std::string> field = policy_field(filter.field, why);
  if (!field) return std::nullopt;
  Literal l;
  const std::vector<std::string> one = {filter.value}, list = split_list(filter.value);
  const auto set = [&](const char* modifier, const std::vector<std::string>& values, bool negated) {
    l.key = *field + modifier;
    l.values = values;
    l.negated = negated;
  };
  switch (filter.condition) {
    case Condition::kIs:
      set("", one, false);
      l.exact = !has_wildcard(one);
      break;
    case Condition::kIsNot:
      set("", one, true);
      l.exact = !has_wildcard(one);
      break;
    case Condition::kIsAny:
      set("", list, false);
      l.exact = !has_wildcard(list);
      break;
    case Condition::kContains:
      set("|contains", one, false);
      break;
    case Condition::kContainsAny:
      set("|contains", list, false);
      break;
    case Condition::kContainsAll:
      set("|contains|all", list, false);
      break;
    case Condition::kExcludes:
      set("|contains", one, true);
      break;
    case Condition::kExcludesAny:
      set("|contains|all", list, true);
      break;
    case Condition::kExcludesAll:
      set("|contains", list, true);
      break;
    case Condition::kBeginWith:
      set("|startswith", one, false);
      break;
    case Condition::kEndWith:
      set("|endswith", one, false);
      break;
    case Condition::kNotBeginWith:
      set("|startswith", one, true);
      break;
    case Condition::kNotEndWith:
      set("|endswith", one, true);
      break;
    case Condition::kImage:
      set("", {filter.value, "*\\" + filter.value}, false);
      l.exact = !has_wildcard(one);
      break;
    case Condition::kLessThan:
    case Condition::kMoreThan:
      why = std::string("`") + condition_name(filter.condition) +
            "` (a string order; the engine's lt/gt compare numbers)";
      return std::nullopt;
  }
  if (l.values.empty()) {
    why = "an empty `;` list";
    return std::nullopt;
  }
  return l;
}

// A map of tests that must all hold (a `when` map, or one map of `unless`).
using TestMap = std::vector<std::pair<std::string, std::vector<std::string>>>;

constexpr std::size_t kMaxAlternatives = 64;

// Positive literals -> maps whose union is their conjunction. Two tests on the same key merge
// into `key|all` when neither is an any-of list; otherwise the any-of lists are spread over
// several maps. nullopt: more than kMaxAlternatives maps.
std::optional<std::vector<TestMap>> conjunction_maps(const std::vector<Literal>& literals) {
  std::map<std::string, std::vector<const Literal*>> by_key;
  for (const Literal& l : literals) {
    std::string base = l.key;
    if (ends(base, "|all")) base.resize(base.size() - 4);
    by_key[base].push_back(&l);
  }
  std::vector<TestMap> maps(1);
  for (const auto& [base, group] : by_key) {
    if (group.size() == 1) {
      for (TestMap& m : maps) m.emplace_back(group[0]->key, group[0]->values);
      continue;
    }
    std::vector<std::string> all;           // values every one of which must hold
    std::vector<const Literal*> any_lists;  // spread over maps
    for (const Literal* l : group) {
      if (l->any_list())
        any_lists.push_back(l);
      else
        all.insert(all.end(), l->values.begin(), l->values.end());
    }
    std::vector<TestMap> spread;
    for (const TestMap& m : maps) {
      std::vector<std::vector<std::string>> picks(1, all);
      for (const Literal* l : any_lists) {
        std::vector<std::vector<std::string>> next;
        for (const auto& p : picks)
          for (const std::string& v : l->values) {
            next.push_back(p);
            next.back().push_back(v);
            if (next.size() * maps.size() > kMaxAlternatives) return std::nullopt;
          }
        picks = std::move(next);
      }
      for (const auto& p : picks) {
        spread.push_back(m);
        spread.back().emplace_back(p.size() == 1 ? base : base + "|all", p);
      }
    }
    maps = std::move(spread);
  }
  return maps;
}

// One rule seen from one operation.
struct Conjunct {
  bool never = false;    // an EventType or a missing field keeps it from this operation
  bool dropped = false;  // an exclude the engine cannot express: left out (reports more)
  std::vector<Literal> positive, negative;
};

bool field_present(Field f, int op) {
  if (f == Field::kDetails) return op == kSetValue;
  if (f == Field::kNewName) return op == kRenameKey;
  return true;
}

std::string where(const Rule& r) {
  return r.file + ":" + std::to_string(r.line);
}

Conjunct conjunct_for(const Rule& rule, int op, bool include, std::vector<std::string>& notes) {
  Conjunct c;
  for (const Filter& f : rule.filters) {
    if (f.field == Field::kEventType) {
      if (!holds(f.condition, kEventType[op], f.value)) c.never = true;
      continue;
    }
    if (!field_present(f.field, op)) {
      c.never = true;
      continue;
    }
    std::string why;
    std::optional<Literal> l = translate(f, why);
    const std::string at = rule.file + ":" + std::to_string(f.line) + ": " + field_name(f.field) +
                           " " + condition_name(f.condition);
    if (l && include && !l->negated && !l->exact) {
      notes.push_back(at + ": `*`/`?` in the value are wildcards in the policy: reports more");
    } else if (l && !l->exact) {
      why = "`*`/`?` in the value would be wildcards in the policy";
      l.reset();
    } else if (l && !include && l->negated) {
      why = "a negated filter in an exclude rule";
      l.reset();
    }
    if (!l) {
      notes.push_back(at + ": not expressed, " + why +
                      (include ? ": the filter is left out (reports more)"
                               : ": the exclude rule is left out (reports more)"));
      if (!include) c.dropped = true;
      continue;
    }
    (l->negated ? c.negative : c.positive).push_back(std::move(*l));
  }
  return c;
}

// ---- Emission.
std::string quoted(const std::string& s) {
  const bool plain_bytes = std::all_of(s.begin(), s.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u >= 0x20 && u != 0x7f;
  });
  if (plain_bytes) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
    return out + "'";
  }
  std::string out = "\"";
  static const char* hex = "0123456789abcdef";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string one_line(const std::string& s) {
  std::string out;
  for (char ch : s) out += (static_cast<unsigned char>(ch) < 0x20) ? ' ' : ch;
  return out;
}

std::string flow_map(const TestMap& m) {
  std::string out = "{";
  for (std::size_t i = 0; i < m.size(); ++i) {
    out += (i ? ", " : "") + m[i].first + ": ";
    if (m[i].second.size() == 1) {
      out += quoted(m[i].second[0]);
    } else {
      out += "[";
      for (std::size_t j = 0; j < m[i].second.size(); ++j)
        out += (j ? ", " : "") + quoted(m[i].second[j]);
      out += "]";
    }
  }
  return out + "}";
}

// A key pattern the operation must be under, from a TargetObject `begin with`/`is` test on a
// machine key: the directory part of the prefix (a prefix may end inside a key or value name).
std::string tree_key(const TestMap& when) {
  for (const auto& [key, values] : when) {
    if ((key != "target_object|startswith" && key != "target_object") || values.size() != 1)
      continue;
    const std::string& v = values[0];
    if (lower(v.substr(0, 5)) != "hklm\\" || v.find_first_of("*?{}") != std::string::npos) continue;
    const std::size_t cut = v.rfind('\\');
    const std::string dir = v.substr(0, cut);
    if (dir.find("\\\\") != std::string::npos || cut <= 5) continue;
    const std::string folded = lower(dir);
    const std::size_t ccs = folded.find("currentcontrolset");
    if (ccs != std::string::npos && ccs != std::string("hklm\\system\\").size()) continue;
    return dir + "\\**";
  }
  return "\\REGISTRY\\**";
}

class Emitter {
 public:
  explicit Emitter(std::ostringstream& out) : out_(out) {}

  void unless(const std::string& indent, const std::vector<TestMap>& own,
              const std::vector<std::size_t>& shared, std::size_t list_id,
              const std::vector<TestMap>& table) {
    if (own.empty() && shared.empty()) return;
    if (own.empty()) {
      if (lists_.count(list_id)) {
        out_ << indent << "unless: *x" << list_id << "\n";
        return;
      }
      lists_.insert(list_id);
      out_ << indent << "unless: &x" << list_id << "\n";
    } else {
      out_ << indent << "unless:\n";
    }
    for (const TestMap& m : own) out_ << indent << "  - " << flow_map(m) << "\n";
    for (std::size_t id : shared) {
      if (maps_.count(id)) {
        out_ << indent << "  - *m" << id << "\n";
      } else {
        maps_.insert(id);
        out_ << indent << "  - &m" << id << " " << flow_map(table[id]) << "\n";
      }
    }
  }

 private:
  std::ostringstream& out_;
  std::set<std::size_t> lists_, maps_;
};

void add_notes(std::vector<std::string>& notes, const std::vector<std::string>& more) {
  for (const auto& n : more)
    if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
}

// Exclude rules per operation: ids into one table of maps; an empty conjunct excludes all.
struct Excludes {
  std::vector<TestMap> table;
  std::array<std::vector<std::size_t>, kOpCount> per_op;
  std::array<bool, kOpCount> whole{};
  std::array<std::size_t, kOpCount> list_of{};  // operations with the same list share one
};

bool collect_excludes(const Config& config, Excludes& ex, std::vector<std::string>& notes,
                      std::vector<Problem>& problems) {
  std::map<std::string, std::size_t> table_ids;  // a map's text -> its id: one id per map
  for (const Rule& r : config.exclude) {
    for (int op = 0; op < kOpCount; ++op) {
      std::vector<std::string> rule_notes;
      const Conjunct c = conjunct_for(r, op, false, rule_notes);
      add_notes(notes, rule_notes);
      if (c.never || c.dropped) continue;
      if (c.positive.empty()) {
        ex.whole[op] = true;
        continue;
      }
      const auto maps = conjunction_maps(c.positive);
      if (!maps) {
        add_notes(notes, {where(r) +
                          ": too many alternatives: the exclude rule is left out (reports more)"});
        continue;
      }
      if (ex.table.size() + maps->size() > kMaxGeneratedEntries) {
        problems.push_back(Problem{r.file, r.line, "",
                                   "the exclude rules would make more than " +
                                       std::to_string(kMaxGeneratedEntries) + " tests"});
        return false;
      }
      for (const TestMap& m : *maps) {
        const auto [it, added] = table_ids.emplace(flow_map(m), ex.table.size());
        if (added) ex.table.push_back(m);
        ex.per_op[op].push_back(it->second);
      }
    }
  }
  for (int op = 0; op < kOpCount; ++op) {
    ex.list_of[op] = static_cast<std::size_t>(op);
    for (int earlier = 0; earlier < op; ++earlier)
      if (ex.per_op[earlier] == ex.per_op[op]) {
        ex.list_of[op] = ex.list_of[earlier];
        break;
      }
  }
  return true;
}

// The engine also counts a key's value entries when the key is deleted (SPEC §4.3), but Sysmon
// logs that as the key's DeleteKey, which the rule's value events never are: a value entry's map
// needs a test only value operations have.
TestMap for_value_operations(TestMap map) {
  const bool has = std::any_of(map.begin(), map.end(), [](const auto& test) {
    return test.first.rfind("value", 0) == 0 || test.first.rfind("details", 0) == 0;
  });
  if (!has) map.emplace_back("value", std::vector<std::string>{"*"});
  return map;
}

// One include rule's entries, written to `body`. False (with the problem) past a bound.
bool emit_include(const Rule& r, const Excludes& ex, Emitter& emit, std::ostringstream& body,
                  std::size_t& entries, std::vector<std::string>& notes,
                  std::vector<Problem>& problems) {
  body << "  # " << one_line(where(r)) << (r.name.empty() ? "" : " (" + one_line(r.name) + ")")
       << "\n";
  // Operations grouped by (key or value operation, exclude list).
  std::map<std::pair<bool, std::size_t>, std::vector<int>> groups;
  Conjunct conjunct;
  for (int op = 0; op < kOpCount; ++op) {
    std::vector<std::string> rule_notes;
    Conjunct c = conjunct_for(r, op, true, rule_notes);
    add_notes(notes, rule_notes);
    if (c.never || ex.whole[op]) continue;
    conjunct = std::move(c);  // the same tests for every operation it applies to
    groups[{is_value_op(op), ex.list_of[op]}].push_back(op);
  }
  if (groups.empty()) return true;
  std::optional<std::vector<TestMap>> when =
      conjunct.positive.empty() ? std::vector<TestMap>(1) : conjunction_maps(conjunct.positive);
  if (!when) {
    notes.push_back(where(r) +
                    ": too many alternatives: the rule's filters are left out (reports more)");
    when = std::vector<TestMap>(1);
  }
  std::vector<TestMap> own;
  for (const Literal& l : conjunct.negative) own.push_back(TestMap{{l.key, l.values}});
  const std::string client =
      "sysmon:" + r.file.substr(r.file.find_last_of('/') + 1) + ":" + std::to_string(r.line);
  for (const TestMap& w : *when) {
    for (const auto& [group, ops] : groups) {
      if (++entries > kMaxGeneratedEntries) {
        problems.push_back(Problem{r.file, r.line, "",
                                   "the policy would have more than " +
                                       std::to_string(kMaxGeneratedEntries) + " entries"});
        return false;
      }
      std::string rules;
      for (int op : ops) rules += (rules.empty() ? "" : ", ") + std::string(kRuleName[op]);
      body << "  - key: " << quoted(tree_key(w)) << "\n    client: " << quoted(client) << "\n";
      std::string indent = "    ";
      const TestMap map = group.first ? for_value_operations(w) : w;
      if (group.first) {
        body << "    values:\n      - name: '*'\n        rules: [" << rules << "]\n";
        indent = "        ";
      } else {
        body << "    rules: [" << rules << "]\n";
      }
      if (!map.empty()) body << indent << "when: " << flow_map(map) << "\n";
      emit.unless(indent, own, ex.per_op[ops[0]], group.second, ex.table);
      if (static_cast<std::size_t>(body.tellp()) > kMaxPolicyBytes) {
        problems.push_back(Problem{
            r.file, r.line, "",
            "the policy would be larger than " + std::to_string(kMaxPolicyBytes) + " bytes"});
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool build_policy(const Config& config, PolicyImport& out, std::vector<Problem>& problems) {
  std::vector<std::string>& notes = out.notes;
  Excludes ex;
  if (!collect_excludes(config, ex, notes, problems)) return false;

  std::vector<Rule> includes = config.include;
  if (!config.has_include_element && config.has_exclude_element)
    includes.push_back(Rule{{}, "(exclude-only configuration: every event not excluded)", 0, ""});
  if (!config.has_include_element && !config.has_exclude_element)
    notes.push_back(
        "no RegistryEvent filters: Sysmon logs no registry event, the policy has no entry");

  std::ostringstream body;
  Emitter emit(body);
  std::size_t entries = 0;
  for (const Rule& r : includes) {
    if (!emit_include(r, ex, emit, body, entries, notes, problems)) return false;
  }
  out.entries = entries;
  std::ostringstream head;
  head << "# Generated by `hivewarden import-sysmon`: " << config.include.size() << " include and "
       << config.exclude.size() << " exclude RegistryEvent rules, " << entries << " entries.\n"
       << "# The entries report (notify bits only, never deny) the registry events Sysmon would "
          "log.\n";
  if (notes.empty()) head << "# Imported whole.\n";
  for (const std::string& n : notes) head << "# partial: " << one_line(n) << "\n";
  for (const std::string& n : config.notes) head << "# skipped: " << one_line(n) << "\n";
  head << "version: 1\nmonitored:" << (entries == 0 ? " []\n" : "\n");
  out.yaml = head.str() + (entries == 0 ? std::string() : body.str());
  return true;
}

}  // namespace hivewarden::sysmon
