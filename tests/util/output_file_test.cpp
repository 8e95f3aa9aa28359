// The one writer of output files: regular files replaced atomically with their mode kept, devices
// and FIFOs written in place and never replaced, every failure reported with the path.
#include "hivewarden/util/output_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hivewarden::util {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("hw-output-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool is_char_device(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

TEST(OutputFile, NewFileIsWrittenAndNoTemporaryIsLeft) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(write_output_file((dir.path / "new.txt").string(), "hello\n", error)) << error;
  EXPECT_EQ(read(dir.path / "new.txt"), "hello\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
}

TEST(OutputFile, ExistingRegularFileKeepsItsMode) {
  TempDir dir;
  const fs::path file = dir.path / "policy.hwp";
  std::ofstream(file) << "old content that is longer";
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  std::string error;
  ASSERT_TRUE(write_output_file(file.string(), "new", error)) << error;
  EXPECT_EQ(read(file), "new");
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
  TempDir dir;
  const fs::path fifo = dir.path / "pipe";
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
  TempDir dir;
  std::ofstream(dir.path / "target") << "old";
  fs::create_symlink("target", dir.path / "link");
  std::string error;
  ASSERT_TRUE(write_output_file((dir.path / "link").string(), "new", error)) << error;
  EXPECT_TRUE(fs::is_symlink(dir.path / "link"));
  EXPECT_EQ(read(dir.path / "target"), "new");
  fs::create_symlink("missing", dir.path / "dangling");
  EXPECT_FALSE(write_output_file((dir.path / "dangling").string(), "x", error));
  EXPECT_NE(error.find("dangling"), std::string::npos) << error;
}

TEST(OutputFile, MissingDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  const std::string path = (dir.path / "no-such-dir" / "out.json").string();
  std::string error;
  EXPECT_FALSE(write_output_file(path, "x", error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
}

TEST(OutputFile, DirectoryIsAnError) {
  TempDir dir;
  std::string error;
  EXPECT_FALSE(write_output_file(dir.path.string(), "x", error));
  EXPECT_TRUE(fs::is_directory(dir.path));
}

TEST(OutputFile, FullDiskIsAnError) {
  if (!is_char_device("/dev/full")) GTEST_SKIP() << "/dev/full is not a character device here";
  std::string error;
  EXPECT_FALSE(write_output_file("/dev/full", "x", error));
  EXPECT_NE(error.find("/dev/full"), std::string::npos) << error;
  EXPECT_TRUE(is_char_device("/dev/full"));
}

}  // namespace
}  // namespace hivewarden::util
