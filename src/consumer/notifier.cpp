#include "hivewarden/consumer/notifier.hpp"

#include <cstring>
#include <vector>

namespace hivewarden {

Notifier::Notifier(SocketProducer* producer, std::chrono::milliseconds sync_timeout)
    : producer_(producer), sync_timeout_(sync_timeout) {}

std::uint64_t Notifier::notify(const NotifyEvent& e) {
  if (producer_ == nullptr || !producer_->connected() || e.mode == NotifyMode::kNone) {
    if (e.mode != NotifyMode::kNone) skipped_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  // Client hashes, distinct, in hit order.
  std::vector<unsigned char> hashes;
  std::uint32_t hash_count = 0;
  if (e.policy != nullptr) {
    for (std::uint32_t i = 0; i < e.hit_count; ++i) {
      const blob::Client& client = e.policy->clients()[e.hits[i].client];
      bool seen = false;
      for (std::uint32_t k = 0; k < hash_count && !seen; ++k)
        seen = std::memcmp(&hashes[k * 16], client.hash, 16) == 0;
      if (seen) continue;
      hashes.insert(hashes.end(), client.hash, client.hash + 16);
      ++hash_count;
    }
  }
  RecordInput in;
  in.type = e.mode == NotifyMode::kSync ? MessageType::kRegistryEventSync
                                        : MessageType::kRegistryEventAsync;
  in.sequence = sequence_.fetch_add(1, std::memory_order_relaxed) + 1;
  in.operation = traits(e.op).pre_class;
  in.status = e.status;
  in.process_id = e.process_id;
  in.process_creation_time = e.process_creation_time;
  in.thread_id = e.thread_id;
  in.session_id = e.session_id;
  in.final_key_rules = e.rules;
  in.flags = (e.denied ? record_flag::kDenied : 0) |
             (e.has_before ? record_flag::kHasDataBefore : 0) |
             (e.has_after ? record_flag::kHasDataAfter : 0) |
             (e.hits_truncated ? record_flag::kHashesTruncated : 0);
  in.value_type_before = e.type_before;
  in.value_size_before = static_cast<std::uint32_t>(e.data_before.size());
  in.value_type_after = e.type_after;
  in.value_size_after = static_cast<std::uint32_t>(e.data_after.size());
  in.key_name = e.key;
  in.value_name = e.value;
  in.new_key_name = e.new_key;
  in.old_file_name = e.old_file;
  in.new_file_name = e.new_file;
  in.data_before = e.data_before;
  in.data_after = e.data_after;
  in.hashes = hashes.data();
  in.hash_count = hash_count;
  std::vector<unsigned char> bytes(record_size(in));
  if (bytes.empty() || encode_record(in, bytes.data(), bytes.size()) == 0) return 0;
  records_.fetch_add(1, std::memory_order_relaxed);
  if (in.type == MessageType::kRegistryEventSync) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    const bool unanswering = timeouts_in_a_row_.load() >= kSyncTimeoutsBeforeNotWaiting;
    if (unanswering && now - std::chrono::nanoseconds(last_wait_ns_.load()) < kSyncProbeInterval) {
      not_waited_.fetch_add(1, std::memory_order_relaxed);
      producer_->send_async(std::move(bytes));  // still delivered, only not waited for
      return in.sequence;
    }
    last_wait_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    SyncResult result = SyncResult::kAcknowledged;
    producer_->send_sync(std::move(bytes), in.sequence, sync_timeout_, &result);
    if (result == SyncResult::kTimedOut) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      timeouts_in_a_row_.fetch_add(1, std::memory_order_relaxed);
    } else {
      timeouts_in_a_row_.store(0);
    }
    if (result == SyncResult::kDisconnected) lost_.fetch_add(1, std::memory_order_relaxed);
  } else {
    producer_->send_async(std::move(bytes));
  }
  return in.sequence;
}

NotifierStats Notifier::stats() const {
  return {records_.load(), skipped_.load(), timeouts_.load(), lost_.load(), not_waited_.load()};
}

}  // namespace hivewarden
