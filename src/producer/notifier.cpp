#include "hivewarden/producer/notifier.hpp"

#include <utility>

namespace hivewarden {

Notifier::Notifier(SocketProducer* producer, std::chrono::milliseconds sync_timeout)
    : producer_(producer), sync_timeout_(sync_timeout) {}

bool Notifier::accepts(NotifyMode mode) {
  if (mode == NotifyMode::kNone) return false;
  if (connected()) return true;
  skipped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::uint64_t Notifier::send(RecordDraft& draft) {
  if (draft.mode == NotifyMode::kNone) return 0;
  if (!connected()) {  // the consumer left since accepts(): still nothing encoded
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  RecordInput& in = draft.input;
  in.sequence = sequence_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::vector<unsigned char> bytes(record_size(in));
  if (bytes.empty() || encode_record(in, bytes.data(), bytes.size()) == 0) return 0;
  records_.fetch_add(1, std::memory_order_relaxed);
  if (in.type == MessageType::kRegistryEventSync) {
    deliver_sync(std::move(bytes), in.sequence);
  } else {
    producer_->send_async(std::move(bytes));
  }
  return in.sequence;
}

// Waits for the acknowledgement, unless the consumer has stopped answering (then the record goes
// out without a wait, and one record waits again as a probe every kSyncProbeInterval).
void Notifier::deliver_sync(std::vector<unsigned char> bytes, std::uint64_t sequence) {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  const bool unanswering = timeouts_in_a_row_.load() >= kSyncTimeoutsBeforeNotWaiting;
  if (unanswering && now - std::chrono::nanoseconds(last_wait_ns_.load()) < kSyncProbeInterval) {
    not_waited_.fetch_add(1, std::memory_order_relaxed);
    producer_->send_async(std::move(bytes));  // still delivered, only not waited for
    return;
  }
  last_wait_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  SyncResult result = SyncResult::kAcknowledged;
  producer_->send_sync(std::move(bytes), sequence, sync_timeout_, &result);
  if (result == SyncResult::kTimedOut) {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    timeouts_in_a_row_.fetch_add(1, std::memory_order_relaxed);
  } else {
    timeouts_in_a_row_.store(0);
  }
  if (result == SyncResult::kDisconnected) lost_.fetch_add(1, std::memory_order_relaxed);
}

NotifierStats Notifier::stats() const {
  return {records_.load(), skipped_.load(), timeouts_.load(), lost_.load(), not_waited_.load()};
}

}  // namespace hivewarden
