#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hivewarden/producer/socket_producer.hpp"

namespace hivewarden {

SocketProducer::SocketProducer(ProducerConfig config) : config_(std::move(config)) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

SocketProducer::~SocketProducer() {
  stop_ = true;
  wake();
  thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  disconnect_locked();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void SocketProducer::wake() {
  const std::uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
}

// Counts and drops the record when there is no consumer; on a full queue counts the overflow
// and makes room (drop_oldest) or drops the new record.
bool SocketProducer::admit_async_locked() {
  if (!connected_) {
    ++stats_.dropped_disconnected;
    return false;
  }
  if (async_queued_ < config_.queue_capacity) return true;
  ++stats_.dropped_overflow;
  if (!config_.drop_oldest) return false;
  // Drop the oldest async record that is not half written.
  for (auto it = queue_.begin() + (written_ > 0 ? 1 : 0); it != queue_.end(); ++it) {
    if (!it->sync) {
      recycle_locked(it->bytes);
      queue_.erase(it);
      --async_queued_;
      break;
    }
  }
  return true;
}

bool SocketProducer::push_async_locked(std::vector<unsigned char> bytes) {
  bool wake_now = queue_.empty();  // the I/O thread may be asleep, or must stop gathering
  queue_.push_back({std::move(bytes), false, 0});
  ++async_queued_;
  if (async_queued_ == config_.queue_capacity / 2 + 1) {  // write before it overflows
    urgent_ = true;
    wake_now = true;
  }
  return wake_now;
}

void SocketProducer::recycle_locked(std::vector<unsigned char>& bytes) {
  if (spare_.size() < kSpareBuffers && bytes.capacity() <= kSpareBufferBytes)
    spare_.push_back(std::move(bytes));
}

void SocketProducer::send_async(std::vector<unsigned char> record) {
  bool wake_now = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!admit_async_locked()) return;
    wake_now = push_async_locked(std::move(record));
  }
  if (wake_now) wake();  // the I/O thread drains everything queued once it is awake
}

void SocketProducer::send_async(const unsigned char* record, std::size_t size) {
  bool wake_now = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!admit_async_locked()) return;
    std::vector<unsigned char> bytes;
    if (!spare_.empty()) {
      bytes = std::move(spare_.back());
      spare_.pop_back();
    }
    bytes.assign(record, record + size);  // within the spare's capacity: no allocation
    wake_now = push_async_locked(std::move(bytes));
  }
  if (wake_now) wake();
}

bool SocketProducer::send_sync(std::vector<unsigned char> record, std::uint64_t sequence,
                               std::chrono::milliseconds timeout, SyncResult* result) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  SyncResult outcome = SyncResult::kDisconnected;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!connected_) {
    ++stats_.dropped_disconnected;
    if (result != nullptr) *result = outcome;
    return false;
  }
  queue_.push_back({std::move(record), true, sequence});
  waiting_.insert(sequence);
  urgent_ = true;
  lock.unlock();
  wake();
  lock.lock();
  const bool answered = changed_.wait_until(lock, deadline, [&] {
    return acked_.count(sequence) > 0 || failed_.count(sequence) > 0 || stop_.load();
  });
  waiting_.erase(sequence);
  failed_.erase(sequence);
  if (acked_.erase(sequence) > 0) {
    outcome = SyncResult::kAcknowledged;
    ++stats_.sync_acked;
  } else if (answered) {  // the consumer went away (or we are stopping): nobody will answer
    ++stats_.dropped_disconnected;
  } else {
    outcome = SyncResult::kTimedOut;
    ++stats_.sync_timeouts;
    // Not yet written: take it back, nobody waits for it any more.
    for (auto it = queue_.begin() + (written_ > 0 ? 1 : 0); it != queue_.end(); ++it) {
      if (it->sync && it->sequence == sequence) {
        queue_.erase(it);
        break;
      }
    }
  }
  if (result != nullptr) *result = outcome;
  return outcome == SyncResult::kAcknowledged;
}

bool SocketProducer::flush(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    urgent_ = true;
  }
  wake();
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return queue_.empty(); });
}

DeliveryStats SocketProducer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

bool SocketProducer::try_connect() {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config_.path.size() >= sizeof addr.sun_path) {
    close(fd);
    return false;
  }
  std::memcpy(addr.sun_path, config_.path.c_str(), config_.path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  fd_ = fd;
  written_ = 0;
  ack_have_ = 0;
  ++stats_.connects;
  connected_ = true;
  return true;
}

// Everything queued for the lost consumer is dropped (async records counted here, sync records by
// their senders); every sync sender still waiting is released at once, whether its record was
// still queued or already written and waiting for an acknowledgement that will never come.
void SocketProducer::disconnect_locked() {
  if (fd_ < 0) return;
  close(fd_);
  fd_ = -1;
  connected_ = false;
  ++stats_.disconnects;
  for (const Item& item : queue_) {
    if (!item.sync) ++stats_.dropped_disconnected;
  }
  for (const std::uint64_t sequence : waiting_) {
    if (acked_.count(sequence) == 0) failed_.insert(sequence);
  }
  queue_.clear();
  async_queued_ = 0;
  written_ = 0;
  ack_have_ = 0;
  changed_.notify_all();
}

// Reads every acknowledgement the socket holds. An ack arriving together with the consumer's
// hang-up is still read (it comes before the end of the stream) before the loss is noticed.
bool SocketProducer::read_acks_locked() {
  // Bounded, so that a peer that never stops writing cannot hold the lock forever.
  for (int reads = 0; reads < 1024; ++reads) {
    const ssize_t n = read(fd_, ack_buffer_ + ack_have_, sizeof ack_buffer_ - ack_have_);
    if (n == 0) return false;  // the consumer closed its end
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    ack_have_ += static_cast<std::size_t>(n);
    if (ack_have_ < sizeof ack_buffer_) continue;
    std::uint32_t magic;
    std::uint64_t sequence;
    std::memcpy(&magic, ack_buffer_, 4);
    std::memcpy(&sequence, ack_buffer_ + 8, 8);
    ack_have_ = 0;
    if (magic != kAckMagic) return false;  // a confused peer: start over with a fresh connection
    if (waiting_.count(sequence) > 0) acked_.insert(sequence);  // a late ack is nobody's
    changed_.notify_all();
  }
  return true;
}

bool SocketProducer::write_queued_locked() {
  constexpr std::size_t kMaxBatch = 256;
  iovec parts[kMaxBatch];
  while (!queue_.empty()) {
    std::size_t count = 0;
    for (auto it = queue_.begin(); it != queue_.end() && count < kMaxBatch; ++it, ++count) {
      const std::size_t skip = count == 0 ? written_ : 0;
      parts[count] = {it->bytes.data() + skip, it->bytes.size() - skip};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = count;
    const ssize_t n = sendmsg(fd_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;  // full: wait for POLLOUT
    auto left = static_cast<std::size_t>(n);
    while (left > 0) {
      Item& item = queue_.front();
      const std::size_t rest = item.bytes.size() - written_;
      if (left < rest) {
        written_ += left;
        return true;  // the socket took part of it: wait for POLLOUT
      }
      left -= rest;
      if (!item.sync) --async_queued_;
      recycle_locked(item.bytes);
      queue_.pop_front();
      written_ = 0;
      ++stats_.sent;
    }
  }
  return true;
}

void SocketProducer::run() {
  bool was_idle = true;  // the queue was empty after the last write
  while (!stop_) {
    if (fd_ < 0) {
      if (!try_connect()) {
        pollfd p{wake_fd_, POLLIN, 0};
        poll(&p, 1, static_cast<int>(config_.reconnect_interval.count()));
        std::uint64_t drained;
        (void)!read(wake_fd_, &drained, sizeof drained);
        continue;
      }
    }
    bool want_write;
    bool linger;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      want_write = !queue_.empty();
      linger = want_write && was_idle && !urgent_ && config_.batch_delay.count() > 0;
      urgent_ = false;
    }
    if (linger) {  // let the records of the next moments join this one (a wake-up cuts it short)
      pollfd w{wake_fd_, POLLIN, 0};
      const auto delay =
          std::chrono::duration_cast<std::chrono::nanoseconds>(config_.batch_delay).count();
      const timespec ts{static_cast<time_t>(delay / 1000000000),
                        static_cast<long>(delay % 1000000000)};
      (void)ppoll(&w, 1, &ts, nullptr);
      was_idle = false;
    }
    pollfd p[2] = {{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0},
                   {wake_fd_, POLLIN, 0}};
    if (poll(p, 2, 100) < 0 && errno != EINTR) break;
    if (p[1].revents & POLLIN) {
      std::uint64_t drained;
      (void)!read(wake_fd_, &drained, sizeof drained);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    // Acknowledgements first: a consumer may answer and hang up in the same moment.
    if ((p[0].revents & (POLLIN | POLLHUP)) && !read_acks_locked()) {
      disconnect_locked();
      continue;
    }
    if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      disconnect_locked();
      continue;
    }
    // Write everything queued until the socket is full: one wake-up, many records.
    if ((p[0].revents & POLLOUT) && !write_queued_locked()) {
      disconnect_locked();
      continue;
    }
    if (want_write) was_idle = queue_.empty();  // a round that only woke up does not end a batch
    changed_.notify_all();
  }
}

}  // namespace hivewarden
