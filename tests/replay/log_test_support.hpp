// What the event-reader tests share: a temporary directory to write logs into, and reading one
// log into its events, stats and error.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/files.hpp"
#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay::test {

namespace fs = std::filesystem;

// A directory of this process's own (one per instance), removed with everything in it.
struct TempDir : hivewarden::test::TempDir {
  TempDir() : hivewarden::test::TempDir("replay") {}
  fs::path write_gzip(const std::string& name, const std::string& bytes) const {
    gzFile f = gzopen((path() / name).c_str(), "wb9");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return path() / name;
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
