// One descriptor per log, opened once: the kind of a file is told from a buffer of its first bytes,
// never by reading it a second time (a FIFO's bytes can be read only once). gzip is inflated here,
// member by member, rather than through gzread: gzread drops what it decompressed in a call that
// ends in damage, and takes bytes after a member that are not a member for the end of the file.
#include "hivewarden/replay/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {
namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 16;

}  // namespace

ByteSource::ByteSource()
    : in_(std::make_unique<char[]>(kBufferBytes)), out_(std::make_unique<char[]>(kBufferBytes)) {}

ByteSource::~ByteSource() {
  if (z_) inflateEnd(z_.get());
  if (fd_ >= 0) ::close(fd_);
}

bool ByteSource::open(const std::string& path, std::string& error) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
    error = path + ": cannot open (" + std::strerror(errno) + ")";
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = path + ": is a directory, not an event log";
    return false;
  }
  regular_ = S_ISREG(st.st_mode);
  stored_size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
  // The first bytes, however the descriptor hands them out (a pipe may give one at a time).
  while (in_size_ < sizeof head_ && !eof_) {
    const ssize_t n = ::read(fd_, in_.get() + in_size_, kBufferBytes - in_size_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = path + ": cannot read (" + std::strerror(errno) + ")";
      return false;
    }
    eof_ = n == 0;
    in_size_ += static_cast<std::size_t>(n);
  }
  stored_read_ = in_size_;
  if (in_size_ == 0) {
    error = path + ": empty";
    return false;
  }
  head_size_ = std::min(in_size_, sizeof head_);
  std::memcpy(head_, in_.get(), head_size_);
  if (in_size_ >= 2 && head_[0] == '\x1f' && head_[1] == '\x8b') {
    z_ = std::make_unique<z_stream_s>();
    if (inflateInit2(z_.get(), 15 + 16) != Z_OK) {  // +16: gzip members only
      z_.reset();
      error = path + ": cannot start gzip decompression";
      return false;
    }
    z_->next_in = reinterpret_cast<Bytef*>(in_.get());
    z_->avail_in = static_cast<uInt>(in_size_);
  } else {
    data_ = in_.get();
    end_ = in_size_;
  }
  return true;
}

std::size_t ByteSource::read(char* into, std::size_t size) {
  if (at_ == end_ && !refill()) return 0;
  const std::size_t n = std::min(size, end_ - at_);
  std::memcpy(into, data_ + at_, n);
  at_ += n;
  return n;
}

// The next buffer of stored bytes into in_; false at the end (eof_) or on a failure (failure_).
bool ByteSource::read_stored() {
  while (true) {
    const ssize_t n = ::read(fd_, in_.get(), kBufferBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failure_ = std::string("cannot read (") + std::strerror(errno) + ")";
      return false;
    }
    in_size_ = static_cast<std::size_t>(n);
    stored_read_ += in_size_;
    if (z_) {
      z_->next_in = reinterpret_cast<Bytef*>(in_.get());
      z_->avail_in = static_cast<uInt>(in_size_);
    }
    eof_ = n == 0;
    return !eof_;
  }
}

bool ByteSource::refill() {
  if (!failure_.empty()) return false;
  if (!pending_failure_.empty()) {  // damage found after the bytes just handed out
    failure_ = std::move(pending_failure_);
    return false;
  }
  if (z_) return refill_gzip();
  if (eof_ || !read_stored()) return false;
  data_ = in_.get();
  at_ = 0;
  end_ = in_size_;
  return true;
}

std::string ByteSource::at_byte() const {
  const std::uint64_t held = z_ ? z_->avail_in : 0;
  return "at compressed byte " + std::to_string(stored_read_ - held);
}

// A file whose size is known may expand to kMaxGzipRatio times it; a pipe's size is known only as
// it is read, so the bound grows with the bytes read so far.
bool ByteSource::within_ratio() {
  const std::uint64_t stored = regular_ ? stored_size_ : stored_read_;
  const std::uint64_t limit = std::max<std::uint64_t>(stored * kMaxGzipRatio, kMaxRecordBytes);
  if (expanded_ <= limit) return true;
  failure_ = "the compressed file expands past the limit of " + std::to_string(kMaxGzipRatio) +
             " times its size (" + std::to_string(limit) + " bytes)";
  return false;
}

// After a member ends: the next member (true), the end of the file, or zero padding to the end
// (tolerated: some tools pad a file to a block); anything else is damage.
bool ByteSource::between_members() {
  while (true) {
    if (z_->avail_in == 0 && (eof_ || !read_stored())) return false;
    if (!padding_ && z_->next_in[0] != 0) {
      inflateReset(z_.get());
      member_ended_ = false;
      member_start_ = stored_read_ - z_->avail_in;
      return true;
    }
    padding_ = true;
    for (; z_->avail_in > 0; ++z_->next_in, --z_->avail_in) {
      if (z_->next_in[0] != 0) {
        failure_ = "bytes after gzip member " + std::to_string(members_) + " " + at_byte() +
                   " are neither a gzip member nor zero padding";
        return false;
      }
    }
  }
}

bool ByteSource::refill_gzip() {
  while (true) {
    if (z_->avail_in == 0 && !eof_ && !read_stored() && !failure_.empty()) return false;
    if (member_ended_ && !between_members()) return false;
    if (z_->avail_in == 0 && eof_) {
      failure_ = "the compressed file is cut short: it ends inside gzip member " +
                 std::to_string(members_ + 1) + " " + at_byte();
      return false;
    }
    z_->next_out = reinterpret_cast<Bytef*>(out_.get());
    z_->avail_out = static_cast<uInt>(kBufferBytes);
    const int rc = inflate(z_.get(), Z_NO_FLUSH);
    const std::size_t made = kBufferBytes - z_->avail_out;
    if (rc == Z_STREAM_END) {
      member_ended_ = true;
      ++members_;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string what = z_->msg ? z_->msg : "error " + std::to_string(rc);
      pending_failure_ =
          members_ > 0 && z_->total_out == 0 && what == "incorrect header check"
              ? "bytes after gzip member " + std::to_string(members_) + " (from compressed byte " +
                    std::to_string(member_start_) + ") are not a gzip member"
              : "the compressed file is damaged in gzip member " + std::to_string(members_ + 1) +
                    " " + at_byte() + " (" + what + ")";
    }
    expanded_ += made;
    if (!within_ratio()) return false;
    if (made > 0) {
      data_ = out_.get();
      at_ = 0;
      end_ = made;
      return true;
    }
    if (!pending_failure_.empty()) {
      failure_ = std::move(pending_failure_);
      return false;
    }
  }
}

}  // namespace hivewarden::replay
