// Faults outside the engine: the command line keeps its promises when its output disappears.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct RunResult {
  int exit_code;
  std::string err;
};

bool is_char_device(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

// Runs the CLI with stdout sent to `out` and returns its exit code and stderr.
RunResult run(const std::string& args, const std::string& out = "/dev/full") {
  const std::string command = std::string(HIVEWARDEN_BINARY) + " " + args + " 2>&1 >" + out;
  FILE* pipe = popen(command.c_str(), "r");
  RunResult r{-1, {}};
  if (pipe == nullptr) return r;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) r.err += buffer;
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(Faults, DiskFullIsAnErrorForEveryPrintingCommand) {
  if (!is_char_device("/dev/full"))
    GTEST_SKIP() << "/dev/full is not a character device here: no full disk to test with";
  const std::string policy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";
  const std::string ops = std::string(HIVEWARDEN_SOURCE_DIR) + "/samples/demo-ops.jsonl";
  for (const std::string& args : std::vector<std::string>{
           "eval --policy " + policy + " --input " + ops, std::string("demo"), "dump " + policy,
           std::string("check --op delete-key --key HKLM\\\\SOFTWARE\\\\X")}) {
    const RunResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("disk full"), std::string::npos) << args << "\n" << r.err;
  }
}

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("hw-faults-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

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
std::vector<std::string> file_writing_commands(const fs::path& dir, const std::string& path) {
  const std::string rules = write_sigma_rule(dir).string();
  std::ofstream(dir / "none.jsonl").flush();
  return {"run --ops " + (dir / "none.jsonl").string() + " --export " + path,
          "compile " + kPolicy + " -o " + path,
          "replay --no-progress " + kLog + " --summary " + path,
          "import-sigma -q " + rules + " -o " + path,
          "import-sigma -q " + rules + " -o " + (dir / "s.yaml").string() + " --report " + path};
}

TEST(Faults, OutputIntoAMissingDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  const std::string path = (dir.path / "nonexistent-dir" / "out").string();
  for (const std::string& args : file_writing_commands(dir.path, path)) {
    const RunResult r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << args << "\n" << r.err;
  }
}

TEST(Faults, OutputToAFullDiskIsAnError) {
  if (!is_char_device("/dev/full"))
    GTEST_SKIP() << "/dev/full is not a character device here: no full disk to test with";
  TempDir dir;
  for (const std::string& args : file_writing_commands(dir.path, "/dev/full")) {
    const RunResult r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << args << "\n" << r.err;
    EXPECT_TRUE(is_char_device("/dev/full"));
  }
}

TEST(Faults, OutputToDevNullLeavesTheDevice) {
  if (!is_char_device("/dev/null")) GTEST_SKIP() << "/dev/null is not a character device here";
  if (::access("/dev", W_OK) != 0)
    GTEST_SKIP() << "cannot write /dev here, so the device could not be replaced anyway";
  TempDir dir;
  for (const std::string& args : file_writing_commands(dir.path, "/dev/null")) {
    const RunResult r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    if (!is_char_device("/dev/null")) {  // put the device back before failing, the machine needs it
      ::unlink("/dev/null");
      ::mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
      FAIL() << args << " replaced /dev/null";
    }
  }
}

TEST(Faults, OutputToAFifoIsWrittenInPlace) {
  TempDir dir;
  const fs::path fifo = dir.path / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& args : file_writing_commands(dir.path, fifo.string())) {
    // A reader that never blocks: a command that does not write the FIFO fails the test, not hangs
    // it.
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    const RunResult r = run(args, "/dev/null");
    std::string got;
    char buffer[4096];
    for (ssize_t n; (n = ::read(reader, buffer, sizeof buffer)) > 0;)
      got.append(buffer, static_cast<std::size_t>(n));
    ::close(reader);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    EXPECT_FALSE(got.empty()) << args;
    struct stat st {};
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << args << " replaced the FIFO";
  }
}

TEST(Faults, OutputOverAFileKeepsItsMode) {
  TempDir dir;
  const fs::path file = dir.path / "out";
  for (const std::string& args : file_writing_commands(dir.path, file.string())) {
    std::ofstream(file) << "old";
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    const RunResult r = run(args, "/dev/null");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u) << args;
    EXPECT_GT(st.st_size, 3) << args;
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
  TempDir dir;
  const std::string err = (dir.path / "err").string();
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"eval", "--policy", policy, "--input", ops}, {"demo"}, {"dump", policy}}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    args.insert(args.begin(), HIVEWARDEN_BINARY);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;  // SIGPIPE at its default, as a shell starts a command
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ), 0);
    ::close(fds[1]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    std::ifstream in(err);
    std::stringstream said;
    said << in.rdbuf();
    ASSERT_TRUE(WIFEXITED(status)) << args[1] << ": killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 2) << args[1] << "\n" << said.str();
    EXPECT_NE(said.str().find("error: writing the output failed"), std::string::npos)
        << args[1] << "\n"
        << said.str();
  }
}

}  // namespace
