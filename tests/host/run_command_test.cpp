// `hivewarden run` on the bundled samples: real statuses and decisions, line by line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

TEST(RunCommand, SamplesGiveRealStatusesAndDecisions) {
  const std::string src = HIVEWARDEN_SOURCE_DIR;
  const std::string command = std::string(HIVEWARDEN_BINARY) + " run --registry " + src +
                              "/samples/start.reg --ops " + src +
                              "/samples/run-ops.jsonl 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<nlohmann::json> lines;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
    lines.push_back(nlohmann::json::parse(buffer));
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
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
