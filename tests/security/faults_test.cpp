// Faults outside the engine: the command line keeps its promises when its output disappears.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

struct RunResult {
  int exit_code;
  std::string err;
};

RunResult run(const std::string& args) {
  const std::string command = std::string(HIVEWARDEN_BINARY) + " " + args + " 2>&1 >/dev/full";
  FILE* pipe = popen(command.c_str(), "r");
  RunResult r{-1, {}};
  if (pipe == nullptr) return r;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) r.err += buffer;
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(Faults, DiskFullIsAnErrorForEveryPrintingCommand) {
  const std::string policy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";
  const std::string ops = std::string(HIVEWARDEN_SOURCE_DIR) + "/samples/demo-ops.jsonl";
  for (const std::string& args : std::vector<std::string>{"eval --policy " + policy + " --input " + ops, std::string("demo"), "dump " + policy,
                                  std::string("check --op delete-key --key HKLM\\\\SOFTWARE\\\\X")}) {
    const RunResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("disk full"), std::string::npos) << args << "\n" << r.err;
  }
}

}  // namespace
