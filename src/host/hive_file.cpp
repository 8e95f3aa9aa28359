#include "hivewarden/host/hive_file.hpp"

#include <hivex.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "hivewarden/util/utf.hpp"

namespace hivewarden::host {
namespace {

struct HiveCloser {
  void operator()(hive_h* h) const { hivex_close(h); }
};
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A name hivex hands back (malloc'd UTF-8, or null when it could not read or convert it). Null
// or malformed is an error, never a stand-in: an empty value name is the default value, and
// U+FFFD would name another key.
std::optional<std::u16string> name16(char* utf8) {
  std::unique_ptr<char, FreeDeleter> owned(utf8);
  if (utf8 == nullptr) return std::nullopt;
  return utf8_to_utf16(utf8);
}

}  // namespace

bool import_hive(const std::string& file, const std::u16string& mount, Registry& registry,
                 HiveImportStats& stats, std::string& error) {
  std::unique_ptr<hive_h, HiveCloser> hive(hivex_open(file.c_str(), 0));
  if (!hive) {
    error = file + ": not a readable registry hive (" + std::strerror(errno) + ")";
    return false;
  }
  // Create the mount point and its parents.
  std::size_t mount_keys_made = 0;
  if (registry.create_key_path(mount, mount_keys_made) != Status::kSuccess) {
    error = file + ": cannot mount under " + utf16_to_utf8(mount);
    return false;
  }
  struct Pending {
    hive_node_h node;
    std::u16string path;
  };
  std::vector<Pending> stack = {{hivex_root(hive.get()), mount}};
  if (stack[0].node == 0) {
    error = file + ": the hive has no root key";
    return false;
  }
  while (!stack.empty()) {
    const Pending here = std::move(stack.back());
    stack.pop_back();
    ++stats.keys;
    std::unique_ptr<hive_value_h, FreeDeleter> values(hivex_node_values(hive.get(), here.node));
    if (!values) {
      error = file + ": damaged value list under " + utf16_to_utf8(here.path) + " (" +
              std::strerror(errno) + ")";
      return false;
    }
    for (hive_value_h* v = values.get(); *v != 0; ++v) {
      const std::optional<std::u16string> name = name16(hivex_value_key(hive.get(), *v));
      if (!name) {
        error = file + ": a value under " + utf16_to_utf8(here.path) +
                " has a name that cannot be read as text";
        return false;
      }
      // Hives hold types outside hivex's enum (BCD's 0x221...): keep the raw number, never an enum.
      static_assert(sizeof(hive_type) == sizeof(std::uint32_t));
      std::uint32_t type = 0;
      std::size_t length = 0;
      std::unique_ptr<char, FreeDeleter> data(
          hivex_value_value(hive.get(), *v, reinterpret_cast<hive_type*>(&type), &length));
      if (!data && length != 0) {
        error = file + ": damaged value data under " + utf16_to_utf8(here.path);
        return false;
      }
      registry.set_value(here.path, *name, type, std::string(data ? data.get() : "", length));
      ++stats.values;
    }
    std::unique_ptr<hive_node_h, FreeDeleter> children(hivex_node_children(hive.get(), here.node));
    if (!children) {
      error = file + ": damaged subkey list under " + utf16_to_utf8(here.path) + " (" +
              std::strerror(errno) + ")";
      return false;
    }
    for (hive_node_h* c = children.get(); *c != 0; ++c) {
      const std::optional<std::u16string> name = name16(hivex_node_name(hive.get(), *c));
      if (!name || name->empty() || name->find(u'\\') != std::u16string::npos) {
        error = file + ": a key under " + utf16_to_utf8(here.path) +
                " has a name the registry cannot hold";
        return false;
      }
      const std::u16string child = here.path + u"\\" + *name;
      bool created = false;
      registry.create_key(child, created);
      stack.push_back({*c, child});
    }
  }
  return true;
}

}  // namespace hivewarden::host
