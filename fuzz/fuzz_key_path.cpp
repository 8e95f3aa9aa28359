// Key names from attackers: canonicalisation never reads or writes out of bounds, and what it
// accepts is well formed.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/key_path.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden;
  if (size < 1) return 0;  // first byte: the control set; the rest: UTF-16LE key text
  std::u16string input((size - 1) / 2, u'\0');
  std::memcpy(input.data(), data + 1, input.size() * 2);
  static auto path = std::make_unique<KeyPath>();
  const std::uint32_t control_set = 1 + data[0] % 5;
  const PathStatus status = canonicalize_key(input, {control_set, u"S-1-5-21-1"}, *path);
  if (status != PathStatus::kOk) return 0;
  if (path->count == 0 || path->count > kMaxPathDepth || path->length > kMaxPathUnits) std::abort();
  for (std::uint32_t i = 0; i < path->count; ++i) {
    const std::u16string_view name = path->display_component(i);
    if (name.empty() || name.size() > kMaxComponentUnits || name.find(u'\\') != name.npos)
      std::abort();
    // The word-at-a-time reader folds as the table does (the hash is of the folded units).
    if (path->components[i].hash != folded_component_hash(name)) std::abort();
    if (path->display[path->components[i].offset - 1] != u'\\') std::abort();
  }
  drop_last_component(*path);
  (void)append_component(*path, u"renamed", path->native_form);
  return 0;
}
