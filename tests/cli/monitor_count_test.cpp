// `monitor --count N` stops after exactly N records, even when many arrive in one burst (attack
// on the fixes, F12: 1,000 records sent at once were all printed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "../support/test_record.hpp"
#include "hivewarden/producer/socket_producer.hpp"

namespace hivewarden {
namespace {

namespace fs = std::filesystem;

TEST(MonitorCount, PrintsExactlyCountRecordsOfABurst) {
  const fs::path dir = fs::temp_directory_path() / ("hw-monitor-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string socket = (dir / "s.sock").string(), printed = (dir / "out.jsonl").string();
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(printed.c_str(), "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    execl(HIVEWARDEN_BINARY, HIVEWARDEN_BINARY, "monitor", "--socket", socket.c_str(), "--count",
          "5", "--json", static_cast<char*>(nullptr));
    _exit(127);
  }
  {
    SocketProducer producer({socket});
    for (int i = 0; i < 200 && !producer.connected(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(producer.connected());
    for (std::uint64_t s = 1; s <= 1000; ++s) producer.send_async(test::test_record(s));
    producer.flush(std::chrono::milliseconds(5000));
  }
  int status = 0;
  for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (waitpid(pid, &status, WNOHANG) == 0) {  // never leave it running
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "monitor did not stop after --count records";
  }
  std::ifstream in(printed);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 5);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hivewarden
