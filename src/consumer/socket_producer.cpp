#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hivewarden/consumer/socket_channel.hpp"

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

void SocketProducer::send_async(std::vector<unsigned char> record) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connected_) {
      ++stats_.dropped_disconnected;
      return;
    }
    if (async_queued_ >= config_.queue_capacity) {
      ++stats_.dropped_overflow;
      if (!config_.drop_oldest) return;
      // Drop the oldest async record that is not half written.
      for (auto it = queue_.begin() + (written_ > 0 ? 1 : 0); it != queue_.end(); ++it) {
        if (!it->sync) {
          queue_.erase(it);
          --async_queued_;
          break;
        }
      }
    }
    was_empty = queue_.empty();
    queue_.push_back({std::move(record), false, 0});
    ++async_queued_;
  }
  if (was_empty) wake();  // the I/O thread drains everything queued once it is awake
}

bool SocketProducer::send_sync(std::vector<unsigned char> record, std::uint64_t sequence,
                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!connected_) {
    ++stats_.dropped_disconnected;
    return false;
  }
  queue_.push_back({std::move(record), true, sequence});
  lock.unlock();
  wake();
  lock.lock();
  const bool answered = changed_.wait_until(lock, deadline, [&] {
    return acked_.count(sequence) > 0 || failed_.count(sequence) > 0 || stop_.load();
  });
  const bool acked = acked_.erase(sequence) > 0;
  failed_.erase(sequence);
  if (acked) {
    ++stats_.sync_acked;
  } else if (!answered) {
    ++stats_.sync_timeouts;
    // Not yet written: take it back, nobody waits for it any more.
    for (auto it = queue_.begin() + (written_ > 0 ? 1 : 0); it != queue_.end(); ++it) {
      if (it->sync && it->sequence == sequence) {
        queue_.erase(it);
        break;
      }
    }
  }
  return acked;
}

bool SocketProducer::flush(std::chrono::milliseconds timeout) {
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
  ++stats_.connects;
  connected_ = true;
  return true;
}

// Everything queued for the lost consumer is dropped and counted; sync senders stop waiting.
void SocketProducer::disconnect_locked() {
  if (fd_ < 0) return;
  close(fd_);
  fd_ = -1;
  connected_ = false;
  ++stats_.disconnects;
  for (const Item& item : queue_) {
    ++stats_.dropped_disconnected;
    if (item.sync) failed_.insert(item.sequence);
  }
  queue_.clear();
  async_queued_ = 0;
  written_ = 0;
  changed_.notify_all();
}

void SocketProducer::run() {
  unsigned char ack_buffer[16];
  std::size_t ack_have = 0;
  while (!stop_) {
    if (fd_ < 0) {
      if (!try_connect()) {
        pollfd p{wake_fd_, POLLIN, 0};
        poll(&p, 1, static_cast<int>(config_.reconnect_interval.count()));
        std::uint64_t drained;
        (void)!read(wake_fd_, &drained, sizeof drained);
        continue;
      }
      ack_have = 0;
    }
    bool want_write;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      want_write = !queue_.empty();
    }
    pollfd p[2] = {{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0}, {wake_fd_, POLLIN, 0}};
    if (poll(p, 2, 100) < 0 && errno != EINTR) break;
    if (p[1].revents & POLLIN) {
      std::uint64_t drained;
      (void)!read(wake_fd_, &drained, sizeof drained);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      disconnect_locked();
      continue;
    }
    if (p[0].revents & POLLIN) {  // acknowledgements
      const ssize_t n = read(fd_, ack_buffer + ack_have, sizeof ack_buffer - ack_have);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        disconnect_locked();
        continue;
      }
      if (n > 0) ack_have += static_cast<std::size_t>(n);
      if (ack_have == sizeof ack_buffer) {
        std::uint32_t magic;
        std::uint64_t sequence;
        std::memcpy(&magic, ack_buffer, 4);
        std::memcpy(&sequence, ack_buffer + 8, 8);
        ack_have = 0;
        if (magic != kAckMagic) {  // a confused peer: start over with a fresh connection
          disconnect_locked();
          continue;
        }
        acked_.insert(sequence);
        changed_.notify_all();
      }
    }
    // Write everything queued until the socket is full: one wake-up, many records.
    bool broken = false;
    while ((p[0].revents & POLLOUT) && !queue_.empty()) {
      Item& item = queue_.front();
      const ssize_t n = send(fd_, item.bytes.data() + written_, item.bytes.size() - written_, MSG_NOSIGNAL);
      if (n < 0) {
        broken = errno != EAGAIN && errno != EINTR;
        break;
      }
      written_ += static_cast<std::size_t>(n);
      if (written_ < item.bytes.size()) break;  // the socket is full: wait for POLLOUT
      if (!item.sync) --async_queued_;
      queue_.pop_front();
      written_ = 0;
      ++stats_.sent;
    }
    if (broken) {
      disconnect_locked();
      continue;
    }
    changed_.notify_all();
  }
}

}  // namespace hivewarden
