// Every output file of every command is written here, so none of them can replace a device, lose
// a file's mode or fail silently.
#pragma once

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
// - An existing regular file we may not write is an error, as an in-place write would be. Its
//   other hard links keep the old content (the name gets a new file).
// - A symbolic link is followed: its target is written as above and the link stays a link. A link
//   whose target does not exist is an error (we do not guess where the user meant to write).
// - A missing directory is an error naming the path. Every write, the fsync and the close are
//   checked (a full disk is an error).
bool write_output_file(const std::string& path, std::string_view content, std::string& error);

}  // namespace hivewarden::util
