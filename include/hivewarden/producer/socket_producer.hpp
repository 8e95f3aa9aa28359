// The producer side of notification delivery (the host running the engine): connects to the
// consumer's Unix-domain stream socket, the user-mode analogue of WdFilter's filter communication
// port, and reconnects when a consumer comes back. Records are self-sized (SPEC §7); a sync record
// is answered by an acknowledgement carrying its sequence number (kAckMagic).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include "hivewarden/core/notification.hpp"

namespace hivewarden {

struct ProducerConfig {
  std::string path;
  std::size_t queue_capacity = 4096;  // async records waiting to be written
  bool drop_oldest = true;  // on overflow: drop the oldest queued record, else the new one
  std::chrono::milliseconds reconnect_interval{100};
  // How long an async record may wait for others to be written with it: the first record after
  // a quiet spell wakes the I/O thread, which gathers for this long and writes them all at once
  // (one wake-up and one system call for many records). A sync record, flush() or a half-full
  // queue cut the wait short. Zero writes every record as soon as it comes.
  std::chrono::microseconds batch_delay{200};
};

struct DeliveryStats {
  std::uint64_t sent = 0;              // records written whole
  std::uint64_t dropped_overflow = 0;  // async records dropped because the queue was full
  // Records dropped because no consumer was there, or lost with it: a sync record whose consumer
  // went away before answering counts here, not as a timeout.
  std::uint64_t dropped_disconnected = 0;
  std::uint64_t sync_acked = 0;
  std::uint64_t sync_timeouts = 0;  // the sender stopped waiting; the operation went on
  std::uint64_t connects = 0;
  std::uint64_t disconnects = 0;
};

// How a sync send ended.
enum class SyncResult {
  kAcknowledged,
  kTimedOut,      // the consumer was there but did not answer in time
  kDisconnected,  // no consumer, or it went away (or the producer stopped) before answering
};

class SocketProducer {
 public:
  explicit SocketProducer(ProducerConfig config);
  ~SocketProducer();
  SocketProducer(const SocketProducer&) = delete;
  SocketProducer& operator=(const SocketProducer&) = delete;

  // True while a consumer is connected: callers build no record otherwise.
  bool connected() const { return connected_.load(std::memory_order_acquire); }

  // Queues a record and returns at once. Never blocks the caller: a full queue drops a record
  // (counted), and so does a missing consumer.
  void send_async(std::vector<unsigned char> record);
  // The same, copying the record into a buffer the queue recycles (one written before), so that
  // a steady stream of records allocates nothing: how the Notifier sends from its per-thread
  // encoding buffer.
  void send_async(const unsigned char* record, std::size_t size);

  // Queues a sync record (its `sequence` field must be unique) and waits for the consumer's
  // acknowledgement, at most `timeout`. Returns true when acknowledged; a timeout is counted.
  // When the consumer disconnects, every waiting sender is released at once (counted as dropped,
  // not as a timeout), whether its record was still queued or already written. `result`, when
  // given, says which of the three happened.
  bool send_sync(std::vector<unsigned char> record, std::uint64_t sequence,
                 std::chrono::milliseconds timeout, SyncResult* result = nullptr);

  // Waits until every queued record is written or dropped, at most `timeout`.
  bool flush(std::chrono::milliseconds timeout);

  DeliveryStats stats() const;

 private:
  struct Item {
    std::vector<unsigned char> bytes;
    bool sync = false;
    std::uint64_t sequence = 0;
  };
  // Written records' buffers kept for send_async to fill again; small ones only, a few.
  static constexpr std::size_t kSpareBuffers = 64;
  static constexpr std::size_t kSpareBufferBytes = 4096;

  void run();
  bool admit_async_locked();  // false when the record is dropped (no consumer, full queue)
  bool push_async_locked(std::vector<unsigned char> bytes);  // true: wake the I/O thread
  void recycle_locked(std::vector<unsigned char>& bytes);
  bool try_connect();
  void disconnect_locked();
  void wake();
  bool write_queued_locked();  // false when the connection broke
  bool read_acks_locked();     // false when the connection broke or the peer is confused

  ProducerConfig config_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::vector<std::vector<unsigned char>> spare_;
  std::size_t async_queued_ = 0;
  std::size_t written_ = 0;  // bytes of queue_.front() already written
  bool urgent_ = false;      // write now: a sync record, a flush or a half-full queue is waiting
  // Sync senders still waiting (by sequence), and the answers they are waiting for: an ack, or
  // the loss of the consumer. Answers are only recorded for a waiting sender, so none is kept
  // for a sender that already gave up.
  std::set<std::uint64_t> waiting_, acked_, failed_;
  unsigned char ack_buffer_[16] = {};
  std::size_t ack_have_ = 0;
  DeliveryStats stats_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stop_{false};
  int fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
};

}  // namespace hivewarden
