// What a hostile .reg file of up to 1 MB costs `hivewarden run --registry FILE --ops EMPTY`: at
// most 256 MB of memory and 10 s, measured with the child's own rusage (wait4). The inputs are
// the worst shapes known: keys 512 levels deep with one-letter names (about 2 bytes a key), many
// small keys or values, one value wrapped over a hundred thousand continuation lines, and many
// [-key] deletions after many keys (each used to walk the whole registry).
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>

#include "../support/child_process.hpp"
#include "../support/files.hpp"

namespace hivewarden {
namespace {

using test::kSanitizedBuild;  // sanitizers multiply memory and time: only time is checked

constexpr std::size_t kFileBytes = 1u << 20;
constexpr long kMaxRssKb = 256 * 1024;
constexpr double kMaxSeconds = kSanitizedBuild ? 60.0 : 10.0;

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

// Runs the CLI on `reg` in a child process; its exit code, peak memory and wall time. A reader
// gone wrong is stopped rather than left to eat the machine: well past the limits.
test::ChildRun run_cli(const std::string& reg, const std::string& ops) {
  test::ChildIo io;
  io.cpu_seconds_limit = static_cast<std::uint64_t>(kMaxSeconds * 3);
  if (!kSanitizedBuild) io.address_space_limit = std::uint64_t{4} * kMaxRssKb * 1024;
  return test::run_hivewarden({"run", "--registry", reg, "--ops", ops}, io);
}

TEST(RegFileCost, WorstCaseInputsOfOneMegabyteStayWithinMemoryAndTime) {
  const test::TempDir dir("regcost");
  const std::string ops = dir.write("empty.jsonl", "").string();
  const std::string reg = (dir / "worst.reg").string();
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
    test::write_text(reg, text);
    const test::ChildRun cost = run_cli(reg, ops);
    EXPECT_EQ(cost.exit_code, 0) << name;
    EXPECT_LE(cost.seconds, kMaxSeconds) << name;
    if (!kSanitizedBuild) {
      EXPECT_LE(cost.max_rss_kb, kMaxRssKb) << name;
    }
    std::printf("%-36s %8zu bytes: %6ld kB peak, %.2f s\n", name, text.size(), cost.max_rss_kb,
                cost.seconds);
  }
}

}  // namespace
}  // namespace hivewarden
