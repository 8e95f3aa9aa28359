// A consumer that stays connected but stops answering (hung, SIGSTOPped) made every sync record
// wait the whole timeout (attack on the fixes, F13: 5,000 records x 200 ms = 17 minutes). After
// kSyncTimeoutsBeforeNotWaiting timeouts in a row the notifier stops waiting, counts it, and
// probes again once kSyncProbeInterval has passed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "hivewarden/producer/notifier.hpp"
#include "hivewarden/consumer/socket_consumer.hpp"

namespace hivewarden {
namespace {

using namespace std::chrono_literals;

TEST(SocketChannelNotifier, AConsumerThatStopsAnsweringIsNotWaitedForEveryRecord) {
  char dir[] = "/tmp/hw-unanswered-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/s";
  std::atomic<int> received{0};
  SocketConsumer consumer(path, [&](const RecordView&) {
    ++received;
    return false;  // never acknowledges
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  {
    SocketProducer producer({path});
    for (int i = 0; i < 400 && !producer.connected(); ++i) std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(producer.connected());
    Notifier notifier(&producer, 100ms);
    RecordDraft draft;
    draft.mode = NotifyMode::kSync;
    draft.input.type = MessageType::kRegistryEventSync;
    draft.input.operation = traits(Operation::kSetValue).pre_class;
    draft.input.key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\X";
    draft.input.value_name = u"V";
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) notifier.send(draft);
    const auto took = std::chrono::steady_clock::now() - start;
    // 3 timeouts of 100 ms, then no waits for a second: far below 50 x 100 ms.
    EXPECT_LT(took, 1500ms);
    const NotifierStats s = notifier.stats();
    EXPECT_EQ(s.sync_timeouts, kSyncTimeoutsBeforeNotWaiting);
    EXPECT_EQ(s.sync_not_waited, 50u - kSyncTimeoutsBeforeNotWaiting);
    EXPECT_EQ(s.records, 50u);
    producer.flush(2000ms);
  }
  for (int i = 0; i < 200 && received.load() < 50; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(received.load(), 50);  // every record was still delivered
  consumer.stop();
  rmdir(dir);
}

}  // namespace
}  // namespace hivewarden
