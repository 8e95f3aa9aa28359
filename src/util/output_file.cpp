// One writer for every output file: atomic for regular files, in place for everything else;
// streamed in blocks, never held whole.
#include "hivewarden/util/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "hivewarden/util/number.hpp"

namespace hivewarden::util {
namespace {

bool fail(std::string& error, const std::string& path, const std::string& what) {
  error = path + ": " + what + ": " + std::strerror(errno);
  return false;
}

bool write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Collects what a producer hands over in pieces and writes it in blocks, so that an output of any
// size costs one block of memory. After a failed write it takes nothing more (the producer sees
// false and stops) and keeps the errno.
class BlockWriter {
 public:
  explicit BlockWriter(int fd) : fd_(fd) { buffer_.reserve(kBlock); }
  bool put(std::string_view piece) {
    if (cause_ != 0) return false;
    if (buffer_.size() + piece.size() > kBlock && !flush()) return false;
    if (piece.size() >= kBlock) return write(piece);
    buffer_.append(piece);
    return true;
  }
  bool flush() {
    if (cause_ != 0) return false;
    const bool ok = write(buffer_);
    buffer_.clear();
    return ok;
  }
  int cause() const { return cause_; }

 private:
  static constexpr std::size_t kBlock = 1 << 16;
  bool write(std::string_view bytes) {
    if (write_all(fd_, bytes)) return true;
    cause_ = errno != 0 ? errno : EIO;
    return false;
  }
  int fd_;
  std::string buffer_;
  int cause_ = 0;
};

// Runs the producer into `fd`; false with errno set when a write failed or the producer gave up.
bool produce_into(int fd, const OutputProducer& produce) {
  BlockWriter writer(fd);
  const bool produced = produce([&writer](std::string_view piece) { return writer.put(piece); });
  const bool flushed = writer.flush();
  if (writer.cause() != 0) {
    errno = writer.cause();
    return false;
  }
  if (!produced) errno = ECANCELED;
  return produced && flushed;
}

// /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N name a descriptor we already hold:
// writing to it shares the shell's offset and append mode, which reopening the path would not.
int held_descriptor(const std::string& path) {
  if (path == "/dev/stdout") return STDOUT_FILENO;
  if (path == "/dev/stderr") return STDERR_FILENO;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) != 0 || path.size() == n) continue;
    NumberForm form;  // decimal digits only: "/dev/fd/ 1" or "/dev/fd/+1" names no descriptor
    form.base = NumberBase::kDecimal;
    form.bits = 31;
    if (const auto fd = parse_unsigned(std::string_view(path).substr(n), form))
      return static_cast<int>(*fd);
  }
  return -1;
}

bool under_dev_or_proc(const std::string& path) {
  return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0;
}

// A FIFO is opened without blocking first: with no reader, open() would wait forever (ENXIO says
// so at once); the descriptor then blocks again for the writes.
int open_in_place(const std::string& path, const struct stat& st) {
  const int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISREG(st.st_mode) ? O_TRUNC : 0);
  if (!S_ISFIFO(st.st_mode)) return ::open(path.c_str(), flags);
  const int fd = ::open(path.c_str(), flags | O_NONBLOCK);
  if (fd >= 0 && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool write_in_place(const std::string& path, const struct stat& st, const OutputProducer& produce,
                    std::string& error) {
  if (const int held = held_descriptor(path); held >= 0) {
    return produce_into(held, produce) || fail(error, path, "cannot write");
  }
  const int fd = open_in_place(path, st);
  if (fd < 0 && errno == ENXIO && S_ISFIFO(st.st_mode)) {
    error = path + ": no reader on FIFO";
    return false;
  }
  if (fd < 0) return fail(error, path, "cannot open for writing");
  if (!produce_into(fd, produce)) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return fail(error, path, "cannot write");
  }
  return ::close(fd) == 0 || fail(error, path, "cannot write");
}

// A new file in `directory` that no one else has: O_EXCL with a name of our own.
int create_temporary(const std::string& directory, const std::string& base, std::string& temp) {
  static unsigned counter = 0;
  // A name of the target's at most 100 bytes: the temporary must fit the 255-byte name limit
  // whatever the target's length (a 243-byte target name failed with "File name too long").
  const std::string stem = base.substr(0, 100);
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = directory + "/." + stem + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

bool write_atomically(const std::string& target, const struct stat* existing,
                      const OutputProducer& produce, std::string& error) {
  const std::size_t slash = target.rfind('/');
  const std::string directory = slash == std::string::npos ? "."
                                : slash == 0               ? "/"
                                                           : target.substr(0, slash);
  const std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  std::string temp;
  const int fd = create_temporary(directory, base, temp);
  if (fd < 0) {
    return fail(error, target,
                errno == ENOENT ? "directory " + directory + " does not exist"
                                : "cannot create a file in " + directory);
  }
  // Each step runs only if the ones before it worked; `cause` keeps the errno of the first failure.
  std::string what = "cannot write";
  int cause = 0;
  auto step = [&](bool ok, const char* failure) {
    if (!ok && cause == 0) {
      cause = errno != 0 ? errno : EIO;
      if (failure != nullptr) what = failure;
    }
  };
  if (existing != nullptr) {
    // The owner first: chown clears the setuid and setgid bits, chmod then sets them again.
    if (::geteuid() == 0)
      step(::fchown(fd, existing->st_uid, existing->st_gid) == 0, "cannot keep the file's owner");
    if (cause == 0)
      step(::fchmod(fd, existing->st_mode & 07777) == 0, "cannot keep the file's mode");
  }
  if (cause == 0) step(produce_into(fd, produce), nullptr);
  if (cause == 0) step(::fsync(fd) == 0, nullptr);
  step(::close(fd) == 0, nullptr);
  if (cause == 0) step(::rename(temp.c_str(), target.c_str()) == 0, "cannot replace");
  if (cause != 0) {
    ::unlink(temp.c_str());
    errno = cause;
    return fail(error, target, what);
  }
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);  // the rename itself survives a crash; best effort, some file systems refuse
    ::close(dir);
  }
  return true;
}

}  // namespace

bool write_output_file(const std::string& path, std::string_view content, std::string& error) {
  return write_output_file(
      path, [content](const OutputSink& sink) { return sink(content); }, error);
}

bool write_output_file(const std::string& path, const OutputProducer& produce, std::string& error) {
  if (path.empty()) {
    error = "an output path is empty";
    return false;
  }
  struct stat st {};
  if (held_descriptor(path) >= 0) return write_in_place(path, st, produce, error);
  std::string target = path;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr)
      return fail(error, path, "a symbolic link whose target cannot be reached");
    target = resolved;
    std::free(resolved);
  }
  if (::stat(target.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail(error, path, "cannot inspect");
    if (under_dev_or_proc(target)) return fail(error, path, "not created under /dev or /proc");
    return write_atomically(target, nullptr, produce, error);
  }
  if (!S_ISREG(st.st_mode) || under_dev_or_proc(target))
    return write_in_place(target, st, produce, error);
  // A file we may not write is not ours to replace, though its directory would let us rename over
  // it.
  if (::access(target.c_str(), W_OK) != 0) return fail(error, path, "cannot write");
  if (write_atomically(target, &st, produce, error)) return true;
  if (target != path) error = path + " (-> " + error + ")";
  return false;
}

}  // namespace hivewarden::util
