// `monitor --count N` stops after exactly N records, even when many arrive in one burst (attack
// on the fixes, F12: 1,000 records sent at once were all printed).
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "../support/child_process.hpp"
#include "../support/eventually.hpp"
#include "../support/test_record.hpp"
#include "hivewarden/producer/socket_producer.hpp"

namespace hivewarden {
namespace {

TEST(MonitorCount, PrintsExactlyCountRecordsOfABurst) {
  const test::TempDir dir("monitor");
  const std::string socket = (dir / "s.sock").string(), printed = (dir / "out.jsonl").string();
  test::Child monitor(
      {test::hivewarden_binary(), "monitor", "--socket", socket, "--count", "5", "--json"},
      {.stdout_path = printed});
  ASSERT_TRUE(monitor.started());
  {
    SocketProducer producer({socket});
    ASSERT_TRUE(test::eventually([&] { return producer.connected(); }, std::chrono::seconds(2)));
    for (std::uint64_t s = 1; s <= 1000; ++s) producer.send_async(test::test_record(s));
    producer.flush(std::chrono::milliseconds(5000));
  }
  test::ChildRun run;
  if (!monitor.wait_for(std::chrono::seconds(5), run)) {  // killed: never left running
    FAIL() << "monitor did not stop after --count records";
  }
  std::istringstream in(run.out);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 5);
}

}  // namespace
}  // namespace hivewarden
