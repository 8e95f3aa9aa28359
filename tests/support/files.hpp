// Scratch files for tests: a directory that is gone when the test is, whole-file reads and
// writes, and inputs of a stated size.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace hivewarden::test {

// The whole file at `path` ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `bytes` to `path` (binary, replacing it) and gives the path back.
inline std::filesystem::path write_text(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// `unit` repeated as often as it fits in `bytes` (inputs of a stated size).
inline std::string repeat_to(const std::string& unit, std::size_t bytes) {
  std::string out;
  out.reserve(bytes);
  while (out.size() + unit.size() <= bytes) out += unit;
  return out;
}

// A fresh directory hw-<name>-<pid>-<n> under the system's temporary directory, removed with its
// contents on destruction. The pid keeps ctest's parallel test processes apart, n the directories
// of one process.
class TempDir {
 public:
  explicit TempDir(std::string_view name) : path_(fresh_path(name)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Writes `bytes` to the file `name` in this directory; returns its path.
  std::filesystem::path write(const std::string& name, std::string_view bytes) const {
    return write_text(path_ / name, bytes);
  }

 private:
  static std::filesystem::path fresh_path(std::string_view name) {
    static int instances = 0;
    return std::filesystem::temp_directory_path() /
           ("hw-" + std::string(name) + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(instances++));
  }

  std::filesystem::path path_;
};

}  // namespace hivewarden::test
