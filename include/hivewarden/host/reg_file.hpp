// regedit's text format (.reg): "Windows Registry Editor Version 5.00" (UTF-16LE with BOM, or
// UTF-8) and "REGEDIT4" (8-bit), plus hivexregedit's printable `str(N):"..."` values. Import builds
// a starting registry; export writes one back (regedit's own notation only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "hivewarden/host/registry.hpp"

namespace hivewarden::host {

struct RegImportStats {
  std::size_t keys = 0;     // [key] sections applied
  std::size_t values = 0;   // values set
  std::size_t deleted = 0;  // [-key] and "name"=- applied
};

// Limits on what the reader takes, so that a hostile file costs bounded time and memory: the
// file's size (as stored: UTF-16 counts two bytes a character), and one logical line's size in
// UTF-8 after continuation lines (a wrapped hex value ending each line with `\`) are joined. A
// whole SYSTEM hive exported by hivexregedit is about 23 MB, its longest line 0.8 MB.
inline constexpr std::size_t kMaxRegFileBytes = 64u << 20;
inline constexpr std::size_t kMaxRegLineBytes = 16u << 20;

// Reads the file at `path` for import_reg, reading no more than the size limit allows (so that a
// huge file, or an endless one such as /dev/zero, is refused without being held in memory).
// False with `error` naming the file and what went wrong.
bool read_reg_file(const std::string& path, std::string& bytes, std::string& error);

// Applies a .reg file's content to `registry` (directly, not through callbacks: it is the state
// operations start from). Missing parent keys are created, as regedit does.
// HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet becomes ControlSet00N for N = `control_set` (the
// policy's, so that the file and the operations name the same keys). On a malformed line
// (including text that is not valid UTF-8 or UTF-16 in a key name, value name or string data) or
// a limit exceeded, returns false with `error` naming the file, the line and what is wrong; what
// came before it stays applied.
bool import_reg(const std::string& bytes, const std::string& file_name, Registry& registry,
                RegImportStats& stats, std::string& error, std::uint32_t control_set = 1);

// The keys at and below `root` (kernel form) as a version 5.00 .reg file in UTF-8 (no BOM), keys
// and values in a stable order.
std::string export_reg(const Registry& registry, const std::u16string& root = u"\\REGISTRY");
// The same, streamed: each key's section goes to `sink` as soon as it is made, so memory stays one
// section (one key's values) whatever the export's size. Stops at the first false from the sink
// and returns false.
bool export_reg(const Registry& registry, const std::u16string& root,
                const std::function<bool(std::string_view)>& sink);

// Reads a .reg file's subtree into a detached key (for restore-key / replace-key): the first
// section is the saved key itself, later sections are below it.
bool load_subtree(const std::string& bytes, const std::string& file_name, Subtree& out,
                  std::string& error, std::uint32_t control_set = 1);

}  // namespace hivewarden::host
