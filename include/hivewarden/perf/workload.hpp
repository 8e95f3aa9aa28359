// Policies and operation streams for the benchmarks (issue: performance): realistic shapes, key
// names from a real hive where the shared data set is present, most operations matching nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hivewarden/policy/policy_source.hpp"

namespace hivewarden::perf {

// Key paths to draw names from: each a list of component names below HKLM\SYSTEM.
struct NamePool {
  std::vector<std::vector<std::string>> paths;
  std::string source;  // where they came from
};

// Reads the key names of a .reg export (gzip or plain). Falls back to generated names (and says
// so in `source`) when the file is missing.
NamePool load_name_pool(const std::string& reg_path);

// One entry's key pattern as components after the root, e.g. {"SOFTWARE", "*", "Run"}.
struct PatternSpec {
  std::vector<std::string> components;  // "HKLM" or "HKU" first
  std::string value;                    // value pattern, empty for key rules
  std::uint32_t rules = 0;
};

struct GeneratedPolicy {
  policy::PolicySource source;
  // One per generated entry, the same the source holds (the conditioned entries
  // add_conditions_elsewhere adds are not patterns: no path is generated for them).
  std::vector<PatternSpec> patterns;
};

// A policy of `entries` entries: 55% deep literal paths, 15% per-user (`HKU\*\...`), 10% `**`
// subtrees, 10% value lists, 5% `*{N}` skips, 5% name globs.
GeneratedPolicy generate_policy(std::size_t entries, const NamePool& names, std::uint32_t seed = 1);

// `count` kernel-form key paths: `match_share` of them instantiate an entry's pattern, the rest
// are real key names (with a random tail) that the policy does not name.
std::vector<std::u16string> generate_paths(const GeneratedPolicy& policy, const NamePool& names,
                                           std::size_t count, double match_share,
                                           std::uint32_t seed = 2);

// The process image every benchmark operation carries, so that image conditions are evaluated.
inline constexpr char16_t kBenchImage[] = u"C:\\Windows\\System32\\svchost.exe";

// Conditions on the process image (SPEC §10) that hold for kBenchImage:
// `when: image|startswith 'C:\'`, `unless: image|endswith '\MsMpEng.exe'`.
policy::Conditions image_conditions();

// Adds `count` conditioned entries below HKLM\SOFTWARE\ConditionedElsewhere, a key no generated
// pattern or path names: key entries with image conditions, value entries with conditions on
// image and data. They show what conditions cost when no conditioned entry matched.
void add_conditions_elsewhere(GeneratedPolicy& policy, std::size_t count, std::uint32_t seed = 5);

// Gives every entry (its key rules and each value of its list) image_conditions(): the cost of
// conditions evaluated on every matched entry.
void condition_every_entry(GeneratedPolicy& policy);

// The kernel form of a pattern's literal root ("\REGISTRY\MACHINE" for HKLM...).
std::string kernel_root(const std::string& root);

}  // namespace hivewarden::perf
