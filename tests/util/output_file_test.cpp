// The one writer of output files: regular files replaced atomically with their mode kept, devices
// and FIFOs written in place and never replaced, every failure reported with the path.
#include "hivewarden/util/output_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "../support/files.hpp"

namespace hivewarden::util {
namespace {

namespace fs = std::filesystem;

using test::read_text;
using test::TempDir;

bool is_char_device(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

TEST(OutputFile, NewFileIsWrittenAndNoTemporaryIsLeft) {
  const TempDir dir("output");
  std::string error;
  ASSERT_TRUE(write_output_file((dir.path() / "new.txt").string(), "hello\n", error)) << error;
  EXPECT_EQ(read_text(dir.path() / "new.txt"), "hello\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// Attack on the fixes (F18): a target name of 243 to 255 bytes failed with "File name too long",
// the temporary's name being longer than the target's.
TEST(OutputFile, LongestFileNamesAreWritten) {
  const TempDir dir("output");
  for (const std::size_t length : {243u, 255u}) {
    const fs::path file = dir.path() / std::string(length, 'n');
    std::string error;
    ASSERT_TRUE(write_output_file(file.string(), "x", error)) << length << ": " << error;
    EXPECT_EQ(read_text(file), "x");
    ASSERT_TRUE(write_output_file(file.string(), "y", error))
        << length << ": " << error;  // replaced
    EXPECT_EQ(read_text(file), "y");
  }
}

TEST(OutputFile, ExistingRegularFileKeepsItsMode) {
  const TempDir dir("output");
  const fs::path file = dir.path() / "policy.hwp";
  std::ofstream(file) << "old content that is longer";
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  std::string error;
  ASSERT_TRUE(write_output_file(file.string(), "new", error)) << error;
  EXPECT_EQ(read_text(file), "new");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(OutputFile, DevNullStaysACharacterDevice) {
  if (!is_char_device("/dev/null")) GTEST_SKIP() << "/dev/null is not a character device here";
  std::string error;
  ASSERT_TRUE(write_output_file("/dev/null", "discarded", error)) << error;
  EXPECT_TRUE(is_char_device("/dev/null"));
}

TEST(OutputFile, FifoIsWrittenInPlaceAndStaysAFifo) {
  const TempDir dir("output");
  const fs::path fifo = dir.path() / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // never blocks, so never hangs
  ASSERT_GE(reader, 0);
  std::string error;
  ASSERT_TRUE(write_output_file(fifo.string(), "through the pipe", error)) << error;
  char buffer[64] = {};
  const ssize_t n = ::read(reader, buffer, sizeof buffer);
  ::close(reader);
  EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0), "through the pipe");
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(OutputFile, SymlinkStaysALinkAndItsTargetIsWritten) {
  const TempDir dir("output");
  std::ofstream(dir.path() / "target") << "old";
  fs::create_symlink("target", dir.path() / "link");
  std::string error;
  ASSERT_TRUE(write_output_file((dir.path() / "link").string(), "new", error)) << error;
  EXPECT_TRUE(fs::is_symlink(dir.path() / "link"));
  EXPECT_EQ(read_text(dir.path() / "target"), "new");
  fs::create_symlink("missing", dir.path() / "dangling");
  EXPECT_FALSE(write_output_file((dir.path() / "dangling").string(), "x", error));
  EXPECT_NE(error.find("dangling"), std::string::npos) << error;
}

TEST(OutputFile, MissingDirectoryIsAnErrorNamingThePath) {
  const TempDir dir("output");
  const std::string path = (dir.path() / "no-such-dir" / "out.json").string();
  std::string error;
  EXPECT_FALSE(write_output_file(path, "x", error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
}

TEST(OutputFile, DirectoryIsAnError) {
  const TempDir dir("output");
  std::string error;
  EXPECT_FALSE(write_output_file(dir.path().string(), "x", error));
  EXPECT_TRUE(fs::is_directory(dir.path()));
}

TEST(OutputFile, FullDiskIsAnError) {
  if (!is_char_device("/dev/full")) GTEST_SKIP() << "/dev/full is not a character device here";
  std::string error;
  EXPECT_FALSE(write_output_file("/dev/full", "x", error));
  EXPECT_NE(error.find("/dev/full"), std::string::npos) << error;
  EXPECT_TRUE(is_char_device("/dev/full"));
}

// Attack 2 F9: Linux clears S_ISUID and S_ISGID on chown, so chmod must come after it.
TEST(OutputFile, ReplacedAsRootKeepsSetuidAndSetgid) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root keeps a replaced file's owner";
  const TempDir dir("output");
  for (const mode_t mode : {mode_t{04755}, mode_t{02755}, mode_t{06750}}) {
    const fs::path file = dir.path() / ("mode" + std::to_string(mode));
    std::ofstream(file) << "x";
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    std::string error;
    ASSERT_TRUE(write_output_file(file.string(), "new\n", error)) << error;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode) << file;
    EXPECT_EQ(read_text(file), "new\n");
  }
}

// Attack 2 F8: open() of a FIFO nobody reads used to wait forever. If it still blocks, the test
// opens the reading end itself after a few seconds, so that it fails instead of hanging.
TEST(OutputFile, FifoWithNoReaderIsAnErrorNotAHang) {
  const TempDir dir("output");
  const fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto writing = std::async(std::launch::async, [&] {
    std::string error;
    const bool ok = write_output_file(fifo.string(), "x", error);
    return std::make_pair(ok, error);
  });
  if (writing.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    const int unblock = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    writing.wait();
    ::close(unblock);
    FAIL() << "open() of a FIFO with no reader blocked";
  }
  const auto [ok, error] = writing.get();
  EXPECT_FALSE(ok);
  EXPECT_EQ(error, fifo.string() + ": no reader on FIFO");
  struct stat st {};
  EXPECT_TRUE(::stat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode));
}

// A reader that goes away is a write error naming the path (the CLI ignores SIGPIPE; here the
// test does, as main does).
TEST(OutputFile, FifoWhoseReaderGoesAwayIsAWriteError) {
  const TempDir dir("output");
  const fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto previous = std::signal(SIGPIPE, SIG_IGN);
  auto reader = std::async(std::launch::async, [&] {
    const int fd = ::open(fifo.c_str(), O_RDONLY);
    char buffer[10];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    ::close(fd);
    return n;
  });
  std::string error;
  bool ok = true;
  for (int attempt = 0; attempt < 500 && ok; ++attempt) {  // until the reader is there
    ok = write_output_file(
        fifo.string(),
        [](const OutputSink& sink) {
          const std::string block(1 << 16, 'x');
          for (int i = 0; i < 64; ++i)
            if (!sink(block)) return false;
          return true;
        },
        error);
    if (!ok && error.find("no reader") != std::string::npos) {
      ok = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::signal(SIGPIPE, previous);
  EXPECT_GT(reader.get(), 0);
  EXPECT_FALSE(ok);
  EXPECT_EQ(error, fifo.string() + ": cannot write: Broken pipe");
}

// Attack 2 F16: a producer's pieces go out as they come; what it gives up on leaves the file
// untouched, and a failed write stops the producer.
TEST(OutputFile, StreamedOutputIsWholeOrNothing) {
  const TempDir dir("output");
  const fs::path file = dir.path() / "out.reg";
  std::string error;
  std::string expected;
  ASSERT_TRUE(write_output_file(
      file.string(),
      [&expected](const OutputSink& sink) {
        for (int i = 0; i < 100000; ++i) {
          const std::string line = "[key " + std::to_string(i) + "]\r\n";
          expected += line;
          if (!sink(line)) return false;
        }
        return sink(std::string(200000, 'b')) && (expected += std::string(200000, 'b'), true);
      },
      error))
      << error;
  EXPECT_EQ(read_text(file), expected);
  EXPECT_FALSE(write_output_file(
      file.string(), [](const OutputSink& sink) { return sink("partial") && false; }, error));
  EXPECT_EQ(read_text(file), expected);  // a producer that fails replaces nothing
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  if (is_char_device("/dev/full")) {
    int pieces = 0;
    EXPECT_FALSE(write_output_file(
        "/dev/full",
        [&pieces](const OutputSink& sink) {
          const std::string block(4096, 'x');
          while (pieces < 100000 && sink(block)) ++pieces;
          return pieces == 100000;
        },
        error));
    EXPECT_LT(pieces, 100);  // stopped at the first failed block
    EXPECT_NE(error.find("/dev/full: cannot write"), std::string::npos) << error;
  }
}

// /dev/fd/N and /proc/self/fd/N are written through descriptor N only when N is decimal digits, as
// the kernel spells it. strtol also read " 5", "+5" and "\t5" as 5, so a path that names no file
// wrote into descriptor 5 (whatever it was) instead of failing; now it is opened as the path it is.
TEST(OutputFile, FdPathsWithSignsOrBlanksNameNoDescriptor) {
  if (!fs::is_directory("/proc/self/fd")) GTEST_SKIP() << "no /proc/self/fd here";
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK), 0);
  const std::string fd = std::to_string(pipe_fds[1]);
  const auto pipe_text = [&] {
    char buffer[64];
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  };
  std::string error;
  ASSERT_TRUE(write_output_file("/proc/self/fd/" + fd, "held", error)) << error;
  EXPECT_EQ(pipe_text(), "held");
  for (const std::string& bad : {"/proc/self/fd/+" + fd, "/proc/self/fd/ " + fd,
                                 "/proc/self/fd/\t" + fd, "/dev/fd/+" + fd, "/dev/fd/ " + fd}) {
    error.clear();
    EXPECT_FALSE(write_output_file(bad, "stray", error)) << bad;
    EXPECT_NE(error.find(bad), std::string::npos) << error;
    EXPECT_EQ(pipe_text(), "") << bad;
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace hivewarden::util
