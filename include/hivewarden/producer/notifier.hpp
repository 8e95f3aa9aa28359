// The host's Reporter over a socket producer: numbers the records the engine filter drafted
// (core/report.hpp), encodes them and hands them to the producer, waiting for a sync record's
// acknowledgement (SPEC §4.6-4.7, §7). Nothing is encoded while no consumer is connected.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "hivewarden/core/report.hpp"
#include "hivewarden/host/reporter.hpp"
#include "hivewarden/producer/socket_producer.hpp"

namespace hivewarden {

struct NotifierStats {
  std::uint64_t records = 0;              // built and handed to the producer
  std::uint64_t skipped_no_consumer = 0;  // not built: nobody listening
  std::uint64_t sync_timeouts = 0;        // the consumer was there but did not answer in time
  std::uint64_t sync_disconnected = 0;    // the consumer went away before answering
  std::uint64_t sync_not_waited = 0;      // sent without waiting: the consumer stopped answering
};

// A consumer that stays connected but stops answering (hung, stopped) would make every sync
// record wait the whole timeout. After this many timeouts in a row the notifier stops waiting:
// sync records go out without a wait (counted), and one of them waits again, as a probe, once
// kSyncProbeInterval has passed; an acknowledgement ends the episode.
inline constexpr std::uint32_t kSyncTimeoutsBeforeNotWaiting = 3;
inline constexpr std::chrono::milliseconds kSyncProbeInterval{1000};

// Records are encoded into a buffer of this size, one per thread; a larger record (long value
// data) is encoded into one of its own.
inline constexpr std::size_t kRecordBufferBytes = 4096;

class Notifier final : public host::Reporter {
 public:
  // `producer` may be null: then nothing is ever built.
  Notifier(SocketProducer* producer, std::chrono::milliseconds sync_timeout);

  // False (and counted as skipped) while no consumer is connected.
  bool accepts(NotifyMode mode) override;
  // Numbers, encodes and sends one record, unless no consumer is connected (then counted as
  // skipped, nothing encoded). A sync record waits for the consumer's acknowledgement, at most the
  // timeout. Returns the record's sequence, 0 if none.
  std::uint64_t send(RecordDraft& draft) override;

  NotifierStats stats() const;

 private:
  SocketProducer* producer_;
  std::chrono::milliseconds sync_timeout_;
  bool connected() const { return producer_ != nullptr && producer_->connected(); }
  void deliver_sync(std::vector<unsigned char> bytes, std::uint64_t sequence);

  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<std::uint64_t> records_{0}, skipped_{0}, timeouts_{0}, lost_{0}, not_waited_{0};
  std::atomic<std::uint32_t> timeouts_in_a_row_{0};
  std::atomic<std::int64_t> last_wait_ns_{0};  // steady clock: when a sync record last waited
};

}  // namespace hivewarden
