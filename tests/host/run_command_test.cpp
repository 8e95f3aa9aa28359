// `hivewarden run` on the bundled samples: real statuses and decisions, line by line.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/child_process.hpp"
#include "../support/files.hpp"

namespace hivewarden {
namespace {

TEST(RunCommand, SamplesGiveRealStatusesAndDecisions) {
  const std::string src = HIVEWARDEN_SOURCE_DIR;
  const test::TempDir dir("run-command");
  const test::ChildRun run = test::run_hivewarden(
      {"run", "--registry", src + "/samples/start.reg", "--ops", src + "/samples/run-ops.jsonl"},
      {.stdout_path = (dir / "out.jsonl").string()});
  std::vector<nlohmann::json> lines;
  std::istringstream out(run.out);
  for (std::string line; std::getline(out, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(run.signal, 0);
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(lines.size(), 8u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"access-denied", "tamper-protection"},
      {"success", "notify"},
      {"success", "notify"},
      {"access-denied", "hardened-key"},
      {"success", "no-match"},
      {"cannot-delete", "no-match"},
      {"success", "no-match"},
      {"object-name-not-found", ""}};  // failed before any callback: no decision to print
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["line"], i + 1);
    EXPECT_EQ(lines[i]["status"], expected[i].first) << i;
    if (expected[i].second.empty()) {
      EXPECT_FALSE(lines[i].contains("reason")) << i;
      EXPECT_FALSE(lines[i].contains("decision")) << i;
      EXPECT_EQ(lines[i]["notify"], "none") << i;
    } else {
      EXPECT_EQ(lines[i]["reason"], expected[i].second) << i;
    }
  }
}

}  // namespace
}  // namespace hivewarden
