// The engine and its baselines behind one interface, built from the same generated policy, so
// that one run measures them all on the same paths.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "hivewarden/perf/workload.hpp"

namespace hivewarden::perf {

// The rule bits an entry must share to match: create-key for key operations, set-value for
// value operations (the operations the benchmarks decide).
constexpr std::uint32_t op_flag(bool value_op) {
  return value_op ? 0x100u | 0x80000u : 0x1u | 0x10000u;
}

class KeyMatcher {
 public:
  virtual ~KeyMatcher() = default;
  virtual std::string name() const = 0;
  // The OR of the rules of every entry matching a kernel-form key path; for a value operation
  // (`value_op`) the entries' value lists are matched against `value`.
  virtual std::uint32_t match(std::u16string_view path, std::u16string_view value,
                              bool value_op) = 0;
};

// Canonicalise, fold and hash the path, nothing else: the cost every matcher pays at least.
std::unique_ptr<KeyMatcher> make_floor();
// hivewarden: the compiled policy and the full decision of SPEC §4, every operation from the
// process `image` (what image conditions see), the matcher named `name` in tables.
std::unique_ptr<KeyMatcher> make_hivewarden(const GeneratedPolicy& policy, std::string& error,
                                            std::u16string_view image = kBenchImage,
                                            std::string name = "hivewarden");
// Every entry's pattern matched in turn, as a plain rule list does.
std::unique_ptr<KeyMatcher> make_naive(const GeneratedPolicy& policy);
// The write-up's MP_KEY_ENTRY tree: SubKey / NextKey linked entries in insertion order, names
// compared case-insensitively one component at a time as FsRtlDissectName splits the path,
// unvisited siblings kept on a stack. `**` (not in the write-up) walks every skip length.
std::unique_ptr<KeyMatcher> make_writeup_tree(const GeneratedPolicy& policy);
// RE2::Set and Hyperscan compiled from the same patterns (case-insensitive, anchored). Null, with
// `error`, when the library cannot build a matcher for this many patterns.
std::unique_ptr<KeyMatcher> make_re2_set(const GeneratedPolicy& policy, std::string& error);
std::unique_ptr<KeyMatcher> make_hyperscan(const GeneratedPolicy& policy, std::string& error);

// A pattern as an anchored regular expression over the kernel-form path ("\x1f" + value for
// value entries).
std::string pattern_regex(const PatternSpec& spec);

}  // namespace hivewarden::perf
