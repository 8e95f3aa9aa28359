// `hivewarden run --export` as a process: bounded memory for a huge export (attack 2 F16) and a
// clear error, not a signal, when the reader of a FIFO goes away (attack 2 F8).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/files.hpp"

namespace hivewarden {
namespace {

namespace fs = std::filesystem;

// Runs the CLI as a shell would (SIGPIPE at its default), stdout to /dev/null and stderr to
// `err_file`; waits for it alone, so that its peak memory is its own.
test::ChildRun run_cli(const std::vector<std::string>& args, const fs::path& err_file) {
  return test::run_hivewarden(args, {.stderr_path = err_file.string()});
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
  test::write_text(file, s);
}

// Attack 2 F16: the export was built whole in memory (427 MB for a 1 MB .reg). Streamed, the
// export's peak is the registry's: within a few MB of the same run without --export.
TEST(RunExport, ExportMemoryIsBoundedByTheRegistryNotTheOutput) {
  if (test::kAddressSanitizedBuild)
    GTEST_SKIP() << "peak memory is not comparable under AddressSanitizer";
  const test::TempDir dir("run-export");
  const fs::path reg = dir / "deep.reg", ops = dir.write("none.jsonl", ""), out = dir / "out.reg",
                 err = dir / "err";
  write_deep_reg(reg, 150000);  // ~70,000 keys, a ~38 MB export
  const test::ChildRun base = run_cli({"run", "--registry", reg, "--ops", ops}, err);
  ASSERT_EQ(base.exit_code, 0) << base.err;  // 128 + a signal when killed by one
  const test::ChildRun exported =
      run_cli({"run", "--registry", reg, "--ops", ops, "--export", out}, err);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto size = fs::file_size(out);
  EXPECT_GT(size, 30u << 20);
  EXPECT_LT(exported.max_rss_kb - base.max_rss_kb, 8 * 1024)
      << "without --export " << base.max_rss_kb << " KB, with " << exported.max_rss_kb
      << " KB, export " << size << " bytes";
}

// Attack 2 F8: the reader of a FIFO takes 10 bytes and leaves; the process used to die of SIGPIPE
// (rc 141, nothing said).
TEST(RunExport, FifoReaderGoingAwayIsAnErrorNotASignal) {
  const test::TempDir dir("run-export");
  const fs::path reg = dir / "big.reg", ops = dir.write("none.jsonl", ""), fifo = dir / "ff",
                 err = dir / "err";
  std::string s = "Windows Registry Editor Version 5.00\r\n\r\n";
  for (int i = 0; i < 20000; ++i)
    s += "[HKEY_LOCAL_MACHINE\\SOFTWARE\\T\\" + std::to_string(i) + "]\r\n\"v\"=\"" +
         std::string(100, 'a') + "\"\r\n";
  test::write_text(reg, s);
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
  const test::ChildRun o = run_cli({"run", "--registry", reg, "--ops", ops, "--export", fifo}, err);
  EXPECT_EQ(reader.get(), 10u);
  ASSERT_EQ(o.signal, 0) << "killed by signal " << o.signal;
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_NE(o.err.find("error: " + fifo.string() + ": cannot write: Broken pipe"),
            std::string::npos)
      << o.err;
}

}  // namespace
}  // namespace hivewarden
