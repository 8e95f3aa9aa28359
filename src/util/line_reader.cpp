#include "hivewarden/util/line_reader.hpp"

#include <cstring>

namespace hivewarden {
namespace {
constexpr std::size_t kChunkBytes = 64 * 1024;
}  // namespace

bool LineReader::fill() {
  if (end_) return false;
  buffer_.resize(kChunkBytes);
  in_.read(buffer_.data(), static_cast<std::streamsize>(kChunkBytes));
  const auto got = static_cast<std::size_t>(in_.gcount());
  buffer_.resize(got);
  position_ = 0;
  if (got < kChunkBytes) {
    end_ = true;
    error_ = in_.bad();
  }
  return got > 0;
}

LineReader::Result LineReader::next(std::string& line) {
  line.clear();
  bool too_long = false;
  bool any = false;
  for (;;) {
    if (position_ == buffer_.size() && !fill()) break;
    any = true;
    const char* start = buffer_.data() + position_;
    const std::size_t available = buffer_.size() - position_;
    const void* newline = std::memchr(start, '\n', available);
    const std::size_t take =
        newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - start) : available;
    if (!too_long) {
      if (line.size() + take > max_) {
        too_long = true;
        line.clear();
        line.shrink_to_fit();
      } else {
        line.append(start, take);
      }
    }
    position_ += take;
    if (newline) {
      ++position_;
      ++number_;
      return too_long ? Result::kTooLong : Result::kLine;
    }
  }
  if (error_) return Result::kError;
  if (!any) return Result::kEnd;
  ++number_;  // a last line without a newline
  return too_long ? Result::kTooLong : Result::kLine;
}

}  // namespace hivewarden
