// One descriptor per log, opened once: the kind of a file is told from a buffer of its first bytes,
// never by reading it a second time (a FIFO's bytes can be read only once). gzip is inflated here,
// member by member, rather than through gzread: gzread drops what it decompressed in a call that
// ends in damage, and takes bytes after a member that are not a member for the end of the file.
// The inflater is ISA-L's (igzip), several times faster than zlib's on the logs replayed (see
// docs/DESIGN-NOTES.md); it parses each member's gzip header and checks its CRC-32 and length.
#include "hivewarden/replay/byte_source.hpp"

#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {
namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 16;
constexpr unsigned char kGzipMagic[2] = {0x1f, 0x8b};

// After ISA-L's (2.30) inflate the SSE code that follows ran about 15% slower (the replay of the
// OTRF log 2.05 s of CPU instead of 1.78 s); a vzeroupper after each call restores it, so its AVX
// code appears to return with the upper halves of the vector registers dirty.
void clear_upper_vector_state() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx = __builtin_cpu_supports("avx");
  if (avx) asm volatile("vzeroupper" ::: "memory");
#endif
}

// ISA-L's error codes in a few words (zlib's words where the tests and docs quote them).
std::string inflate_error(int rc, const inflate_state& z) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid block";
    case ISAL_INVALID_SYMBOL:
      return "invalid symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:  // the header's CRC-16, or the trailer's CRC-32 or length
      return z.block_state == ISAL_BLOCK_FINISH || z.block_state == ISAL_CHECKSUM_CHECK
                 ? "incorrect data check: CRC-32 or length"
                 : "header crc mismatch";
    default:
      return "error " + std::to_string(rc);
  }
}

}  // namespace

ByteSource::ByteSource()
    : in_(std::make_unique<char[]>(kBufferBytes)), out_(std::make_unique<char[]>(kBufferBytes)) {}

ByteSource::~ByteSource() {
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
    z_ = std::make_unique<inflate_state>();
    start_member();
    z_->next_in = reinterpret_cast<std::uint8_t*>(in_.get());
    z_->avail_in = static_cast<std::uint32_t>(in_size_);
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
      z_->next_in = reinterpret_cast<std::uint8_t*>(in_.get());
      z_->avail_in = static_cast<std::uint32_t>(in_size_);
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

// The bytes the inflater took but has not used yet (whole bytes of its bit buffer) count as unread.
std::string ByteSource::at_byte() const {
  const std::uint64_t held =
      z_ ? z_->avail_in + static_cast<std::uint64_t>(std::max(z_->read_in_length, 0) / 8) : 0;
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
      start_member();
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

void ByteSource::start_member() {
  if (members_ == 0)
    isal_inflate_init(z_.get());
  else
    isal_inflate_reset(z_.get());  // keeps next_in and avail_in (init clears them)
  z_->crc_flag = ISAL_GZIP;        // parse the gzip header, check the trailer's CRC-32 and length
  magic_checked_ = 0;
}

std::string ByteSource::not_a_member() const {
  return "bytes after gzip member " + std::to_string(members_) + " (from compressed byte " +
         std::to_string(member_start_) + ") are not a gzip member";
}

// A member after the first must start with gzip's magic. ISA-L waits for a whole header (10 bytes)
// before it looks at the magic, so a short tail of text would otherwise read as a member cut short.
bool ByteSource::magic_ok() {
  const std::size_t check = std::min<std::size_t>(2 - magic_checked_, z_->avail_in);
  for (std::size_t i = 0; i < check; ++i, ++magic_checked_) {
    if (z_->next_in[i] != kGzipMagic[magic_checked_]) return false;
  }
  return true;
}

bool ByteSource::refill_gzip() {
  while (true) {
    if (z_->avail_in == 0 && !eof_ && !read_stored() && !failure_.empty()) return false;
    if (member_ended_ && !between_members()) return false;
    if (!magic_ok()) {
      failure_ = not_a_member();
      return false;
    }
    z_->next_out = reinterpret_cast<std::uint8_t*>(out_.get());
    z_->avail_out = static_cast<std::uint32_t>(kBufferBytes);
    const std::uint32_t had_in = z_->avail_in;
    const int rc = isal_inflate(z_.get());
    clear_upper_vector_state();
    const std::size_t made = kBufferBytes - z_->avail_out;
    if (rc != ISAL_DECOMP_OK) {
      pending_failure_ = "the compressed file is damaged in gzip member " +
                         std::to_string(members_ + 1) + " " + at_byte() + " (" +
                         inflate_error(rc, *z_) + ")";
    } else if (z_->block_state == ISAL_BLOCK_FINISH) {
      member_ended_ = true;
      ++members_;
    } else if (made == 0 && z_->avail_in == had_in) {
      // Nothing taken and nothing made: the input is used up (the end of the file inside the
      // member, checked only now since output may have been held back) or the inflater is stuck.
      failure_ = eof_ ? "the compressed file is cut short: it ends inside gzip member " +
                            std::to_string(members_ + 1) + " " + at_byte()
                      : "the compressed file is damaged in gzip member " +
                            std::to_string(members_ + 1) + " " + at_byte() + " (no progress)";
      return false;
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
