// Turns the engine's decisions into notification records and hands them to a producer: a denial
// at pre-operation time, an allowed-and-watched operation at post-operation time (SPEC §4.6-4.7).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "hivewarden/consumer/socket_channel.hpp"
#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/engine.hpp"

namespace hivewarden {

// What the host knows about one reported operation.
struct NotifyEvent {
  Operation op = Operation::kCreateKey;
  NotifyMode mode = NotifyMode::kAsync;
  bool denied = false;
  std::uint32_t status = 0;  // NTSTATUS of the operation (0xC0000022 for a denial)
  std::u16string_view key, value, new_key, old_file, new_file;
  std::uint64_t process_id = 0, process_creation_time = 0, thread_id = 0;
  std::uint32_t session_id = 0;
  Rules rules = 0;
  bool has_before = false, has_after = false;
  std::uint32_t type_before = 0, type_after = 0;
  std::string_view data_before, data_after;
  // The matched clients: hits into `policy`.
  const PolicyView* policy = nullptr;
  const MatchHit* hits = nullptr;
  std::uint32_t hit_count = 0;
  bool hits_truncated = false;
};

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

class Notifier {
 public:
  // `producer` may be null: then nothing is ever built.
  Notifier(SocketProducer* producer, std::chrono::milliseconds sync_timeout);

  // Builds and sends one record, unless no consumer is connected. A sync record waits for the
  // consumer's acknowledgement, at most the timeout. Returns the record's sequence, 0 if none.
  std::uint64_t notify(const NotifyEvent& event);

  NotifierStats stats() const;

 private:
  SocketProducer* producer_;
  std::chrono::milliseconds sync_timeout_;
  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<std::uint64_t> records_{0}, skipped_{0}, timeouts_{0}, lost_{0}, not_waited_{0};
  std::atomic<std::uint32_t> timeouts_in_a_row_{0};
  std::atomic<std::int64_t> last_wait_ns_{0};  // steady clock: when a sync record last waited
};

}  // namespace hivewarden
