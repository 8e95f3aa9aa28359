// Faults outside the engine: the command line keeps its promises when its output disappears.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace
