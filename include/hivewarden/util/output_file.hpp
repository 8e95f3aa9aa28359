// Every output file of every command is written here, so none of them can replace a device, lose
// a file's mode or fail silently.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace hivewarden::util {

// Writes `content` to `path`; false with `error` naming the path and the reason.
// - A regular file (or a new one) is written atomically: a temporary file in the same directory,
//   fsync, rename over the target; an existing file keeps its mode (and, as root, its owner).
// - Anything else (a character or block device such as /dev/null, a FIFO, a terminal, a socket,
//   /dev/stdout and everything under /dev or /proc) is written in place, never renamed over;
//   /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N are written through the descriptor
//   already open, so a shell's `>>` keeps appending.
// - An existing regular file we may not write is an error, as an in-place write would be.
// - Hard links: replacing is a rename, so the name written gets a new file and the file's other
//   names keep the old content (the link is broken). Chosen, not overlooked: writing in place
//   would leave a half-written or truncated file behind on a full disk or a crash, which the
//   atomic rename exists to prevent.
// - A FIFO is opened without waiting for a reader: none is the error "no reader on FIFO". A reader
//   that goes away is a write error (EPIPE: main ignores SIGPIPE), not the end of the process.
// - A symbolic link is followed: its target is written as above and the link stays a link. A link
//   whose target does not exist is an error (we do not guess where the user meant to write).
// - A missing directory is an error naming the path. Every write, the fsync and the close are
//   checked (a full disk is an error).
bool write_output_file(const std::string& path, std::string_view content, std::string& error);

// The same, streamed: `produce` hands the content over in pieces through the sink, which writes it
// in 64 KiB blocks (to the temporary file, or in place), so memory stays one block whatever the
// size. The sink returns false once a write has failed; the producer should then stop and return
// false (a producer returning false fails the output too, and a regular file is left untouched).
using OutputSink = std::function<bool(std::string_view piece)>;
using OutputProducer = std::function<bool(const OutputSink& sink)>;
bool write_output_file(const std::string& path, const OutputProducer& produce, std::string& error);

}  // namespace hivewarden::util
