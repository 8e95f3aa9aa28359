// One writer for every output file: atomic for regular files, in place for everything else.
#include "hivewarden/util/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

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
    if (n <= 0) return false;
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N name a descriptor we already hold:
// writing to it shares the shell's offset and append mode, which reopening the path would not.
int held_descriptor(const std::string& path) {
  if (path == "/dev/stdout") return STDOUT_FILENO;
  if (path == "/dev/stderr") return STDERR_FILENO;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) != 0 || path.size() == n) continue;
    char* end = nullptr;
    const long fd = std::strtol(path.c_str() + n, &end, 10);
    if (*end == '\0' && fd >= 0 && fd <= INT_MAX) return static_cast<int>(fd);
  }
  return -1;
}

bool under_dev_or_proc(const std::string& path) {
  return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0;
}

bool write_in_place(const std::string& path, bool regular, std::string_view content,
                    std::string& error) {
  if (const int held = held_descriptor(path); held >= 0) {
    return write_all(held, content) || fail(error, path, "cannot write");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | (regular ? O_TRUNC : 0));
  if (fd < 0) return fail(error, path, "cannot open for writing");
  if (!write_all(fd, content)) {
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
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = directory + "/." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

bool write_atomically(const std::string& target, const struct stat* existing,
                      std::string_view content, std::string& error) {
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
    step(::fchmod(fd, existing->st_mode & 07777) == 0, "cannot keep the file's mode");
    if (::geteuid() == 0 && cause == 0)
      step(::fchown(fd, existing->st_uid, existing->st_gid) == 0, "cannot keep the file's owner");
  }
  if (cause == 0) step(write_all(fd, content), nullptr);
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
  if (path.empty()) {
    error = "an output path is empty";
    return false;
  }
  if (held_descriptor(path) >= 0) return write_in_place(path, false, content, error);
  std::string target = path;
  struct stat st {};
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
    return write_atomically(target, nullptr, content, error);
  }
  if (!S_ISREG(st.st_mode) || under_dev_or_proc(target))
    return write_in_place(target, S_ISREG(st.st_mode), content, error);
  // A file we may not write is not ours to replace, though its directory would let us rename over
  // it.
  if (::access(target.c_str(), W_OK) != 0) return fail(error, path, "cannot write");
  if (write_atomically(target, &st, content, error)) return true;
  if (target != path) error = path + " (-> " + error + ")";
  return false;
}

}  // namespace hivewarden::util
