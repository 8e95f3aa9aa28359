// Gzip input for the log readers' tests (the test target links zlib).
#pragma once

#include <zlib.h>

#include <cstddef>
#include <string>

namespace hivewarden::test {

// One gzip member of `unit` repeated `times` times, compressed as a stream: a large member never
// exists uncompressed in this process (a forked child starts with its parent's resident memory
// counted in its ru_maxrss). Level 0 makes stored (type 0) deflate blocks.
inline std::string gzip(const std::string& unit, std::size_t times = 1, int level = 9) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);  // +16: a gzip header
  std::string out;
  char buffer[1 << 16];
  for (std::size_t i = 0; i < times; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(unit.data()));
    z.avail_in = static_cast<uInt>(unit.size());
    const int flush = i + 1 == times ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof buffer;
      deflate(&z, flush);
      out.append(buffer, sizeof buffer - z.avail_out);
    } while (z.avail_out == 0 || (flush == Z_FINISH && z.avail_in > 0));
  }
  deflateEnd(&z);
  return out;
}

}  // namespace hivewarden::test
