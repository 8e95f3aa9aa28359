// A consumer that goes away while a sync sender waits for its acknowledgement: the sender must be
// released at once (counted as dropped, not as a timeout), whether the consumer closes its end or
// its process is killed. The consumer side here is a bare socket, so the test controls exactly
// when the record has been read and when the connection goes.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/files.hpp"
#include "../support/test_record.hpp"
#include "hivewarden/producer/socket_producer.hpp"

namespace hivewarden {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kLongTimeout = 10000ms;
constexpr std::chrono::milliseconds kPromptly = 1000ms;

std::vector<unsigned char> sync_record(std::uint64_t sequence) {
  return test::test_record(sequence, MessageType::kRegistryEventSync);
}

// Waits for `fd` to be readable, at most `limit`.
bool readable(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(limit.count())) == 1 && (p.revents & POLLIN);
}

// Reads `size` bytes (a whole record), at most 5 s in all.
bool read_exactly(int fd, std::size_t size) {
  std::vector<unsigned char> buffer(size);
  std::size_t have = 0;
  while (have < size) {
    if (!readable(fd, 5000ms)) return false;
    const ssize_t n = read(fd, buffer.data() + have, size - have);
    if (n <= 0) return false;
    have += static_cast<std::size_t>(n);
  }
  return true;
}

class SocketChannelDisconnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listen_fd_, 4), 0);
  }
  void TearDown() override {
    if (child_ > 0) {  // never leave the consumer process behind
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    if (listen_fd_ >= 0) close(listen_fd_);
  }
  // Takes the producer's connection on the listening socket: `consumer` is this test's end.
  void accept_producer(SocketProducer& producer, int& consumer) {
    ASSERT_TRUE(readable(listen_fd_, 5000ms));
    consumer = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(consumer, 0);
    ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  }
  // Starts a sync send on another thread; the future gives its result and how long it took.
  static std::future<std::pair<SyncResult, Clock::duration>> send_sync_async(
      SocketProducer& producer, std::uint64_t sequence) {
    return std::async(std::launch::async, [&producer, sequence] {
      const auto start = Clock::now();
      SyncResult result = SyncResult::kAcknowledged;
      producer.send_sync(sync_record(sequence), sequence, kLongTimeout, &result);
      return std::make_pair(result, Clock::now() - start);
    });
  }
  static void expect_released_as_dropped(SocketProducer& producer,
                                         std::pair<SyncResult, Clock::duration> outcome) {
    EXPECT_EQ(outcome.first, SyncResult::kDisconnected);
    EXPECT_LT(outcome.second, kPromptly) << "the sender waited for a consumer that was gone";
    const DeliveryStats stats = producer.stats();
    EXPECT_EQ(stats.sync_timeouts, 0u);
    EXPECT_EQ(stats.sync_acked, 0u);
    EXPECT_EQ(stats.dropped_disconnected, 1u);
    EXPECT_EQ(stats.sent, 1u);  // it had been written whole: the loss came after
  }
  const test::TempDir dir_{"sock"};
  const std::string path_ = (dir_ / "notify.sock").string();
  int listen_fd_ = -1;
  pid_t child_ = -1;
};

TEST_F(SocketChannelDisconnectTest, ConsumerClosingItsEndReleasesAWaitingSyncSenderAtOnce) {
  ProducerConfig config{path_};
  config.reconnect_interval = 20ms;
  SocketProducer producer(config);
  int consumer = -1;
  ASSERT_NO_FATAL_FAILURE(accept_producer(producer, consumer));

  auto sender = send_sync_async(producer, 7);
  // The record arrives: its sender now waits for an acknowledgement, not for a write.
  const bool got_record = read_exactly(consumer, sync_record(7).size());
  close(listen_fd_);  // no consumer to come back
  listen_fd_ = -1;
  close(consumer);  // the consumer goes away without answering
  ASSERT_TRUE(got_record);
  ASSERT_EQ(sender.wait_for(kLongTimeout + 2000ms), std::future_status::ready);
  expect_released_as_dropped(producer, sender.get());

  // The producer carries on: later sends with nobody there return at once, also as dropped.
  const auto start = Clock::now();
  SyncResult result = SyncResult::kAcknowledged;
  EXPECT_FALSE(producer.send_sync(sync_record(8), 8, kLongTimeout, &result));
  EXPECT_EQ(result, SyncResult::kDisconnected);
  EXPECT_LT(Clock::now() - start, kPromptly);
}

TEST_F(SocketChannelDisconnectTest, ConsumerProcessKilledReleasesAWaitingSyncSenderAtOnce) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const std::size_t record_bytes = sync_record(9).size();
  child_ = fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {  // the consumer: takes the record, says so, never answers
    const int c = accept(listen_fd_, nullptr, nullptr);
    std::vector<unsigned char> buffer(record_bytes);
    std::size_t have = 0;
    while (c >= 0 && have < record_bytes) {
      const ssize_t n = read(c, buffer.data() + have, record_bytes - have);
      if (n <= 0) _exit(1);
      have += static_cast<std::size_t>(n);
    }
    (void)!write(ready[1], "r", 1);
    for (;;) pause();
  }
  close(ready[1]);
  close(listen_fd_);  // only the child holds the consumer's end now
  listen_fd_ = -1;

  ProducerConfig config{path_};
  config.reconnect_interval = 20ms;
  SocketProducer producer(config);
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }));
  auto sender = send_sync_async(producer, 9);
  const bool got_record = readable(ready[0], 5000ms);
  close(ready[0]);
  kill(child_, SIGKILL);
  waitpid(child_, nullptr, 0);
  child_ = -1;
  ASSERT_TRUE(got_record);
  ASSERT_EQ(sender.wait_for(kLongTimeout + 2000ms), std::future_status::ready);
  expect_released_as_dropped(producer, sender.get());
}

TEST_F(SocketChannelDisconnectTest, EverySenderWaitingIsReleasedTogether) {
  ProducerConfig config{path_};
  SocketProducer producer(config);
  int consumer = -1;
  ASSERT_NO_FATAL_FAILURE(accept_producer(producer, consumer));

  constexpr int kSenders = 4;
  std::vector<std::future<std::pair<SyncResult, Clock::duration>>> senders;
  for (int i = 0; i < kSenders; ++i) senders.push_back(send_sync_async(producer, 20 + i));
  // All four records arrive (same size each): every sender waits for its acknowledgement.
  const bool got_records = read_exactly(consumer, kSenders * sync_record(20).size());
  close(listen_fd_);
  listen_fd_ = -1;
  close(consumer);
  ASSERT_TRUE(got_records);
  for (auto& sender : senders) {
    ASSERT_EQ(sender.wait_for(kLongTimeout + 2000ms), std::future_status::ready);
    const auto outcome = sender.get();
    EXPECT_EQ(outcome.first, SyncResult::kDisconnected);
    EXPECT_LT(outcome.second, kPromptly);
  }
  const DeliveryStats stats = producer.stats();
  EXPECT_EQ(stats.sync_timeouts, 0u);
  EXPECT_EQ(stats.dropped_disconnected, static_cast<std::uint64_t>(kSenders));
}

TEST_F(SocketChannelDisconnectTest, AnAckSentJustBeforeHangingUpStillCounts) {
  ProducerConfig config{path_};
  SocketProducer producer(config);
  int consumer = -1;
  ASSERT_NO_FATAL_FAILURE(accept_producer(producer, consumer));

  auto sender = send_sync_async(producer, 11);
  const bool got_record = read_exactly(consumer, sync_record(11).size());
  unsigned char ack[16] = {};
  const std::uint64_t sequence = 11;
  std::memcpy(ack, &kAckMagic, 4);
  std::memcpy(ack + 8, &sequence, 8);
  const bool acked = send(consumer, ack, sizeof ack, MSG_NOSIGNAL) == sizeof ack;
  close(consumer);  // answered, then gone
  ASSERT_TRUE(got_record);
  ASSERT_TRUE(acked);
  ASSERT_EQ(sender.wait_for(kLongTimeout + 2000ms), std::future_status::ready);
  const auto outcome = sender.get();
  EXPECT_EQ(outcome.first, SyncResult::kAcknowledged);
  EXPECT_LT(outcome.second, kPromptly);
  EXPECT_EQ(producer.stats().sync_acked, 1u);
}

}  // namespace
}  // namespace hivewarden
