// dump_policy: a validated blob rendered as readable text, entry by entry.
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "hivewarden/core/condition.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_view.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/bit_names.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/reg_types.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::policy {

std::string pattern_edge_text(const PolicyView& view, const blob::PatternEdge& edge) {
  switch (edge.kind) {
    case blob::kAnyOne:
      return "*";
    case blob::kAnyN:
      return "*{" + std::to_string(edge.count) + "}";
    case blob::kAnyDeep:
      return "**";
    default:
      return utf16_to_utf8(view.str(edge.folded));
  }
}

namespace {

std::string modifiers_text(const blob::ConditionTest& test) {
  std::string m;
  if (test.flags & blob::kTestDword) m += "|dword";
  if (test.flags & blob::kTestQword) m += "|qword";
  switch (test.match) {
    case blob::kMatchContains:
      m += "|contains";
      break;
    case blob::kMatchStartsWith:
      m += "|startswith";
      break;
    case blob::kMatchEndsWith:
      m += "|endswith";
      break;
    case blob::kMatchLess:
      m += "|lt";
      break;
    case blob::kMatchGreater:
      m += "|gt";
      break;
    case blob::kMatchType:
      m += "|type";
      break;
    default:
      break;
  }
  if (test.flags & blob::kTestAll) m += "|all";
  return m;
}

std::string operand_text(const PolicyView& view, const blob::ConditionTest& test,
                         const blob::ConditionOperand& operand) {
  if (test.match == blob::kMatchType)
    return reg_type_name(static_cast<std::uint32_t>(operand.number));
  if (test.match >= blob::kMatchNumberEqual) {
    char n[32];
    std::snprintf(n, sizeof n, "0x%llx", static_cast<unsigned long long>(operand.number));
    return n;
  }
  return "'" + utf16_to_utf8(view.str(operand.text)) + "'";
}

std::string groups_text(const PolicyView& view, blob::Range groups) {
  std::string out;
  for (const blob::Range& group : view.condition_groups(groups))
    out += std::string(out.empty() ? "" : " or ") + "(" + condition_group_text(view, group) + ")";
  return out;
}

}  // namespace

std::string condition_test_text(const PolicyView& view, const blob::ConditionTest& test) {
  std::string out = condition_field_name(test.field) + modifiers_text(test) + " ";
  const auto operands = view.condition_operands(test.operands);
  if (operands.size > 1) out += "[";
  for (std::uint32_t i = 0; i < operands.size; ++i)
    out += (i > 0 ? ", " : "") + operand_text(view, test, operands[i]);
  if (operands.size > 1) out += "]";
  return out;
}

std::string condition_group_text(const PolicyView& view, blob::Range group) {
  std::string out;
  for (const blob::ConditionTest& test : view.condition_tests(group))
    out += (out.empty() ? "" : " and ") + condition_test_text(view, test);
  return out;
}

std::string entry_conditions_text(const PolicyView& view, const blob::Entry& entry) {
  std::string out;
  if (entry.when.count > 0) out += "when " + groups_text(view, entry.when);
  if (entry.unless.count > 0)
    out += std::string(out.empty() ? "" : " ") + "unless " + groups_text(view, entry.unless);
  return out;
}

namespace {

class Dumper {
 public:
  Dumper(const PolicyView& view, std::string& out) : view_(view), out_(out) {}

  void node(std::uint32_t index, const std::string& path) {
    const auto key_clients = view_.node_key_clients(index);
    const auto values = view_.node_values(index);
    if (key_clients.size > 0 || values.size > 0) {
      out_ += "  key " + (path.empty() ? std::string("\\") : path) + "\n";
      for (const blob::ClientRule& c : key_clients) client_line("    ", c);
      for (const blob::ValuePattern& v : values) {
        out_ += "    value '" + utf16_to_utf8(view_.str(v.folded)) + "'" +
                (v.is_glob ? " (glob)" : "") + "\n";
        for (const blob::ClientRule& c : view_.value_clients(v.clients)) client_line("      ", c);
      }
    }
    for (const std::uint32_t e : literal_edges_in_name_order(index))
      node(view_.literal_edge(e).child, path + "\\" + utf16_to_utf8(view_.edge_display(e)));
    for (const blob::PatternEdge& e : view_.pattern_edges(index))
      node(e.child, path + "\\" + pattern_edge_text(view_, e));
  }

 private:
  // The node's literal edges in the order of format 4 (full hash, then folded name), which the
  // blob no longer keeps (wide nodes are in table order), so that dumps stay comparable.
  std::vector<std::uint32_t> literal_edges_in_name_order(std::uint32_t n) const {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed;
    const std::uint32_t first = view_.literal_first(n);
    for (std::uint32_t i = 0; i < view_.literal_edges(n).size; ++i) {
      const std::uint32_t e = first + i;
      keyed.push_back({component_hash(view_.edge_name(view_.literal_edge(e))), e});
    }
    std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return view_.edge_name(view_.literal_edge(a.second)) <
             view_.edge_name(view_.literal_edge(b.second));
    });
    std::vector<std::uint32_t> order;
    for (const auto& k : keyed) order.push_back(k.second);
    return order;
  }

  void client_line(const char* indent, const blob::ClientRule& c) {
    const blob::Client& client = view_.clients()[c.client];
    const blob::Entry& entry = view_.entries()[c.entry];
    out_ += std::string(indent) + "client " + utf16_to_utf8(view_.str(client.name)) + " [" +
            hex_bytes(client.hash, sizeof client.hash) + "] rules " + rule_names(c.rules);
    char hex[16];
    std::snprintf(hex, sizeof hex, " (0x%06x)", c.rules);
    out_ += hex;
    if (entry.line > 0) out_ += " line " + std::to_string(entry.line);
    out_ += "\n";
    if (has_conditions(entry))
      out_ += std::string(indent) + "  " + entry_conditions_text(view_, entry) + "\n";
  }

  const PolicyView& view_;
  std::string& out_;
};

}  // namespace

std::string dump_policy(const void* data, std::uint64_t size) {
  PolicyView view;
  PolicyError error;
  if (!validate_policy(data, size, view, error))
    return std::string("invalid policy: ") + error.what + "\n";
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line,
                "hivewarden policy, format %u, %llu bytes\n  control set %u, legacy hardening %s\n",
                view.header().version, static_cast<unsigned long long>(size), view.control_set(),
                view.legacy_hardening() ? "on" : "off");
  out += line;
  std::snprintf(line, sizeof line, " (0x%06x)\n", view.rule_union());
  out += "  rule union " + rule_names(view.rule_union()) + line;
  std::snprintf(line, sizeof line, "  %u entries, %u clients, %u nodes\n", view.entry_count(),
                view.clients().size, view.nodes().size);
  out += line;
  out += "hardened keys (" + std::to_string(view.hardened_keys().size) + "):\n";
  for (const blob::Range& key : view.hardened_keys()) {
    std::string path;
    for (const blob::StrRef& part : view.hardened_parts(key))
      path += "\\" + utf16_to_utf8(view.str(part));
    out += "  " + path + "\n";
  }
  out += "processes (" + std::to_string(view.processes().size) + ", first match wins):\n";
  for (const blob::ProcessRule& p : view.processes()) {
    out += "  " + utf16_to_utf8(view.str(p.display)) + "  flags " + process_flag_names(p.flags) +
           "  rules " + process_rule_names(p.rules) + "\n";
  }
  out += "monitored:\n";
  Dumper(view, out).node(0, "");
  return out;
}

}  // namespace hivewarden::policy
