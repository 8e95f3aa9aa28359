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

// What the registry holds that a hive could exceed: a value name of 16,383 units (key names and
// depth: kMaxKeyNameLength, kMaxKeyDepth).
inline constexpr std::size_t kMaxValueNameLength = 16383;

// What one hive may give, from its size: every key needs a cell of its own (an nk record, at
// least 80 bytes), every value one too (a vk record, at least 24 bytes), and the values' data
// lives in cells of the file (or, up to 4 bytes, inside the vk record). A cell reached twice is
// refused, so a sound hive is always within these and a damaged one costs no more.
inline constexpr std::size_t kMinKeyCellBytes = 80;
inline constexpr std::size_t kMinValueCellBytes = 24;
struct HiveLimits {
  std::size_t max_keys = 0;  // the root included
  std::size_t max_values = 0;
  std::size_t max_data_bytes = 0;  // all values' data together: twice the file's size
};
HiveLimits hive_limits(std::size_t file_size);

// Loads the hive at `file` under `mount` (kernel form, e.g. \REGISTRY\MACHINE\SYSTEM; created if
// missing): the hive's root becomes the mount key. A file that is not a valid hive, or is cut
// short, gives false and an error naming the file; nothing is half-mounted only if the hive could
// not be opened at all (a damaged node inside stops the walk and says where). Errors, each naming
// the key path: a subkey cycle or a key or value reached twice ("a subkey cycle at ..."), a key
// name over 255 units, a key deeper than 512 levels, a value name over 16,383 units, more keys,
// values or data than hive_limits(file size) allows. The walk keeps one path and one subkey list
// per level (at most 512), never a path per pending key.
bool import_hive(const std::string& file, const std::u16string& mount, Registry& registry,
                 HiveImportStats& stats, std::string& error);

}  // namespace hivewarden::host
