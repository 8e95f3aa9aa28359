// Delivery between processes' ends: sync acknowledgements and timeouts, async floods with drops
// counted, a consumer that dies and comes back.
#include "hivewarden/consumer/socket_consumer.hpp"
#include "hivewarden/producer/socket_producer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/files.hpp"
#include "../support/test_record.hpp"

namespace hivewarden {
namespace {

using namespace std::chrono_literals;

std::vector<unsigned char> record(std::uint64_t sequence,
                                  MessageType type = MessageType::kRegistryEventAsync) {
  return test::test_record(sequence, type);
}

class SocketChannelTest : public ::testing::Test {
 protected:
  const test::TempDir dir_{"sock"};
  const std::string path_ = (dir_ / "notify.sock").string();
};

TEST_F(SocketChannelTest, SyncRecordIsAcknowledged) {
  std::atomic<int> received{0};
  SocketConsumer consumer(path_, [&](const RecordView& r) {
    EXPECT_EQ(r.fixed.sequence, 1u + static_cast<std::uint64_t>(received.load()));
    ++received;
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  SocketProducer producer({path_});
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  EXPECT_TRUE(producer.send_sync(record(1, MessageType::kRegistryEventSync), 1, 2000ms));
  producer.send_async(record(2));
  ASSERT_TRUE(producer.flush(2000ms));
  ASSERT_TRUE(test::eventually([&] { return received.load() == 2; }));
  EXPECT_EQ(producer.stats().sync_acked, 1u);
  EXPECT_EQ(consumer.stats().acks_sent, 1u);
}

TEST_F(SocketChannelTest, ConsumerThatNeverAnswersCostsAtMostTheTimeout) {
  SocketConsumer consumer(path_, [](const RecordView&) { return false; });  // never acknowledges
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  SocketProducer producer({path_});
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  for (std::uint64_t s = 1; s <= 5; ++s) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(producer.send_sync(record(s, MessageType::kRegistryEventSync), s, 50ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 50ms);
    EXPECT_LT(waited, 2000ms);  // bounded by the timeout, not by the consumer
  }
  EXPECT_EQ(producer.stats().sync_timeouts, 5u);
  EXPECT_EQ(producer.stats().sync_acked, 0u);
}

TEST_F(SocketChannelTest, AsyncFloodNeverBlocksAndCountsEveryDrop) {
  std::atomic<std::uint64_t> received{0};
  SocketConsumer consumer(path_, [&](const RecordView&) {
    ++received;
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // a slow consumer
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  ProducerConfig config{path_};
  config.queue_capacity = 64;
  SocketProducer producer(config);
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  constexpr std::uint64_t kRecords = 20000;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t s = 1; s <= kRecords; ++s) producer.send_async(record(s));
  const auto enqueue_time = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(producer.flush(10000ms));
  const DeliveryStats stats = producer.stats();
  EXPECT_GT(stats.dropped_overflow, 0u);  // the queue did overflow
  EXPECT_EQ(stats.sent + stats.dropped_overflow + stats.dropped_disconnected, kRecords);
  ASSERT_TRUE(test::eventually([&] { return received.load() == stats.sent; }));
  // Enqueueing 20,000 records took far less than the consumer needs for them (1 s at 50 us).
  EXPECT_LT(enqueue_time, 1000ms);
}

TEST_F(SocketChannelTest, BatchingNeverHoldsBackSyncRecordsFlushesOrAFillingQueue) {
  std::atomic<std::uint64_t> received{0};
  SocketConsumer consumer(path_, [&](const RecordView&) {
    ++received;
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  ProducerConfig config{path_};
  config.queue_capacity = 16;
  config.batch_delay = std::chrono::seconds(30);  // a gather that would outlast the test
  SocketProducer producer(config);
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));

  // Async records alone wait for the batch...
  producer.send_async(record(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(received.load(), 0u);
  // ...a sync record goes at once and takes them along.
  EXPECT_TRUE(producer.send_sync(record(2, MessageType::kRegistryEventSync), 2, 5000ms));
  ASSERT_TRUE(test::eventually([&] { return received.load() == 2; }, 5000ms));

  // A queue filling past half its capacity is written before it overflows.
  for (std::uint64_t s = 3; s < 3 + 9; ++s) producer.send_async(record(s));
  ASSERT_TRUE(test::eventually([&] { return received.load() == 11; }, 5000ms));
  EXPECT_EQ(producer.stats().dropped_overflow, 0u);

  // flush() does not wait for the batch either.
  producer.send_async(record(12));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(producer.flush(5000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5000ms);
  ASSERT_TRUE(test::eventually([&] { return received.load() == 12; }, 5000ms));
}

TEST_F(SocketChannelTest, ProducerSurvivesAConsumerRestart) {
  std::atomic<std::uint64_t> first{0}, second{0};
  auto consumer = std::make_unique<SocketConsumer>(path_, [&](const RecordView&) {
    ++first;
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer->start(error)) << error;
  ProducerConfig config{path_};
  config.reconnect_interval = 20ms;
  SocketProducer producer(config);
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  for (std::uint64_t s = 1; s <= 100; ++s) producer.send_async(record(s));
  ASSERT_TRUE(producer.flush(2000ms));
  ASSERT_TRUE(test::eventually([&] { return first.load() == 100; }));

  consumer.reset();  // the consumer dies
  ASSERT_TRUE(test::eventually([&] { return !producer.connected(); }));
  for (std::uint64_t s = 101; s <= 150; ++s) producer.send_async(record(s));  // nobody to send to
  EXPECT_FALSE(producer.send_sync(record(151, MessageType::kRegistryEventSync), 151, 100ms));

  consumer = std::make_unique<SocketConsumer>(path_, [&](const RecordView&) {
    ++second;
    return true;
  });
  ASSERT_TRUE(consumer->start(error)) << error;
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  for (std::uint64_t s = 152; s <= 200; ++s) producer.send_async(record(s));
  ASSERT_TRUE(producer.flush(2000ms));
  ASSERT_TRUE(test::eventually([&] { return second.load() == 49; }));
  const DeliveryStats stats = producer.stats();
  EXPECT_EQ(stats.sent, 149u);
  EXPECT_EQ(stats.dropped_disconnected, 51u);  // 50 async + 1 sync, each counted
  EXPECT_GE(stats.connects, 2u);
}

TEST_F(SocketChannelTest, GarbageInTheStreamIsAnErrorNotACrash) {
  std::atomic<int> errors{0};
  SocketConsumer consumer(
      path_, [](const RecordView&) { return true; }, [&](const std::string&) { ++errors; });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  SocketProducer producer({path_});
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  std::vector<unsigned char> junk(64, 0xAB);
  producer.send_async(junk);
  ASSERT_TRUE(test::eventually([&] { return errors.load() == 1; }));
  EXPECT_EQ(consumer.stats().decode_errors, 1u);
}

TEST_F(SocketChannelTest, RefusesToReplaceARegularFile) {
  FILE* f = fopen(path_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  SocketConsumer consumer(path_, [](const RecordView&) { return true; });
  std::string error;
  EXPECT_FALSE(consumer.start(error));
  EXPECT_NE(error.find("not a socket"), std::string::npos);
}

}  // namespace
}  // namespace hivewarden
