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
  const std::uint64_t size = record_size(in);
  if (size == 0) return 0;
  // Encoded where no allocation is needed: this thread's buffer, unless the record outgrows it.
  thread_local unsigned char buffer[kRecordBufferBytes];
  std::vector<unsigned char> large;
  unsigned char* out = buffer;
  if (size > sizeof buffer) {
    large.resize(size);
    out = large.data();
  }
  if (encode_record(in, out, size) == 0) return 0;
  records_.fetch_add(1, std::memory_order_relaxed);
  if (in.type == MessageType::kRegistryEventSync) {
    if (large.empty()) large.assign(out, out + size);
    deliver_sync(std::move(large), in.sequence);
  } else {
    producer_->send_async(out, size);  // copied into a recycled buffer of the queue
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
