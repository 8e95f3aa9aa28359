// The consumer side of notification delivery (the service, `hivewarden monitor`): listens on a
// Unix-domain stream socket, decodes each record (SPEC §7) and acknowledges sync records.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include "hivewarden/core/notification.hpp"

namespace hivewarden {

struct ConsumerStats {
  std::uint64_t received = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t acks_sent = 0;
  std::uint64_t connections = 0;
};

class SocketConsumer {
 public:
  // Called for each record on the consumer's thread; returning false withholds a sync record's
  // acknowledgement (a consumer that does not answer).
  using Handler = std::function<bool(const RecordView&)>;
  // Called for a malformed record: what is wrong. The connection is then closed.
  using ErrorHandler = std::function<void(const std::string&)>;

  SocketConsumer(std::string path, Handler handler, ErrorHandler on_error = {});
  ~SocketConsumer();
  SocketConsumer(const SocketConsumer&) = delete;
  SocketConsumer& operator=(const SocketConsumer&) = delete;

  // Binds and listens at the path (replacing a stale socket file) and starts serving.
  bool start(std::string& error);
  // Stops serving, closes every connection and removes the socket file.
  void stop();
  ConsumerStats stats() const;

 private:
  struct Connection {
    int fd;
    std::vector<unsigned char> buffer;
  };
  void run();
  bool drain(Connection& c);

  std::string path_;
  Handler handler_;
  ErrorHandler on_error_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex stats_mutex_;
  ConsumerStats stats_;
  std::vector<Connection> connections_;
  std::thread thread_;
};

}  // namespace hivewarden
