#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hivewarden/consumer/socket_consumer.hpp"

namespace hivewarden {

SocketConsumer::SocketConsumer(std::string path, Handler handler, ErrorHandler on_error)
    : path_(std::move(path)), handler_(std::move(handler)), on_error_(std::move(on_error)) {}

SocketConsumer::~SocketConsumer() {
  stop();
}

bool SocketConsumer::start(std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof addr.sun_path) {
    error =
        "socket path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes: " + path_;
    return false;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = path_ + " exists and is not a socket; refusing to replace it";
      return false;
    }
    unlink(path_.c_str());  // a stale socket from a consumer that died
  }
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 8) != 0) {
    error = path_ + ": " + std::strerror(errno);
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stop_ = false;
  thread_ = std::thread([this] { run(); });
  return true;
}

void SocketConsumer::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  thread_.join();
  for (Connection& c : connections_) close(c.fd);
  connections_.clear();
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  unlink(path_.c_str());
}

ConsumerStats SocketConsumer::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

// Decodes every whole record in the buffer; false when the stream is broken.
bool SocketConsumer::drain(Connection& c) {
  std::size_t at = 0;
  while (c.buffer.size() - at >= 16) {
    std::uint32_t magic, size;
    std::memcpy(&magic, c.buffer.data() + at, 4);
    std::memcpy(&size, c.buffer.data() + at + 8, 4);
    if (magic != kNotificationMagic || size < sizeof(RecordFixed) || size > kMaxRecordBytes) {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++stats_.decode_errors;
      if (on_error_)
        on_error_(magic != kNotificationMagic ? "bad magic in the stream"
                                              : "record size out of range");
      return false;
    }
    if (c.buffer.size() - at < size) break;
    RecordView view;
    RecordError error;
    if (!decode_record(c.buffer.data() + at, size, view, error)) {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++stats_.decode_errors;
      if (on_error_) on_error_(error.what);
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++stats_.received;
    }
    const bool ack = handler_ ? handler_(view) : true;
    if (ack &&
        view.fixed.message_type == static_cast<std::uint16_t>(MessageType::kRegistryEventSync)) {
      unsigned char reply[16] = {};
      std::memcpy(reply, &kAckMagic, 4);
      std::memcpy(reply + 8, &view.fixed.sequence, 8);
      if (send(c.fd, reply, sizeof reply, MSG_NOSIGNAL) == sizeof reply) {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        ++stats_.acks_sent;
      }
    }
    at += size;
  }
  c.buffer.erase(c.buffer.begin(), c.buffer.begin() + static_cast<std::ptrdiff_t>(at));
  return true;
}

void SocketConsumer::run() {
  std::vector<pollfd> fds;
  unsigned char chunk[65536];
  while (!stop_) {
    fds.assign({{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    for (const Connection& c : connections_) fds.push_back({c.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        connections_.push_back({fd, {}});
        std::lock_guard<std::mutex> lock(stats_mutex_);
        ++stats_.connections;
      }
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Connection& c = connections_[i - 2];
      const ssize_t n = recv(c.fd, chunk, sizeof chunk, 0);
      bool keep = n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
      if (n > 0) {
        c.buffer.insert(c.buffer.end(), chunk, chunk + n);
        keep = drain(c);
      }
      if (!keep) {
        close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(connections_, [](const Connection& c) { return c.fd < 0; });
  }
}

}  // namespace hivewarden
