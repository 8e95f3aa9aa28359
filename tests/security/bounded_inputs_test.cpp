// Bounded inputs: no input up to 1 MB may make any command use more than 256 MB or run longer
// than 10 s. Each case feeds one reader its worst case in a child process and measures the
// child's peak memory (wait4's rusage) and wall time. A case that hits a stated limit must exit
// with 2 and say which limit; a case within the limits must succeed.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../support/child_process.hpp"

namespace {

using hivewarden::test::ChildRun;
using hivewarden::test::kSanitizedBuild;

constexpr long kMaxRssKb = 256 * 1024;
constexpr double kMaxSeconds = 10.0;
constexpr std::size_t kInputBytes = 1024 * 1024;

using hivewarden::test::repeat_to;

class BoundedInputs : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text, bool over_limit = false) {
    if (!over_limit) {
      EXPECT_LE(text.size(), kInputBytes) << name;
    }
    return dir_.write(name, text);
  }

  // The case must stay in bounds; `expect_rc` 2 also wants the limit named in `expect_err`.
  void expect_bounded(const std::string& what, const std::vector<std::string>& args, int expect_rc,
                      const std::string& expect_err, const std::string& input = "") {
    const ChildRun o =
        hivewarden::test::run_hivewarden(args, {.stdin_path = input.empty() ? "/dev/null" : input,
                                                .stderr_path = (dir_ / "stderr.txt").string()});
    RecordProperty(what + "_max_rss_kb", std::to_string(o.max_rss_kb));
    std::printf("%-48s rc=%d  peak %6ld KB  %.2f s\n", what.c_str(), o.exit_code, o.max_rss_kb,
                o.seconds);
    EXPECT_EQ(o.exit_code, expect_rc) << what << "\n" << o.err.substr(0, 2000);
    if (!kSanitizedBuild) {
      EXPECT_LT(o.max_rss_kb, kMaxRssKb) << what;
      EXPECT_LT(o.seconds, kMaxSeconds) << what;
    }
    if (!expect_err.empty()) {
      EXPECT_NE(o.err.find(expect_err), std::string::npos)
          << what << ": stderr does not say '" << expect_err << "':\n"
          << o.err.substr(0, 2000);
    }
  }

  hivewarden::test::TempDir dir_{"bounded"};
};

const std::string kOp =
    R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender","value":"DisableAntiSpyware","image":"C:\\x.exe","pid":1})"
    "\n";

TEST_F(BoundedInputs, OperationReaders) {
  const std::string deep = write("deep.jsonl", std::string(kInputBytes / 2 - 8, '[') +
                                                   std::string(kInputBytes / 2 - 8, ']') + "\n");
  const std::string one_line =
      write("line.jsonl", R"({"op":"create-key","key":"HKLM\\A","image":")" +
                              std::string(kInputBytes - 64, 'a') + "\"}\n");
  const std::string two_mb_line = write("line2.jsonl",
                                        R"({"op":"create-key","key":"HKLM\\A","image":")" +
                                            std::string(2 * kInputBytes, 'a') + "\"}\n",
                                        true);
  const std::string no_newline = write("nonl.jsonl", std::string(kInputBytes, 'x'));
  const std::string many = write("many.jsonl", repeat_to(kOp, kInputBytes));
  const std::string policy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";
  for (const std::string cmd : {"eval", "run", "demo"}) {
    auto args = [&](const std::string& file) {
      return cmd == "eval" ? std::vector<std::string>{cmd, "--policy", policy, "--input", file}
                           : std::vector<std::string>{cmd, "--ops", file};
    };
    // `demo` prints errors on its standard output; eval and run say on stderr how many failed.
    const bool quiet = cmd == "demo";
    expect_bounded(cmd + " deep nesting", args(deep), 2, quiet ? "" : "1 ");
    expect_bounded(cmd + " one 1 MB line", args(one_line), 0, "");
    expect_bounded(cmd + " one 2 MB line (past the limit)", args(two_mb_line), 2,
                   quiet ? "" : "1 ");
    expect_bounded(cmd + " 1 MB without a newline", args(no_newline), 2, quiet ? "" : "1 ");
    expect_bounded(cmd + " 1 MB of operations", args(many), 0, "");
  }
  expect_bounded("eval from stdin, deep nesting", {"eval", "--policy", policy, "--input", "-"}, 2,
                 "1 of 1 lines", deep);
}

// A registry of as many keys as 1 MB of operations can make, each as deep as Windows allows.
TEST_F(BoundedInputs, RunGrowingTheRegistry) {
  // Each line makes 500 new keys: its own first level, then 499 more below it.
  std::string below;
  for (int i = 0; i < 499; ++i) below += "\\\\k";
  std::string ops;
  for (int i = 0; ops.size() + below.size() + 64 < kInputBytes; ++i) {
    ops += R"({"op":"create-key","key":"HKLM\\SOFTWARE\\)" + std::to_string(i) + below + "\"}\n";
  }
  expect_bounded("run: 1 MB of 500-level creates", {"run", "--ops", write("grow.jsonl", ops)}, 0,
                 "");
}

// A 1 MB subtree restored by every line of an operations file (attack on the fixes, F19: each
// line read and parsed the whole file again: 16.8 s for 5 KB of lines).
TEST_F(BoundedInputs, RunRestoringOneLargeFileOnEveryLine) {
  std::string saved = "Windows Registry Editor Version 5.00\n\n";
  for (int i = 0; saved.size() < kInputBytes - 200; ++i) {
    saved += "[HKEY_LOCAL_MACHINE\\Saved\\K" + std::to_string(i) + "]\n\"v\"=\"x\"\n\n";
  }
  const std::string file = write("saved.reg", saved);
  std::string ops;
  for (int i = 0; ops.size() < 20000; ++i) {
    const std::string key = i % 2 ? "HKLM\\\\SOFTWARE\\\\Missing" : "HKLM\\\\SOFTWARE";
    ops += R"({"op":"restore-key","key":")" + key + R"(","file":")" + file + "\"}\n";
  }
  const std::string start = write(
      "start.reg", "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE]\n");
  expect_bounded("run: 20 KB of restores of a 1 MB file",
                 {"run", "--registry", start, "--ops", write("restore.jsonl", ops)}, 0, "");
}

TEST_F(BoundedInputs, CompiledPolicyAndHive) {
  std::string garbage(kInputBytes, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
  const std::string blob = write("garbage.hwp", garbage);
  expect_bounded("dump of a garbage blob", {"dump", blob}, 2, "");
  expect_bounded("eval with a garbage blob",
                 {"eval", "--policy", blob, "--input", write("one.jsonl", kOp)}, 2, "");
  const std::string hive = write("garbage.hiv", "regf" + garbage.substr(4));
  expect_bounded("run --hive garbage",
                 {"run", "--hive", hive + "=HKLM\\SOFTWARE", "--ops", write("none.jsonl", "")}, 2,
                 "");
}

}  // namespace
