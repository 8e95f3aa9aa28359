// `hivewarden run --export` as a process: bounded memory for a huge export (attack 2 F16) and a
// clear error, not a signal, when the reader of a FIFO goes away (attack 2 F8).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("hw-run-export-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

struct Outcome {
  int status = -1;      // as waitpid gives it
  long max_rss_kb = 0;  // this process's own peak
  std::string err;
};

// Runs the CLI with SIGPIPE at its default (as a shell starts it), stdout to /dev/null and stderr
// to `err_file`; waits for it alone, so that its peak memory is its own.
Outcome run_cli(const std::vector<std::string>& args, const fs::path& err_file) {
  std::vector<std::string> all = {HIVEWARDEN_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  Outcome o;
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ) == 0) {
    struct rusage usage {};
    ::wait4(pid, &o.status, 0, &usage);
    o.max_rss_kb = usage.ru_maxrss;
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  std::ifstream in(err_file);
  std::stringstream s;
  s << in.rdbuf();
  o.err = s.str();
  return o;
}

// The attacker's shape, smaller: section headers of ~500 levels, each creating ~500 keys, so that
// the export (full path on every header) is ~270 times the .reg file.
void write_deep_reg(const fs::path& file, std::size_t bytes) {
  std::string comps;
  for (int j = 0; j < 509; ++j) comps += std::string(j ? "\\" : "") + char('a' + j % 26);
  std::string s = "Windows Registry Editor Version 5.00\n\n";
  for (int i = 0; s.size() < bytes; ++i) {
    const std::string n = std::to_string(i);
    s += "[HKEY_LOCAL_MACHINE\\SOFTWARE\\" + n + "\\" +
         comps.substr(0, comps.size() - 2 * n.size()) + "]\n";
  }
  std::ofstream(file, std::ios::binary) << s;
}

// Attack 2 F16: the export was built whole in memory (427 MB for a 1 MB .reg). Streamed, the
// export's peak is the registry's: within a few MB of the same run without --export.
TEST(RunExport, ExportMemoryIsBoundedByTheRegistryNotTheOutput) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "peak memory is not comparable under AddressSanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "peak memory is not comparable under AddressSanitizer";
#endif
#endif
  TempDir dir;
  const fs::path reg = dir.path / "deep.reg", ops = dir.path / "none.jsonl",
                 out = dir.path / "out.reg", err = dir.path / "err";
  write_deep_reg(reg, 150000);  // ~70,000 keys, a ~38 MB export
  std::ofstream(ops).flush();
  const Outcome base = run_cli({"run", "--registry", reg, "--ops", ops}, err);
  ASSERT_TRUE(WIFEXITED(base.status) && WEXITSTATUS(base.status) == 0) << base.err;
  const Outcome exported = run_cli({"run", "--registry", reg, "--ops", ops, "--export", out}, err);
  ASSERT_TRUE(WIFEXITED(exported.status) && WEXITSTATUS(exported.status) == 0) << exported.err;
  const auto size = fs::file_size(out);
  EXPECT_GT(size, 30u << 20);
  EXPECT_LT(exported.max_rss_kb - base.max_rss_kb, 8 * 1024)
      << "without --export " << base.max_rss_kb << " KB, with " << exported.max_rss_kb
      << " KB, export " << size << " bytes";
}

// Attack 2 F8: the reader of a FIFO takes 10 bytes and leaves; the process used to die of SIGPIPE
// (rc 141, nothing said).
TEST(RunExport, FifoReaderGoingAwayIsAnErrorNotASignal) {
  TempDir dir;
  const fs::path reg = dir.path / "big.reg", ops = dir.path / "none.jsonl", fifo = dir.path / "ff",
                 err = dir.path / "err";
  std::string s = "Windows Registry Editor Version 5.00\r\n\r\n";
  for (int i = 0; i < 20000; ++i)
    s += "[HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\" + std::to_string(i) + "]\r\n\"v\"=\"" +
         std::string(100, 'a') + "\"\r\n";
  std::ofstream(reg, std::ios::binary) << s;
  std::ofstream(ops).flush();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The reading end is open before the CLI starts (no reader at all is an error of its own).
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto reader = std::async(std::launch::async, [fd] {
    char buffer[10];
    std::size_t got = 0;
    for (int i = 0; i < 20000 && got < sizeof buffer; ++i) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer - got);
      if (n > 0)
        got += static_cast<std::size_t>(n);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::close(fd);
    return got;
  });
  const Outcome o = run_cli({"run", "--registry", reg, "--ops", ops, "--export", fifo}, err);
  EXPECT_EQ(reader.get(), 10u);
  ASSERT_TRUE(WIFEXITED(o.status)) << "killed by signal " << WTERMSIG(o.status);
  EXPECT_EQ(WEXITSTATUS(o.status), 2) << o.err;
  EXPECT_NE(o.err.find("error: " + fifo.string() + ": cannot write: Broken pipe"),
            std::string::npos)
      << o.err;
}

}  // namespace
