// Lines of a text stream with a bound on each line's length, so that one huge line (a file with
// no newline, a hostile input) cannot make a reader hold more than the bound in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>

namespace hivewarden {

class LineReader {
 public:
  enum class Result {
    kLine,     // `line` holds the next line (without its `\n`; a final `\r` is kept)
    kTooLong,  // the line was longer than the bound: skipped up to its end, `line` is empty
    kEnd,      // no more lines
    kError,    // the stream failed while reading (an I/O error, not the end)
  };

  LineReader(std::istream& in, std::size_t max_line_bytes) : in_(in), max_(max_line_bytes) {}

  // Reads the next line. Line numbers count from 1 and include too-long lines.
  Result next(std::string& line);

  // The number of the line last returned.
  std::uint64_t line_number() const { return number_; }
  std::size_t max_line_bytes() const { return max_; }

 private:
  bool fill();

  std::istream& in_;
  std::size_t max_;
  std::uint64_t number_ = 0;
  std::string buffer_;
  std::size_t position_ = 0;
  bool end_ = false;
  bool error_ = false;
};

}  // namespace hivewarden
