// Runs a program (usually the hivewarden binary) in a child process with its standard streams
// redirected, and measures it: exit code, wall time and the child's own peak memory (wait4's
// ru_maxrss of this one child, not getrusage(RUSAGE_CHILDREN)'s high-water mark of every child the
// test ran before). A Child that goes out of scope still running is killed and reaped.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "files.hpp"

namespace hivewarden::test {

// Sanitizer builds run the same code several times slower and with shadow memory: there a test
// still checks exit codes and messages, but time and memory are not the product's.
// AddressSanitizer also reserves terabytes of address space, so no address-space limit fits it.
#if defined(__has_feature)  // clang; GCC says __SANITIZE_*__
#define HIVEWARDEN_TEST_HAS_FEATURE(name) __has_feature(name)
#else
#define HIVEWARDEN_TEST_HAS_FEATURE(name) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || HIVEWARDEN_TEST_HAS_FEATURE(address_sanitizer)
inline constexpr bool kAddressSanitizedBuild = true;
#else
inline constexpr bool kAddressSanitizedBuild = false;
#endif
#if defined(__SANITIZE_THREAD__) || HIVEWARDEN_TEST_HAS_FEATURE(thread_sanitizer)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = kAddressSanitizedBuild;
#endif
#undef HIVEWARDEN_TEST_HAS_FEATURE

// Where the child's standard streams go. Paths are opened by the child; stdout_fd, when set,
// replaces stdout_path (e.g. the writing end of a pipe).
struct ChildIo {
  std::string stdin_path = "/dev/null";
  std::string stdout_path = "/dev/null";
  std::string stderr_path = "/dev/null";
  int stdout_fd = -1;
  std::uint64_t address_space_limit = 0;  // RLIMIT_AS in bytes for the child; 0: none
  std::uint64_t cpu_seconds_limit = 0;    // RLIMIT_CPU for the child (SIGXCPU past it); 0: none
};

struct ChildRun {
  int exit_code = -1;  // the exit status, or 128 + the signal that killed it (as a shell says)
  int signal = 0;      // the signal that killed it, 0 when it exited
  long max_rss_kb = 0;
  double seconds = 0;
  std::string out;  // the text of stdout_path / stderr_path when they name regular files
  std::string err;
};

// "arg0 arg1 ...", for failure messages.
inline std::string command_line(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& a : argv) text += (text.empty() ? "" : " ") + a;
  return text;
}

class Child {
 public:
  // Starts argv[0] with the arguments argv[1..]; SIGPIPE starts at its default, as from a shell.
  Child(std::vector<std::string> argv, ChildIo io)
      : io_(std::move(io)), start_(std::chrono::steady_clock::now()) {
    std::vector<char*> args;  // built before fork: the child only opens, dups and execs
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) exec_child(args, io_);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }

  // Waits for the child to end.
  ChildRun wait() { return reap(0).second; }

  // Waits at most `limit`; false when it is still running then (the destructor kills it).
  bool wait_for(std::chrono::milliseconds limit, ChildRun& run) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0) {
      auto [ended, r] = reap(WNOHANG);
      if (ended) {
        run = std::move(r);
        return true;
      }
      if (std::chrono::steady_clock::now() >= until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;  // the destructor kills it
  }

 private:
  [[noreturn]] static void exec_child(std::vector<char*>& args, const ChildIo& io) {
    const int in = ::open(io.stdin_path.c_str(), O_RDONLY);
    const int out = io.stdout_fd >= 0
                        ? io.stdout_fd
                        : ::open(io.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(io.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(127);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::signal(SIGPIPE, SIG_DFL);
    if (io.address_space_limit != 0) {  // a regression must not take the machine with it
      const rlimit limit{io.address_space_limit, io.address_space_limit};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    if (io.cpu_seconds_limit != 0) {  // nor spin on it for ever
      const rlimit limit{io.cpu_seconds_limit, io.cpu_seconds_limit};
      ::setrlimit(RLIMIT_CPU, &limit);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }

  std::pair<bool, ChildRun> reap(int options) {
    ChildRun run;
    if (pid_ <= 0) return {true, run};
    int status = 0;
    rusage usage{};
    const pid_t got = ::wait4(pid_, &status, options, &usage);
    if (got == 0) return {false, run};
    pid_ = -1;
    if (got < 0) return {true, run};
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    run.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + run.signal;
    run.max_rss_kb = usage.ru_maxrss;
    if (io_.stdout_fd < 0 && std::filesystem::is_regular_file(io_.stdout_path))
      run.out = read_text(io_.stdout_path);
    if (std::filesystem::is_regular_file(io_.stderr_path)) run.err = read_text(io_.stderr_path);
    return {true, run};
  }

  ChildIo io_;
  std::chrono::steady_clock::time_point start_;
  pid_t pid_ = -1;
};

// Runs argv to its end.
inline ChildRun run_child(std::vector<std::string> argv, ChildIo io = {}) {
  return Child(std::move(argv), std::move(io)).wait();
}

#ifdef HIVEWARDEN_BINARY
// The hivewarden binary the build made (its target's path, given by CMake).
inline std::string hivewarden_binary() {
  return HIVEWARDEN_BINARY;
}

// Runs `hivewarden args...` to its end.
inline ChildRun run_hivewarden(std::vector<std::string> args, ChildIo io = {}) {
  args.insert(args.begin(), hivewarden_binary());
  return run_child(std::move(args), std::move(io));
}
#endif

}  // namespace hivewarden::test
