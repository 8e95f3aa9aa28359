// Real registry hive files (regf), read with Debian's libhivex, mounted into the in-memory
// registry.
#pragma once

#include <cstddef>
#include <string>

#include "hivewarden/host/registry.hpp"

namespace hivewarden::host {

struct HiveImportStats {
  std::size_t keys = 0;  // the hive's root counts as one, as hivexregedit counts it
  std::size_t values = 0;
};

// Loads the hive at `file` under `mount` (kernel form, e.g. \REGISTRY\MACHINE\SYSTEM; created if
// missing): the hive's root becomes the mount key. A file that is not a valid hive, or is cut
// short, gives false and an error naming the file; nothing is half-mounted only if the hive could
// not be opened at all (a damaged node inside stops the walk and says where).
bool import_hive(const std::string& file, const std::u16string& mount, Registry& registry,
                 HiveImportStats& stats, std::string& error);

}  // namespace hivewarden::host
