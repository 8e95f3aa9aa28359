// Matching work is bounded (attack-2 F15): a 1 MB policy that keeps hundreds of `**` alternatives
// alive over 509-level paths, or thousands of long globs at one key, plus 1 MB of operations,
// must not make `eval` (YAML or compiled policy) or `replay` run longer than 10 s. Each case runs
// the hivewarden binary in a child process and times it; the operations beyond the matcher's
// step budget are `match-limit` (denied), never allowed unmatched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Sanitizer builds are several times slower: there only the exit code and output are checked.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMeasured = false;
#else
constexpr bool kMeasured = true;
#endif

constexpr double kMaxSeconds = 10.0;
constexpr std::size_t kInputBytes = 1000 * 1000;

class MatchWork : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hw-match-work-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }

  // Runs the binary with stdout to a file; returns the exit code, sets `seconds` and `out`.
  int run(std::vector<std::string> args, double& seconds, std::string& out) {
    const fs::path out_path = dir_ / "stdout.txt";
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
      const int in = open("/dev/null", O_RDONLY);
      const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || o < 0) _exit(127);
      dup2(in, 0);
      dup2(o, 1);
      std::string binary = HIVEWARDEN_BINARY;
      std::vector<char*> argv{binary.data()};
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ifstream in(out_path);
    out.assign(std::istreambuf_iterator<char>(in), {});
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void expect_fast(const std::string& what, const std::vector<std::string>& args, int expect_rc,
                   std::string& out) {
    double seconds = 0;
    const int rc = run(args, seconds, out);
    std::printf("%-40s rc=%d  %.2f s\n", what.c_str(), rc, seconds);
    EXPECT_EQ(rc, expect_rc) << what;
    if (kMeasured) {
      EXPECT_LT(seconds, kMaxSeconds) << what;
    }
  }

  fs::path dir_;
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
