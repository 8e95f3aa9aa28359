// `hivewarden bench` shows what conditions (SPEC §10) cost next to the plain engine: for every
// size, the two conditioned rows, measured on the same paths, with their ratio to the engine's
// row. Only the table's shape is checked here: timings are too noisy for a test.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/operation_request.hpp"

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

BenchOptions small_bench(bool markdown) {
  BenchOptions o;
  o.sizes = {200, 400};
  o.ops = 300;
  o.naive_max = 0;
  o.regex_max = 0;
  o.thread_seconds = 0;
  o.markdown = markdown;
  o.names = "/nonexistent/names.reg";  // generated names: no shared data needed
  return o;
}

TEST(Bench, ConditionedRowsForEverySize) {
  std::ostringstream out;
  ASSERT_EQ(run_bench(small_bench(true), out), kExitOk);
  for (const std::string size : {"200", "400"}) {
    for (const std::string name : {"hivewarden", "hivewarden, conditions elsewhere",
                                   "hivewarden, every entry conditioned"}) {
      std::istringstream lines(out.str());
      bool found = false;
      for (std::string line; std::getline(lines, line);) {
        const std::vector<std::string> cells = cells_of(line);
        if (cells.size() != 7 || cells[0] != size || cells[1] != name) continue;
        found = true;
        // x hivewarden: a ratio (0.00 when a loaded machine's clock calibration eats a short
        // median: timings are not this test's business).
        EXPECT_GE(std::stod(cells[5]), 0.0) << line;
        if (name == "hivewarden") {
          EXPECT_EQ(cells[5], "1.00") << line;
        }
        EXPECT_EQ(cells[6], "300") << line;  // every operation measured
      }
      EXPECT_TRUE(found) << size << " " << name << "\n" << out.str();
    }
  }
}

// Issue 14: the memory a size costs is printed where a regression shows, one row per size: bytes
// per entry beyond names, and the scratch a deciding thread keeps (DecisionScratch and the host's
// OperationKeys).
TEST(Bench, FootprintRowsForEverySize) {
  const std::size_t scratch = sizeof(DecisionScratch);
  const std::size_t keys = sizeof(OperationKeys);
  for (const bool markdown : {true, false}) {
    std::ostringstream out;
    ASSERT_EQ(run_bench(small_bench(markdown), out), kExitOk);
    for (const std::string size : {"200", "400"}) {
      std::istringstream lines(out.str());
      int found = 0;
      for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> cells;
        if (markdown) {
          cells = cells_of(line);
        } else {
          std::istringstream words(line);
          for (std::string word; words >> word;) cells.push_back(word);
          if (cells.empty() || cells[0] != "footprint") continue;
          cells.erase(cells.begin());
        }
        if (cells.size() != 5 || cells[0] != size) continue;
        ++found;
        EXPECT_GT(std::stod(cells[1]), 0.0) << line;  // bytes per entry beyond names
        EXPECT_EQ(cells[2], std::to_string(scratch + keys)) << line;
        EXPECT_EQ(cells[3], std::to_string(scratch)) << line;
        EXPECT_EQ(cells[4], std::to_string(keys)) << line;
      }
      EXPECT_EQ(found, 1) << size << (markdown ? " (markdown)\n" : " (text)\n") << out.str();
    }
    // The policy lines keep the same number for whoever reads them.
    EXPECT_NE(out.str().find("bytes per entry beyond names)"), std::string::npos) << out.str();
  }
}

}  // namespace
}  // namespace hivewarden::cli
