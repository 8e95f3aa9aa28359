// What the event-reader tests share: a temporary directory to write logs into, and reading one
// log into its events, stats and error.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/files.hpp"
#include "../support/gzip.hpp"
#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay::test {

namespace fs = std::filesystem;

// A directory of this process's own (one per instance), removed with everything in it.
struct TempDir : hivewarden::test::TempDir {
  TempDir() : hivewarden::test::TempDir("replay") {}
  // One gzip member of `bytes`, written to the file `name`.
  fs::path write_gzip(const std::string& name, const std::string& bytes) const {
    return write(name, hivewarden::test::gzip(bytes));
  }
};

struct Outcome {
  bool ok = false;
  std::string error;
  std::vector<RegistryEvent> events;
  ReadStats stats;
};

inline Outcome read(const fs::path& path) {
  Outcome o;
  o.ok = read_events(
      path.string(), [&](RegistryEvent&& e) { o.events.push_back(std::move(e)); }, o.stats,
      o.error);
  return o;
}

}  // namespace hivewarden::replay::test

// `text` holds `part`; the whole text is printed when it does not.
#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// A damaged log: the `kept` events before the damage were handed on, and the error names it.
#define EXPECT_DAMAGED(outcome, kept, message)  \
  do {                                          \
    EXPECT_FALSE((outcome).ok);                 \
    EXPECT_EQ((outcome).events.size(), (kept)); \
    EXPECT_HAS((outcome).error, message);       \
  } while (false)
