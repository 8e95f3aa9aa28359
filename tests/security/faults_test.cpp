// Faults outside the engine: the command line keeps its promises when its output disappears.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/child_process.hpp"

namespace {

namespace test = hivewarden::test;

bool is_char_device(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

using test::ChildRun;
using test::command_line;
using test::TempDir;
using Args = std::vector<std::string>;

// Runs the CLI with stdout sent to `out` and returns its exit code and stderr.
ChildRun run(const Args& args, const std::string& out = "/dev/full") {
  const TempDir dir("faults-run");
  return test::run_hivewarden(args, {.stdout_path = out, .stderr_path = (dir / "err").string()});
}

TEST(Faults, DiskFullIsAnErrorForEveryPrintingCommand) {
  if (!is_char_device("/dev/full"))
    GTEST_SKIP() << "/dev/full is not a character device here: no full disk to test with";
  const std::string policy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";
  const std::string ops = std::string(HIVEWARDEN_SOURCE_DIR) + "/samples/demo-ops.jsonl";
  for (const Args& args :
       std::vector<Args>{{"eval", "--policy", policy, "--input", ops},
                         {"demo"},
                         {"dump", policy},
                         {"check", "--op", "delete-key", "--key", "HKLM\\SOFTWARE\\X"}}) {
    const ChildRun r = run(args);
    EXPECT_EQ(r.exit_code, 2) << command_line(args) << "\n" << r.err;
    EXPECT_NE(r.err.find("disk full"), std::string::npos) << command_line(args) << "\n" << r.err;
  }
}

namespace fs = std::filesystem;

const std::string kPolicy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";
const std::string kLog =
    std::string(HIVEWARDEN_SOURCE_DIR) + "/tests/replay/regressions/two_events.jsonl";

// A directory of one Sigma registry rule, for import-sigma.
fs::path write_sigma_rule(const fs::path& dir) {
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "r.yml")
      << "title: Debugger\nid: 1111\nlogsource: {category: registry_set, product: windows}\n"
         "detection:\n  selection:\n    TargetObject|endswith: '\\Image File Execution "
         "Options\\sethc.exe\\Debugger'\n  condition: selection\n";
  return dir / "rules";
}

// Every command that writes a file, with `path` as that file.
std::vector<Args> file_writing_commands(const fs::path& dir, const std::string& path) {
  const std::string rules = write_sigma_rule(dir).string();
  std::ofstream(dir / "none.jsonl").flush();
  return {{"run", "--ops", (dir / "none.jsonl").string(), "--export", path},
          {"compile", kPolicy, "-o", path},
          {"replay", "--no-progress", kLog, "--summary", path},
          {"import-sigma", "-q", rules, "-o", path},
          {"import-sigma", "-q", rules, "-o", (dir / "s.yaml").string(), "--report", path}};
}

TEST(Faults, OutputIntoAMissingDirectoryIsAnErrorNamingThePath) {
  const TempDir dir("faults");
  const std::string path = (dir.path() / "nonexistent-dir" / "out").string();
  for (const Args& args : file_writing_commands(dir.path(), path)) {
    const ChildRun r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 2) << command_line(args) << "\n" << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << command_line(args) << "\n" << r.err;
  }
}

TEST(Faults, OutputToAFullDiskIsAnError) {
  if (!is_char_device("/dev/full"))
    GTEST_SKIP() << "/dev/full is not a character device here: no full disk to test with";
  const TempDir dir("faults");
  for (const Args& args : file_writing_commands(dir.path(), "/dev/full")) {
    const ChildRun r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 2) << command_line(args) << "\n" << r.err;
    EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << command_line(args) << "\n" << r.err;
    EXPECT_TRUE(is_char_device("/dev/full"));
  }
}

TEST(Faults, OutputToDevNullLeavesTheDevice) {
  if (!is_char_device("/dev/null")) GTEST_SKIP() << "/dev/null is not a character device here";
  if (::access("/dev", W_OK) != 0)
    GTEST_SKIP() << "cannot write /dev here, so the device could not be replaced anyway";
  const TempDir dir("faults");
  for (const Args& args : file_writing_commands(dir.path(), "/dev/null")) {
    const ChildRun r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 0) << command_line(args) << "\n" << r.err;
    if (!is_char_device("/dev/null")) {  // put the device back before failing, the machine needs it
      ::unlink("/dev/null");
      ::mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
      FAIL() << command_line(args) << " replaced /dev/null";
    }
  }
}

TEST(Faults, OutputToAFifoIsWrittenInPlace) {
  const TempDir dir("faults");
  const fs::path fifo = dir.path() / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const Args& args : file_writing_commands(dir.path(), fifo.string())) {
    // A reader that never blocks: a command that does not write the FIFO fails the test, not hangs
    // it.
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    const ChildRun r = run(args, "/dev/null");
    std::string got;
    char buffer[4096];
    for (ssize_t n; (n = ::read(reader, buffer, sizeof buffer)) > 0;)
      got.append(buffer, static_cast<std::size_t>(n));
    ::close(reader);
    EXPECT_EQ(r.exit_code, 0) << command_line(args) << "\n" << r.err;
    EXPECT_FALSE(got.empty()) << command_line(args);
    struct stat st {};
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << command_line(args) << " replaced the FIFO";
  }
}

TEST(Faults, OutputOverAFileKeepsItsMode) {
  const TempDir dir("faults");
  const fs::path file = dir.path() / "out";
  for (const Args& args : file_writing_commands(dir.path(), file.string())) {
    std::ofstream(file) << "old";
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    const ChildRun r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 0) << command_line(args) << "\n" << r.err;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u) << command_line(args);
    EXPECT_GT(st.st_size, 3) << command_line(args);
  }
}

// Attack 2 F8: stdout into a pipe whose reader has gone (`hivewarden eval ... | head -1` once head
// has left). The process used to die of SIGPIPE without a word; now the write fails with EPIPE and,
// as for a full disk, the command says its output is incomplete and exits 2 (an output that fits
// in the pipe before the reader leaves is simply written: rc 0). The reading end is closed
// before the CLI starts, so the outcome does not depend on timing.
TEST(Faults, StdoutIntoAPipeWithNoReaderIsAnErrorNotASignal) {
  const std::string policy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";
  const std::string ops = std::string(HIVEWARDEN_SOURCE_DIR) + "/samples/demo-ops.jsonl";
  const TempDir dir("faults");
  const std::string err = (dir.path() / "err").string();
  for (const Args& args : std::vector<Args>{
           {"eval", "--policy", policy, "--input", ops}, {"demo"}, {"dump", policy}}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    Args argv = args;
    argv.insert(argv.begin(), test::hivewarden_binary());
    test::Child child(argv, {.stderr_path = err, .stdout_fd = fds[1]});  // SIGPIPE at its default
    ::close(fds[1]);
    ASSERT_TRUE(child.started());
    const ChildRun r = child.wait();
    ASSERT_EQ(r.signal, 0) << args[0] << ": killed by signal " << r.signal;
    EXPECT_EQ(r.exit_code, 2) << args[0] << "\n" << r.err;
    EXPECT_NE(r.err.find("error: writing the output failed"), std::string::npos) << args[0] << "\n"
                                                                                 << r.err;
  }
}

}  // namespace
