// A consumer that stays connected but stops answering (hung, SIGSTOPped) made every sync record
// wait the whole timeout (attack on the fixes, F13: 5,000 records x 200 ms = 17 minutes). After
// kSyncTimeoutsBeforeNotWaiting timeouts in a row the notifier stops waiting, counts it, and
// probes again once kSyncProbeInterval has passed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "../support/eventually.hpp"
#include "../support/files.hpp"
#include "hivewarden/consumer/socket_consumer.hpp"
#include "hivewarden/producer/notifier.hpp"

namespace hivewarden {
namespace {

using namespace std::chrono_literals;

TEST(SocketChannelNotifier, AConsumerThatStopsAnsweringIsNotWaitedForEveryRecord) {
  const test::TempDir dir("unanswered");
  const std::string path = (dir / "s").string();
  std::atomic<int> received{0};
  SocketConsumer consumer(path, [&](const RecordView&) {
    ++received;
    return false;  // never acknowledges
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  {
    SocketProducer producer({path});
    ASSERT_TRUE(test::eventually([&] { return producer.connected(); }, 2000ms));
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
  test::eventually([&] { return received.load() >= 50; }, 1000ms);
  EXPECT_EQ(received.load(), 50);  // every record was still delivered
  consumer.stop();
}

}  // namespace
}  // namespace hivewarden
