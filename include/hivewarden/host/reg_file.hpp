// regedit's text format (.reg): "Windows Registry Editor Version 5.00" (UTF-16LE with BOM, or
// UTF-8) and "REGEDIT4" (8-bit), plus hivexregedit's printable `str(N):"..."` values. Import builds
// a starting registry; export writes one back (regedit's own notation only).
#pragma once

#include <cstddef>
#include <string>

#include "hivewarden/host/registry.hpp"

namespace hivewarden::host {

struct RegImportStats {
  std::size_t keys = 0;     // [key] sections applied
  std::size_t values = 0;   // values set
  std::size_t deleted = 0;  // [-key] and "name"=- applied
};

// Applies a .reg file's content to `registry` (directly, not through callbacks: it is the state
// operations start from). Missing parent keys are created, as regedit does. On a malformed line
// returns false with `error` naming the file and the line; what came before it stays applied.
bool import_reg(const std::string& bytes, const std::string& file_name, Registry& registry,
                RegImportStats& stats, std::string& error);

// The keys at and below `root` (kernel form) as a version 5.00 .reg file in UTF-8 (no BOM), keys
// and values in a stable order.
std::string export_reg(const Registry& registry, const std::u16string& root = u"\\REGISTRY");

// Reads a .reg file's subtree into a detached key (for restore-key / replace-key): the first
// section is the saved key itself, later sections are below it.
bool load_subtree(const std::string& bytes, const std::string& file_name, Subtree& out,
                  std::string& error);

}  // namespace hivewarden::host
