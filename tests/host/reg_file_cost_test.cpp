// What a hostile .reg file of up to 1 MB costs `hivewarden run --registry FILE --ops EMPTY`: at
// most 256 MB of memory and 10 s, measured with the child's own rusage (wait4). The inputs are
// the worst shapes known: keys 512 levels deep with one-letter names (about 2 bytes a key), many
// small keys or values, one value wrapped over a hundred thousand continuation lines, and many
// [-key] deletions after many keys (each used to walk the whole registry).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // sanitizers multiply memory and time: only time is checked
#else
constexpr bool kSanitized = false;
#endif

constexpr std::size_t kFileBytes = 1u << 20;
constexpr long kMaxRssKb = 256 * 1024;
constexpr double kMaxSeconds = kSanitized ? 60.0 : 10.0;

const std::string kHeader = "Windows Registry Editor Version 5.00\r\n\r\n";

// The header, then lines from `line(i)` while the file stays within kFileBytes.
std::string fill(const std::function<std::string(std::size_t)>& line, std::string text = kHeader) {
  for (std::size_t i = 0;; ++i) {
    const std::string next = line(i);
    if (text.size() + next.size() > kFileBytes) return text;
    text += next;
  }
}

std::string deep_keys() {
  std::string chain;
  for (int level = 0; level < 508; ++level) chain += "\\a";
  return fill(
      [&](std::size_t i) { return "[HKEY_USERS\\k" + std::to_string(i) + chain + "]\r\n"; });
}

std::string wide_keys() {
  return fill([](std::size_t i) { return "[HKEY_USERS\\" + std::to_string(i) + "]\r\n"; });
}

std::string many_values() {
  return fill([](std::size_t i) { return "\"" + std::to_string(i) + "\"=\"\"\r\n"; },
              kHeader + "[HKEY_USERS\\X]\r\n");
}

std::string wrapped_value() {
  std::string text = kHeader + "[HKEY_USERS\\X]\r\n\"big\"=hex:";
  while (text.size() + 16 < kFileBytes) text += "00,\\\r\n  ";
  return text + "00\r\n";
}

std::string deletions_after_many_keys() {
  std::string text = kHeader;
  for (std::size_t i = 0; text.size() < kFileBytes / 2; ++i)
    text += "[HKEY_USERS\\" + std::to_string(i) + "]\r\n";
  return fill([](std::size_t i) { return "[-HKEY_USERS\\z" + std::to_string(i) + "]\r\n"; }, text);
}

struct Cost {
  int exit_code = -1;
  long max_rss_kb = 0;
  double seconds = 0;
};

// Runs the CLI on `reg` in a child process; its exit code, peak memory and wall time.
Cost run_cli(const std::string& reg, const std::string& ops) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child == 0) {
    // A reader gone wrong is stopped rather than left to eat the machine: well past the limits.
    const rlim_t cpu = static_cast<rlim_t>(kMaxSeconds * 3);
    const rlimit cpu_limit{cpu, cpu};
    setrlimit(RLIMIT_CPU, &cpu_limit);
    if (!kSanitized) {
      const rlimit memory_limit{rlim_t{4} * kMaxRssKb * 1024, rlim_t{4} * kMaxRssKb * 1024};
      setrlimit(RLIMIT_AS, &memory_limit);
    }
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(HIVEWARDEN_BINARY, HIVEWARDEN_BINARY, "run", "--registry", reg.c_str(), "--ops",
          ops.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  Cost cost;
  if (child < 0) return cost;
  int status = 0;
  rusage usage{};
  if (wait4(child, &status, 0, &usage) != child) return cost;
  cost.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cost.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  cost.max_rss_kb = usage.ru_maxrss;  // kilobytes on Linux
  return cost;
}

TEST(RegFileCost, WorstCaseInputsOfOneMegabyteStayWithinMemoryAndTime) {
  char dir[] = "/tmp/hw-regcost-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string ops = std::string(dir) + "/empty.jsonl";
  const std::string reg = std::string(dir) + "/worst.reg";
  std::ofstream(ops).flush();
  const std::pair<const char*, std::function<std::string()>> cases[] = {
      {"deep keys", deep_keys},
      {"wide keys", wide_keys},
      {"many values", many_values},
      {"one value wrapped over many lines", wrapped_value},
      {"deletions after many keys", deletions_after_many_keys},
  };
  for (const auto& [name, make] : cases) {
    const std::string text = make();
    ASSERT_LE(text.size(), kFileBytes) << name;
    std::ofstream(reg, std::ios::binary) << text;
    const Cost cost = run_cli(reg, ops);
    EXPECT_EQ(cost.exit_code, 0) << name;
    EXPECT_LE(cost.seconds, kMaxSeconds) << name;
    if (!kSanitized) {
      EXPECT_LE(cost.max_rss_kb, kMaxRssKb) << name;
    }
    std::printf("%-36s %8zu bytes: %6ld kB peak, %.2f s\n", name, text.size(), cost.max_rss_kb,
                cost.seconds);
  }
  std::remove(reg.c_str());
  std::remove(ops.c_str());
  rmdir(dir);
}

}  // namespace
