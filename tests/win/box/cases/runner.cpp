// The box's main: runs every case (or those named on the command line), each on a fresh machine
// with the driver not loaded, prints PASS/FAIL per case, exits 1 when any failed.
#include "runner.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "box.hpp"

namespace box::cases {
namespace {
Case g_cases[128];
int g_count = 0;
const char* g_data_dir = ".";
}  // namespace

void Report::fail(const char* format, ...) {
  if (++failures > 12) return;
  std::va_list args;
  va_start(args, format);
  std::printf("    ");
  std::vprintf(format, args);
  std::printf("\n");
  va_end(args);
}

Register::Register(const char* name, CaseFunction run, const char* target) {
  g_cases[g_count++] = Case{name, run, target};
}

const char* data_dir() {
  return g_data_dir;
}

namespace {

bool selected(const char* name, int argc, char** argv) {
  bool any = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0) {
      ++i;
      continue;
    }
    any = true;
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return !any;
}

}  // namespace
}  // namespace box::cases

int main(int argc, char** argv) {
  using namespace box::cases;
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0) g_data_dir = argv[i + 1];
  }
  int failed = 0, ran = 0;
  for (int i = 0; i < g_count; ++i) {
    const Case& c = g_cases[i];
    if (!selected(c.name, argc, argv)) continue;
    std::printf("[ RUN  ] %s\n", c.name);
    box::machine_reset();
    Report report;
    c.run(report);
    if (box::driver_loaded()) box::unload_driver(true);
    box::verify_freed_pool();  // no write after free in this case (a bugcheck if there was)
    ++ran;
    if (report.failures == 0) {
      std::printf("[ PASS ] %s\n", c.name);
    } else {
      ++failed;
      std::printf("[ FAIL ] %s (%d failure%s)%s%s\n", c.name, report.failures,
                  report.failures == 1 ? "" : "s", c.target ? ": waits for " : "",
                  c.target ? c.target : "");
    }
  }
  std::printf(
      "box: %d case(s), %d passed, %d failed; the most stack a driver routine used: %llu "
      "bytes\n",
      ran, ran - failed, failed, static_cast<unsigned long long>(box::most_stack_used()));
  return failed == 0 && ran > 0 ? 0 : 1;
}
