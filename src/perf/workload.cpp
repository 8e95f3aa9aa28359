#include "hivewarden/perf/workload.hpp"

#include <strings.h>
#include <zlib.h>

#include <algorithm>

#include <random>
#include <set>
#include <sstream>

#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::perf {
namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, '\\')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

const char* const kVendors[] = {"Microsoft", "Adobe", "Google", "Mozilla", "Oracle",
                                "VMware",    "Intel", "NVIDIA", "Citrix",  "Zoom"};
const char* const kProducts[] = {"Office", "Reader",   "Chrome", "Firefox", "Java",
                                 "Tools",  "Graphics", "Update", "Agent",   "Client"};

std::string random_name(std::mt19937& rng) {
  static const char* const kSyllables[] = {"ka", "ro", "mi", "te", "zu", "la",
                                           "po", "ne", "si", "da", "vo", "qu"};
  std::string s;
  const int n = 2 + static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) s += kSyllables[rng() % 12];
  s[0] = static_cast<char>(s[0] - 32);
  return s;
}

}  // namespace

std::string kernel_root(const std::string& root) {
  if (root == "HKU") return "\\REGISTRY\\USER";
  return "\\REGISTRY\\MACHINE";
}

NamePool load_name_pool(const std::string& reg_path) {
  NamePool pool;
  gzFile f = gzopen(reg_path.c_str(), "rb");  // reads plain files too
  if (f != nullptr) {
    char line[8192];
    while (gzgets(f, line, sizeof line) != nullptr) {
      std::string s(line);
      if (s.size() < 3 || s[0] != '[' || s[1] == '-') continue;
      const std::size_t end = s.find(']');
      if (end == std::string::npos) continue;
      std::vector<std::string> parts = split(s.substr(1, end - 1));
      if (parts.size() < 3) continue;  // HKEY_LOCAL_MACHINE\SYSTEM\...
      parts.erase(parts.begin());
      // Real hives hold keys named CurrentControlSet deeper down (Setup\Upgrade\PnP\...); SPEC §6
      // makes that name an error anywhere but right below SYSTEM, so such keys make no entries.
      if (std::any_of(parts.begin(), parts.end(), [](const std::string& c) {
            return strcasecmp(c.c_str(), "CurrentControlSet") == 0;
          })) {
        continue;
      }
      pool.paths.push_back(std::move(parts));
    }
    gzclose(f);
    pool.source = reg_path;
  }
  if (pool.paths.empty()) {  // no shared data: synthetic names of the same shape
    std::mt19937 rng(99);
    for (int i = 0; i < 40000; ++i) {
      std::vector<std::string> p = {"SYSTEM"};
      const int depth = 2 + static_cast<int>(rng() % 8);
      for (int d = 0; d < depth; ++d) p.push_back(random_name(rng));
      pool.paths.push_back(std::move(p));
    }
    pool.source = "generated names (no " + reg_path + ")";
  }
  return pool;
}

GeneratedPolicy generate_policy(std::size_t entries, const NamePool& names, std::uint32_t seed) {
  GeneratedPolicy out;
  out.source.file = "generated";
  std::mt19937 rng(seed);
  std::set<std::string> seen;
  static const std::uint32_t kKeyRules[] = {0x1, 0x10 | 0x40000, 0x4 | 0x20000, 0x10001, 0x4000};
  static const std::uint32_t kValueRules[] = {0x100, 0x100 | 0x80000, 0x800 | 0x2000,
                                              0x100 | 0x400};
  while (out.patterns.size() < entries) {
    PatternSpec spec;
    const auto shape = static_cast<std::uint32_t>(rng() % 100);
    const auto& real = names.paths[rng() % names.paths.size()];
    if (shape < 55) {  // deep literal: a real key plus a name of our own below it
      spec.components = {"HKLM"};
      spec.components.insert(spec.components.end(), real.begin(), real.end());
      spec.components.push_back(random_name(rng) + std::to_string(rng() % 1000));
    } else if (shape < 70) {  // per user
      spec.components = {"HKU",
                         "*",
                         "Software",
                         kVendors[rng() % 10],
                         kProducts[rng() % 10],
                         random_name(rng) + std::to_string(rng() % 1000)};
    } else if (shape < 80) {  // subtree
      spec.components = {"HKLM", "SOFTWARE", kVendors[rng() % 10],
                         random_name(rng) + std::to_string(rng() % 1000), "**"};
    } else if (shape < 90) {  // value list on a real key
      spec.components = {"HKLM"};
      spec.components.insert(spec.components.end(), real.begin(), real.end());
      spec.value = random_name(rng) + std::to_string(rng() % 100);
    } else if (shape < 95) {  // skip N
      spec.components = {"HKU", "*{2}", "Software", kVendors[rng() % 10],
                         random_name(rng) + std::to_string(rng() % 1000)};
    } else {  // glob
      spec.components = {"HKLM", "SOFTWARE", kVendors[rng() % 10],
                         random_name(rng) + std::to_string(rng() % 1000) + "*"};
    }
    spec.rules = spec.value.empty() ? kKeyRules[rng() % 5] : kValueRules[rng() % 4];
    std::string key;
    for (const auto& c : spec.components) key += (key.empty() ? "" : "\\") + c;
    if (!seen.insert(key + "|" + spec.value).second) continue;
    policy::MonitoredEntry entry;
    entry.key = key;
    entry.client = "client" + std::to_string(rng() % 16);
    if (spec.value.empty()) {
      entry.rules = spec.rules;
    } else {
      policy::ValueRule value;
      value.name = spec.value;
      value.rules = spec.rules;
      entry.values.push_back(std::move(value));
    }
    out.source.monitored.push_back(std::move(entry));
    out.patterns.push_back(std::move(spec));
  }
  return out;
}

namespace {

policy::ConditionTest image_test(std::uint32_t match, const std::string& text) {
  policy::ConditionTest test;
  test.field = blob::kFieldImage;
  test.match = match;
  test.texts = {text};
  return test;
}

policy::ConditionTest dword_test(std::uint64_t number) {
  policy::ConditionTest test;
  test.field = blob::kFieldData;
  test.match = blob::kMatchNumberEqual;
  test.flags = blob::kTestDword;
  test.numbers = {number};
  return test;
}

}  // namespace

policy::Conditions image_conditions() {
  policy::Conditions c;
  c.when = {{image_test(blob::kMatchStartsWith, "C:\\")}};
  c.unless = {{image_test(blob::kMatchEndsWith, "\\MsMpEng.exe")}};
  return c;
}

void add_conditions_elsewhere(GeneratedPolicy& policy, std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    policy::MonitoredEntry entry;
    entry.key = std::string("HKLM\\SOFTWARE\\ConditionedElsewhere\\") + kVendors[rng() % 10] +
                "\\" + random_name(rng) + std::to_string(i);
    entry.client = "client" + std::to_string(rng() % 16);
    if (i % 2 == 0) {  // key rules: image conditions, as Sysmon's process filters
      entry.rules = 0x1 | 0x10000;
      entry.conditions = image_conditions();
    } else {  // a value: deny setting it to 1 unless Defender does it (SPEC §10's example)
      policy::ValueRule value;
      value.name = random_name(rng);
      value.rules = 0x100 | 0x80000;
      value.conditions.when = {{dword_test(1)}};
      value.conditions.unless = {{image_test(blob::kMatchEndsWith, "\\MsMpEng.exe")}};
      entry.values.push_back(std::move(value));
    }
    policy.source.monitored.push_back(std::move(entry));
  }
}

void condition_every_entry(GeneratedPolicy& policy) {
  for (policy::MonitoredEntry& entry : policy.source.monitored) {
    if (entry.rules != 0) entry.conditions = image_conditions();
    for (policy::ValueRule& value : entry.values) value.conditions = image_conditions();
  }
}

std::vector<std::u16string> generate_paths(const GeneratedPolicy& policy, const NamePool& names,
                                           std::size_t count, double match_share,
                                           std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::u16string> out;
  out.reserve(count);
  std::uniform_real_distribution<double> coin(0, 1);
  for (std::size_t i = 0; i < count; ++i) {
    std::string path;
    if (coin(rng) < match_share && !policy.patterns.empty()) {
      const PatternSpec& spec = policy.patterns[rng() % policy.patterns.size()];
      path = kernel_root(spec.components[0]);
      for (std::size_t c = 1; c < spec.components.size(); ++c) {
        const std::string& part = spec.components[c];
        if (part == "*") {
          path += "\\S-1-5-21-" + std::to_string(rng() % 100000) + "-1001";
        } else if (part == "*{2}") {
          path += "\\S-1-5-21-" + std::to_string(rng() % 100000) + "\\Classes";
        } else if (part == "**") {
          for (auto k = static_cast<std::uint32_t>(rng() % 3); k > 0; --k)
            path += "\\Sub" + std::to_string(k);
        } else if (part.back() == '*') {
          path += "\\" + part.substr(0, part.size() - 1) + "X";
        } else {
          path += "\\" + part;
        }
      }
    } else {  // a real key (random case), a tail the policy never names
      const auto& real = names.paths[rng() % names.paths.size()];
      path = "\\REGISTRY\\MACHINE";
      for (const auto& c : real) path += "\\" + c;
      if (rng() % 2) path += "\\Tail" + std::to_string(rng() % 1000);
    }
    out.push_back(*utf8_to_utf16(path));
  }
  return out;
}

}  // namespace hivewarden::perf
