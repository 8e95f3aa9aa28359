// Reading Sysmon's configuration XML (pugixml). Only the fixed levels of the format are walked
// (Sysmon / EventFiltering / [RuleGroup] / event / [Rule] / filter), so nesting costs nothing.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include <pugixml.hpp>

#include "hivewarden/sysmon/sysmon_import.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/read_file.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::sysmon {
namespace {

constexpr std::array<std::pair<const char*, Field>, 10> kFields = {{
    {"RuleName", Field::kRuleName},
    {"EventType", Field::kEventType},
    {"UtcTime", Field::kUtcTime},
    {"ProcessGuid", Field::kProcessGuid},
    {"ProcessId", Field::kProcessId},
    {"Image", Field::kImage},
    {"TargetObject", Field::kTargetObject},
    {"Details", Field::kDetails},
    {"NewName", Field::kNewName},
    {"User", Field::kUser},
}};

constexpr std::array<std::pair<const char*, Condition>, 16> kConditions = {{
    {"is", Condition::kIs},
    {"is not", Condition::kIsNot},
    {"is any", Condition::kIsAny},
    {"contains", Condition::kContains},
    {"contains any", Condition::kContainsAny},
    {"contains all", Condition::kContainsAll},
    {"excludes", Condition::kExcludes},
    {"excludes any", Condition::kExcludesAny},
    {"excludes all", Condition::kExcludesAll},
    {"begin with", Condition::kBeginWith},
    {"end with", Condition::kEndWith},
    {"not begin with", Condition::kNotBeginWith},
    {"not end with", Condition::kNotEndWith},
    {"less than", Condition::kLessThan},
    {"more than", Condition::kMoreThan},
    {"image", Condition::kImage},
}};

// The other event elements of Sysmon's schema: skipped with a note, not an error.
constexpr std::array<const char*, 27> kOtherEvents = {"ProcessCreate",
                                                      "FileCreateTime",
                                                      "NetworkConnect",
                                                      "ProcessTerminate",
                                                      "DriverLoad",
                                                      "ImageLoad",
                                                      "CreateRemoteThread",
                                                      "RawAccessRead",
                                                      "ProcessAccess",
                                                      "FileCreate",
                                                      "FileCreateStreamHash",
                                                      "PipeEvent",
                                                      "WmiEvent",
                                                      "DnsQuery",
                                                      "FileDelete",
                                                      "ClipboardChange",
                                                      "ProcessTampering",
                                                      "FileDeleteDetected",
                                                      "FileBlockExecutable",
                                                      "FileBlockShredding",
                                                      "FileExecutableDetected",
                                                      "ServiceConfigurationChange",
                                                      "Error",
                                                      "SysmonConfigStateChange",
                                                      "SysmonServiceStateChange",
                                                      "FileBlockExecutables",
                                                      "PipeCreated"};

// Line numbers from pugixml's byte offsets.
class Lines {
 public:
  explicit Lines(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  std::size_t at(std::ptrdiff_t offset) const {
    if (offset < 0) return 0;
    return static_cast<std::size_t>(std::lower_bound(newlines_.begin(), newlines_.end(),
                                                     static_cast<std::size_t>(offset)) -
                                    newlines_.begin()) +
           1;
  }

 private:
  std::vector<std::size_t> newlines_;
};

// pugixml skips a DOCTYPE and leaves an entity reference it does not know as text, so
// `&name;` would become a filter on the literal text "&name;" (an XML reader refuses it, or
// expands it from the DTD). Sysmon's configuration needs neither: both are errors. Comments,
// CDATA and processing instructions may hold `&` freely. Returns the offset and the reason.
struct Unsupported {
  std::size_t at = std::string_view::npos;
  const char* why = "";
};
Unsupported first_dtd_or_entity(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kSkipped = {
      {{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}}};
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool skipped = false;
    for (const auto& [open, close] : kSkipped) {
      if (text.substr(i, open.size()) != open) continue;
      const std::size_t end = text.find(close, i + open.size());
      if (end == std::string_view::npos) return {};  // unterminated: pugixml says so
      i = end + close.size() - 1;
      skipped = true;
      break;
    }
    if (skipped) continue;
    if (text.substr(i, 2) == "<!") return {i, "a DOCTYPE or DTD declaration is not supported"};
    if (text[i] != '&') continue;
    const std::size_t semi = text.find(';', i);
    const std::string_view name =
        semi == std::string_view::npos ? text.substr(i + 1) : text.substr(i + 1, semi - i - 1);
    static constexpr std::array<std::string_view, 5> kXml = {"lt", "gt", "amp", "apos", "quot"};
    const bool known = std::find(kXml.begin(), kXml.end(), name) != kXml.end();
    const bool numeric =
        name.size() > 1 && name[0] == '#' &&
        (name[1] == 'x'
             ? name.size() > 2 && name.find_first_not_of("0123456789abcdefABCDEF", 2) == name.npos
             : name.find_first_not_of("0123456789", 1) == name.npos);
    if (semi == std::string_view::npos || (!known && !numeric))
      return {i, "an entity reference other than &lt; &gt; &amp; &apos; &quot; or &#N;"};
  }
  return {};
}

class Reader {
 public:
  Reader(std::string_view text, const std::string& file, Config& config,
         std::vector<Problem>& problems)
      : text_(text), lines_(text), file_(file), config_(config), problems_(problems) {}

  bool read() {
    if (text_.size() > kMaxConfigFileBytes) {
      fail(0, "", "larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
      return false;
    }
    if (const std::size_t bad = first_invalid_utf8(text_); bad != std::string_view::npos) {
      fail(lines_.at(static_cast<std::ptrdiff_t>(bad)), "", "not valid UTF-8");
      return false;
    }
    if (const Unsupported u = first_dtd_or_entity(text_); u.at != std::string_view::npos) {
      fail(lines_.at(static_cast<std::ptrdiff_t>(u.at)), "", u.why);
      return false;
    }
    pugi::xml_document doc;
    const pugi::xml_parse_result parsed =
        doc.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      fail(lines_.at(parsed.offset), "", std::string("malformed XML: ") + parsed.description());
      return false;
    }
    const pugi::xml_node root = doc.document_element();
    if (std::strcmp(root.name(), "Sysmon") != 0) {
      fail(line(root), element(root), "the root element must be <Sysmon>");
      return false;
    }
    for (const pugi::xml_node filtering : root.children("EventFiltering"))
      read_event_filtering(filtering);
    return ok_;
  }

 private:
  void read_event_filtering(pugi::xml_node filtering) {
    for (const pugi::xml_node child : filtering.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::strcmp(child.name(), "RuleGroup") == 0) {
        read_rule_group(child);
      } else {
        read_event(child, false);
      }
    }
  }

  void read_rule_group(pugi::xml_node group) {
    const std::string relation = group.attribute("groupRelation").as_string("or");
    if (relation != "and" && relation != "or") {
      fail(line(group), element(group),
           "groupRelation must be \"and\" or \"or\", not \"" + relation + "\"");
      return;
    }
    for (const pugi::xml_node child : group.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::strcmp(child.name(), "RuleGroup") == 0) {
        fail(line(child), element(child), "a RuleGroup cannot hold a RuleGroup");
        continue;
      }
      read_event(child, relation == "and");
    }
  }

  void read_event(pugi::xml_node event, bool and_group) {
    const std::string name = event.name();
    if (name != "RegistryEvent") {
      const bool known = std::any_of(kOtherEvents.begin(), kOtherEvents.end(),
                                     [&](const char* n) { return name == n; });
      if (!known) {
        fail(line(event), element(event), "unknown event type");
      } else if (std::find(skipped_.begin(), skipped_.end(), name) == skipped_.end()) {
        skipped_.push_back(name);
        config_.notes.push_back(file_ + ": <" + name +
                                "> filters are not registry events: skipped");
      }
      return;
    }
    const std::string onmatch = event.attribute("onmatch").as_string();
    if (onmatch != "include" && onmatch != "exclude") {
      fail(line(event), element(event), "onmatch must be \"include\" or \"exclude\"");
      return;
    }
    const bool include = onmatch == "include";
    (include ? config_.has_include_element : config_.has_exclude_element) = true;
    std::vector<Rule>& rules = include ? config_.include : config_.exclude;
    Rule group_rule{{}, file_, line(event), ""};
    for (const pugi::xml_node child : event.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::strcmp(child.name(), "Rule") == 0) {
        read_compound_rule(child, rules);
        continue;
      }
      Filter filter;
      if (!read_filter(child, filter)) continue;
      if (and_group) {
        if (group_rule.filters.size() >= kMaxFiltersPerRule) {
          fail(line(child), element(child),
               "more than " + std::to_string(kMaxFiltersPerRule) + " filters in one rule");
          return;
        }
        group_rule.filters.push_back(std::move(filter));
      } else {
        add_rule(
            rules,
            Rule{{std::move(filter)}, file_, line(child), child.attribute("name").as_string()});
      }
    }
    if (and_group && !group_rule.filters.empty()) add_rule(rules, std::move(group_rule));
  }

  void read_compound_rule(pugi::xml_node rule, std::vector<Rule>& rules) {
    const std::string relation = rule.attribute("groupRelation").as_string("or");
    if (relation != "and" && relation != "or") {
      fail(line(rule), element(rule),
           "groupRelation must be \"and\" or \"or\", not \"" + relation + "\"");
      return;
    }
    Rule compound{{}, file_, line(rule), rule.attribute("name").as_string()};
    for (const pugi::xml_node child : rule.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::strcmp(child.name(), "Rule") == 0) {
        fail(line(child), element(child), "a Rule cannot hold a Rule");
        continue;
      }
      Filter filter;
      if (!read_filter(child, filter)) continue;
      if (relation == "or") {
        add_rule(rules, Rule{{std::move(filter)}, file_, line(child), compound.name});
      } else if (compound.filters.size() >= kMaxFiltersPerRule) {
        fail(line(child), element(child),
             "more than " + std::to_string(kMaxFiltersPerRule) + " filters in one rule");
        return;
      } else {
        compound.filters.push_back(std::move(filter));
      }
    }
    if (relation == "and" && !compound.filters.empty()) add_rule(rules, std::move(compound));
  }

  bool read_filter(pugi::xml_node node, Filter& filter) {
    const auto field = std::find_if(kFields.begin(), kFields.end(), [&](const auto& f) {
      return std::strcmp(f.first, node.name()) == 0;
    });
    if (field == kFields.end()) {
      fail(line(node), element(node), "unknown RegistryEvent field");
      return false;
    }
    const std::string condition = node.attribute("condition").as_string("is");
    const auto known = std::find_if(kConditions.begin(), kConditions.end(),
                                    [&](const auto& c) { return condition == c.first; });
    if (known == kConditions.end()) {
      fail(line(node), element(node), "unknown condition \"" + condition + "\"");
      return false;
    }
    for (const pugi::xml_node child : node.children()) {
      if (child.type() == pugi::node_element) {
        fail(line(child), element(child), "a filter holds text only");
        return false;
      }
    }
    filter.field = field->second;
    filter.condition = known->second;
    filter.value = node.text().as_string();
    filter.line = line(node);
    if (filter.value.size() > kMaxValueBytes) {
      fail(filter.line, element(node),
           "value longer than " + std::to_string(kMaxValueBytes) + " bytes");
      return false;
    }
    const std::size_t items =
        static_cast<std::size_t>(std::count(filter.value.begin(), filter.value.end(), ';')) + 1;
    if (items > kMaxListItems) {
      fail(filter.line, element(node),
           "more than " + std::to_string(kMaxListItems) + " `;`-separated values");
      return false;
    }
    return true;
  }

  void add_rule(std::vector<Rule>& rules, Rule&& rule) {
    if (config_.include.size() + config_.exclude.size() >= kMaxRules) {
      if (!too_many_) fail(rule.line, "", "more than " + std::to_string(kMaxRules) + " rules");
      too_many_ = true;
      return;
    }
    rules.push_back(std::move(rule));
  }

  std::size_t line(pugi::xml_node node) const { return lines_.at(node.offset_debug()); }
  static std::string element(pugi::xml_node node) { return std::string("<") + node.name() + ">"; }

  void fail(std::size_t at, const std::string& elem, const std::string& message) {
    ok_ = false;
    problems_.push_back(Problem{file_, at, elem, message});
  }

  std::string_view text_;
  Lines lines_;
  const std::string& file_;
  Config& config_;
  std::vector<Problem>& problems_;
  std::vector<std::string> skipped_;
  bool ok_ = true;
  bool too_many_ = false;
};

}  // namespace

std::string Problem::to_string() const {
  std::string s = file;
  if (line != 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!element.empty()) s += element + ": ";
  return s + message;
}

namespace {

// A UTF-16LE file (with its BOM: Windows PowerShell 5 writes files so) as UTF-8; false with the
// problem when it cannot be text.
bool utf16le_as_utf8(std::string_view bytes, const std::string& file, std::string& utf8,
                     std::vector<Problem>& problems) {
  if (bytes.size() % 2 != 0) {
    problems.push_back(Problem{file, 1, "", "a UTF-16 file with an odd number of bytes"});
    return false;
  }
  const std::u16string units = read_utf16le(bytes);
  if (const std::size_t bad = first_lone_surrogate(units); bad != std::u16string::npos) {
    const auto line =
        1 + std::count(units.begin(), units.begin() + static_cast<std::ptrdiff_t>(bad), u'\n');
    problems.push_back(Problem{file, static_cast<std::size_t>(line), "",
                               "a lone UTF-16 surrogate: not valid text"});
    return false;
  }
  utf8 = utf16_to_utf8(units);
  return true;
}

}  // namespace

bool read_config_text(std::string_view xml, const std::string& file, Config& config,
                      std::vector<Problem>& problems) {
  std::string utf8;
  if (xml.substr(0, 2) == "\xFF\xFE") {
    if (!utf16le_as_utf8(xml.substr(2), file, utf8, problems)) return false;
    xml = utf8;
  }
  return Reader(xml, file, config, problems).read();
}

bool read_config_file(const std::string& path, Config& config, std::vector<Problem>& problems) {
  std::string bytes, why;
  if (read_file_bounded(path, kMaxConfigFileBytes, bytes, why) != ReadFileStatus::kOk) {
    problems.push_back(Problem{path, 0, "", why});
    return false;
  }
  return read_config_text(bytes, path, config, problems);
}

const char* field_name(Field f) {
  for (const auto& [name, field] : kFields)
    if (field == f) return name;
  return "?";
}

const char* condition_name(Condition c) {
  for (const auto& [name, condition] : kConditions)
    if (condition == c) return name;
  return "?";
}

}  // namespace hivewarden::sysmon
