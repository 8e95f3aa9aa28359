// Reading a whole input file with a bound, so that a huge file, a pipe that never ends or
// /dev/zero is refused without being held in memory.
#pragma once

#include <cstddef>
#include <string>

namespace hivewarden {

enum class ReadFileStatus { kOk, kCannotOpen, kTooLarge, kReadError };

// Reads the file at `path` into `bytes`, reading no more than `max_bytes` + 1 bytes. Anything but
// kOk leaves `bytes` empty and says why in `why` (without the path: "cannot open: No such file
// or directory", "larger than N bytes", "cannot read: ...").
ReadFileStatus read_file_bounded(const std::string& path, std::size_t max_bytes, std::string& bytes,
                                 std::string& why);

}  // namespace hivewarden
