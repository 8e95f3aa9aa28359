// The bytes of one event log, read from one descriptor opened once (so a FIFO, a pipe or process
// substitution reads like a file), gunzipped as a stream when they start with gzip's magic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct inflate_state;  // ISA-L's (isa-l/igzip_lib.h)

namespace hivewarden::replay {

class ByteSource {
 public:
  ByteSource();
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Opens `path` and reads its first bytes (to tell its kind); false with `error` naming the file
  // when it cannot be opened or read, is a directory, or is empty.
  bool open(const std::string& path, std::string& error);
  bool regular_file() const { return regular_; }
  bool gzip() const { return z_ != nullptr; }
  // The first bytes as stored (up to 8), before any decompression.
  std::string_view stored_head() const { return {head_, head_size_}; }

  // The next byte of the (decompressed) text, or -1 at the end or on a failure (then failure()
  // says which). Every byte decompressed before a damage is handed out before the failure.
  int get() {
    if (at_ == end_ && !refill()) return -1;
    return static_cast<unsigned char>(data_[at_++]);
  }
  int peek() {
    if (at_ == end_ && !refill()) return -1;
    return static_cast<unsigned char>(data_[at_]);
  }
  // The bytes decompressed and not yet handed out (refilled when none are): empty at the end or on
  // a failure. consume(n) hands out n of them.
  std::string_view buffered() {
    if (at_ == end_ && !refill()) return {};
    return {data_ + at_, end_ - at_};
  }
  void consume(std::size_t n) { at_ += n; }
  // Up to `size` bytes; 0 at the end or on a failure.
  std::size_t read(char* into, std::size_t size);
  const std::string& failure() const { return failure_; }

 private:
  bool refill();
  bool refill_gzip();
  bool read_stored();
  bool between_members();
  bool within_ratio();
  void start_member();
  bool magic_ok();
  std::string not_a_member() const;
  std::string at_byte() const;

  int fd_ = -1;
  bool regular_ = false, eof_ = false, member_ended_ = false, padding_ = false;
  std::size_t magic_checked_ = 0;  // bytes of the current member's gzip magic checked so far
  std::uint64_t stored_size_ = 0, stored_read_ = 0, expanded_ = 0, members_ = 0, member_start_ = 0;
  std::unique_ptr<inflate_state> z_;
  char head_[8] = {};
  std::size_t head_size_ = 0;
  std::unique_ptr<char[]> in_, out_;  // stored bytes; decompressed bytes
  std::size_t in_size_ = 0;           // bytes of in_ held (plain files are handed out from in_)
  const char* data_ = nullptr;
  std::size_t at_ = 0, end_ = 0;
  std::string failure_, pending_failure_;
};

}  // namespace hivewarden::replay
