// Matching work is bounded (attack-2 F15): a 1 MB policy that keeps hundreds of `**` alternatives
// alive over 509-level paths, or thousands of long globs at one key, plus 1 MB of operations,
// must not make `eval` (YAML or compiled policy) or `replay` run longer than 10 s. Each case runs
// the hivewarden binary in a child process and times it; the operations beyond the matcher's
// step budget are `match-limit` (denied), never allowed unmatched.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../support/child_process.hpp"

namespace {

using hivewarden::test::kSanitizedBuild;

constexpr double kMaxSeconds = 10.0;
constexpr std::size_t kInputBytes = 1000 * 1000;

class MatchWork : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return dir_.write(name, text);
  }

  void expect_fast(const std::string& what, const std::vector<std::string>& args, int expect_rc,
                   std::string& out) {
    const hivewarden::test::ChildRun r =
        hivewarden::test::run_hivewarden(args, {.stdout_path = (dir_ / "stdout.txt").string(),
                                                .stderr_path = (dir_ / "stderr.txt").string()});
    out = r.out;
    std::printf("%-40s rc=%d  %.2f s\n", what.c_str(), r.exit_code, r.seconds);
    EXPECT_EQ(r.exit_code, expect_rc) << what << "\n" << r.err.substr(0, 2000);
    if (!kSanitizedBuild) {
      EXPECT_LT(r.seconds, kMaxSeconds) << what;
    }
  }

  hivewarden::test::TempDir dir_{"match-work"};
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// 20,000 entries `HKU\*\**\k<i>\**`, just under 1 MB.
std::string deep_star_policy() {
  std::string yaml = "version: 1\nmonitored:\n";
  for (int i = 0;; ++i) {
    const std::string entry =
        "  - {key: 'HKU\\*\\**\\k" + std::to_string(i) + "\\**', client: c, rules: [delete-key]}\n";
    if (yaml.size() + entry.size() > kInputBytes) return yaml;
    yaml += entry;
  }
}

// 509 components below HKU\S, each a `k<i>` of the policy, starting at `first`.
std::string deep_key(int first) {
  std::string key = "HKU\\\\S";
  for (int j = 0; j < 509; ++j) key += "\\\\k" + std::to_string((first + j) % 20000);
  return key;
}

// Lines from `line(i)` up to 1 MB.
template <typename Line>
std::string up_to_limit(Line line, size_t& lines) {
  std::string text;
  for (lines = 0;; ++lines) {
    const std::string next = line(static_cast<int>(lines));
    if (text.size() + next.size() > kInputBytes) return text;
    text += next;
  }
}

TEST_F(MatchWork, DeepDoubleStarPolicyWithDeepOperationsEvaluatesWithinTheTimeBound) {
  const std::string policy = write("dstar.yaml", deep_star_policy());
  size_t lines = 0;
  const std::string ops = write("ops.jsonl", up_to_limit(
                                                 [](int i) {
                                                   return R"({"op":"delete-key","key":")" +
                                                          deep_key(i) +
                                                          R"(","image":"C:\\x.exe","pid":1})"
                                                          "\n";
                                                 },
                                                 lines));
  ASSERT_GT(lines, 300u);
  std::string out;
  expect_fast("eval dstar.yaml", {"eval", "--policy", policy, "--input", ops}, 0, out);
  EXPECT_EQ(count(out, R"("decision":"deny","reason":"match-limit")"), lines);

  const std::string compiled = (dir_ / "dstar.hwp").string();
  expect_fast("compile dstar.yaml", {"compile", policy, "-o", compiled}, 0, out);
  expect_fast("eval dstar.hwp", {"eval", "--policy", compiled, "--input", ops}, 0, out);
  EXPECT_EQ(count(out, R"("reason":"match-limit")"), lines);

  const std::string events = write(
      "ev12.jsonl",
      up_to_limit(
          [](int i) {
            return R"({"EventID": 12, "EventData": {"TargetObject": ")" + deep_key(i) +
                   R"(", "EventType": "DeleteKey", "Image": "C:\\x.exe", "UtcTime": "2019-07-19 14:44:08.197"}})"
                   "\n";
          },
          lines));
  expect_fast("replay dstar.yaml", {"replay", "--no-progress", "--policy", policy, events}, 0, out);
  EXPECT_GT(count(out, "match-limit"), 0u) << out.substr(0, 2000);
}

TEST_F(MatchWork, ThousandsOfLongGlobsAtOneKeyEvaluateWithinTheTimeBound) {
  std::string yaml = "version: 1\nmonitored:\n";
  for (int i = 0;; ++i) {
    const std::string entry = "  - {key: 'HKU\\*" + std::string(100, 'a') + std::to_string(i) +
                              "', client: c, rules: [delete-key]}\n";
    if (yaml.size() + entry.size() > kInputBytes) break;
    yaml += entry;
  }
  const std::string policy = write("globs.yaml", yaml);
  size_t lines = 0;
  const std::string ops = write("ops.jsonl", up_to_limit(
                                                 [](int) {
                                                   return R"({"op":"delete-key","key":"HKU\\)" +
                                                          std::string(250, 'a') +
                                                          R"(","image":"C:\\x.exe","pid":1})"
                                                          "\n";
                                                 },
                                                 lines));
  std::string out;
  expect_fast("eval globs.yaml", {"eval", "--policy", policy, "--input", ops}, 0, out);
  EXPECT_EQ(count(out, R"("decision":"deny","reason":"match-limit")"), lines);
}

TEST_F(MatchWork, ThousandsOfLongValueGlobsEvaluateWithinTheTimeBound) {
  std::string yaml =
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\K'\n    client: c\n    values:\n";
  for (int i = 0;; ++i) {
    const std::string value = "      - {name: '*" + std::string(100, 'a') + std::to_string(i) +
                              "', rules: [set-value]}\n";
    if (yaml.size() + value.size() > kInputBytes) break;
    yaml += value;
  }
  const std::string policy = write("values.yaml", yaml);
  size_t lines = 0;
  const std::string ops =
      write("ops.jsonl", up_to_limit(
                             [](int) {
                               return R"({"op":"set-value","key":"HKLM\\SOFTWARE\\K","value":")" +
                                      std::string(16000, 'a') +
                                      R"(","type":"REG_SZ","data":"x","image":"C:\\x.exe","pid":1})"
                                      "\n";
                             },
                             lines));
  std::string out;
  expect_fast("eval values.yaml", {"eval", "--policy", policy, "--input", ops}, 0, out);
  EXPECT_EQ(count(out, R"("decision":"deny","reason":"match-limit")"), lines);
}

}  // namespace
