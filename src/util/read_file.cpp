#include "hivewarden/util/read_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace hivewarden {

ReadFileStatus read_file_bounded(const std::string& path, std::size_t max_bytes, std::string& bytes,
                                 std::string& why) {
  bytes.clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::string("cannot open: ") + std::strerror(errno);
    return ReadFileStatus::kCannotOpen;
  }
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > max_bytes) {
      bytes.clear();
      bytes.shrink_to_fit();
      why = "larger than " + std::to_string(max_bytes) + " bytes";
      return ReadFileStatus::kTooLarge;
    }
  }
  if (in.bad()) {
    bytes.clear();
    why = std::string("cannot read: ") + std::strerror(errno);
    return ReadFileStatus::kReadError;
  }
  return ReadFileStatus::kOk;
}

}  // namespace hivewarden
