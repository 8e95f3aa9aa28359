// `hivewarden bench` shows what conditions (SPEC §10) cost next to the plain engine: for every
// size, the two conditioned rows, measured on the same paths, with their ratio to the engine's
// row. Only the table's shape is checked here: timings are too noisy for a test.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "hivewarden/cli/commands.hpp"

namespace hivewarden::cli {
namespace {

std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, '|');) {
    const auto first = cell.find_first_not_of(' ');
    if (first != std::string::npos)
      out.push_back(cell.substr(first, cell.find_last_not_of(' ') - first + 1));
  }
  return out;
}

TEST(Bench, ConditionedRowsForEverySize) {
  BenchOptions o;
  o.sizes = {200, 400};
  o.ops = 300;
  o.naive_max = 0;
  o.regex_max = 0;
  o.thread_seconds = 0;
  o.markdown = true;
  o.names = "/nonexistent/names.reg";  // generated names: no shared data needed
  std::ostringstream out;
  ASSERT_EQ(run_bench(o, out), kExitOk);
  for (const std::string size : {"200", "400"}) {
    for (const std::string name : {"hivewarden", "hivewarden, conditions elsewhere",
                                   "hivewarden, every entry conditioned"}) {
      std::istringstream lines(out.str());
      bool found = false;
      for (std::string line; std::getline(lines, line);) {
        const std::vector<std::string> cells = cells_of(line);
        if (cells.size() != 7 || cells[0] != size || cells[1] != name) continue;
        found = true;
        EXPECT_GT(std::stod(cells[5]), 0.0) << line;  // x hivewarden
        if (name == "hivewarden") {
          EXPECT_EQ(cells[5], "1.00") << line;
        }
        EXPECT_EQ(cells[6], "300") << line;  // every operation measured
      }
      EXPECT_TRUE(found) << size << " " << name << "\n" << out.str();
    }
  }
}

}  // namespace
}  // namespace hivewarden::cli
