// Policy YAML -> checked source -> compiled blob (.hwp), and the way back to readable text.
#pragma once

#include "hivewarden/core/policy_view.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/policy/policy_source.hpp"

namespace hivewarden::policy {

using Blob = std::vector<unsigned char>;

// Parses and checks policy YAML text. Every problem found is added to `problems` (each naming
// the file, line and field); returns true only when there is none.
bool parse_policy_yaml(std::string_view yaml, const std::string& file_name, PolicySource& out,
                       std::vector<PolicyProblem>& problems);

// Where compile_policy's time went (filled when CompileOptions::phases is set), in seconds.
struct CompilePhases {
  double entries = 0;    // parsing every entry's key and interning it into the tree
  double layout = 0;     // ordering the tree's nodes and edges as the blob holds them
  double write = 0;      // copying the sections into the blob
  double checksum = 0;   // the header's checksum over the blob
  unsigned threads = 0;  // threads that built the tree
};

struct CompileOptions {
  // Threads that build the tree (one per hive-root subtree group); 0: as many as the machine has
  // cores, at most 2. The blob's bytes are the same whatever the number.
  unsigned threads = 0;
  CompilePhases* phases = nullptr;
};

// Compiles a checked policy into a blob that validate_policy accepts. Problems that only show
// when patterns are put together (a key pattern that does not parse) are added to `problems`.
bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems);
bool compile_policy(const PolicySource& source, Blob& out, std::vector<PolicyProblem>& problems,
                    const CompileOptions& options);

// Reads a policy from a file: YAML (compiled in memory) or a compiled .hwp (checked with
// validate_policy), told apart by the blob's magic bytes. On failure `problems` says why.
bool load_policy_file(const std::string& path, Blob& out, std::vector<PolicyProblem>& problems);

// The YAML of the built-in default policy (policies/default.yaml, embedded at build time).
std::string_view builtin_default_policy_yaml();

// Renders a validated blob as readable text: header, hardened keys, processes, and every
// monitored entry with its clients, rules by name and values.
std::string dump_policy(const void* blob, std::uint64_t size);

// A condition test (SPEC §10) as a policy writes it: `image|endswith '\REG.EXE'` (values as
// stored: folded), a group as its tests joined by ` and `, an entry's conditions as
// `when (...) or (...) unless (...)` (empty when it has none).
std::string condition_test_text(const PolicyView& view, const blob::ConditionTest& test);
std::string condition_group_text(const PolicyView& view, blob::Range group);
std::string entry_conditions_text(const PolicyView& view, const blob::Entry& entry);

// A wildcard component of the compiled tree as a policy writes it: `*`, `*{N}`, `**` or the glob.
std::string pattern_edge_text(const PolicyView& view, const blob::PatternEdge& edge);

}  // namespace hivewarden::policy
