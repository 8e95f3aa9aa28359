#include "hivewarden/host/hive_file.hpp"

#include <hivex.h>
#include <sys/stat.h>

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

// Cells already taken, by offset (hivex's handles are file offsets, 4-aligned): in a sound hive
// every key and every value has a cell of its own, so a cell reached twice is a cycle or a
// shared list, and refusing it keeps the walk finite and the work proportional to the file.
class CellSet {
 public:
  explicit CellSet(std::size_t file_size) : seen_(file_size / 4 + 1) {}
  bool insert(std::size_t offset) {  // false when already there
    const std::size_t i = offset / 4;
    if (i >= seen_.size()) seen_.resize(i + 1);  // the file grew after we measured it
    if (seen_[i]) return false;
    seen_[i] = true;
    return true;
  }

 private:
  std::vector<bool> seen_;
};

// One hive being read: what it may still cost and what it has given so far.
class HiveWalk {
 public:
  HiveWalk(hive_h* hive, const std::string& file, std::size_t file_size, Registry& registry,
           HiveImportStats& stats, std::string& error)
      : hive_(hive),
        file_(file),
        limits_(hive_limits(file_size)),
        cells_(file_size),
        registry_(registry),
        stats_(stats),
        error_(error) {}

  bool run(const std::u16string& mount);

 private:
  // Subkeys still to visit below a key; `path_length` is that key's path length in `path_`.
  struct Frame {
    std::unique_ptr<hive_node_h, FreeDeleter> children;
    std::size_t next = 0;
    std::size_t path_length = 0;
  };

  bool fail(const std::string& what) {
    error_ = file_ + ": " + what;
    return false;
  }
  std::string here() const { return utf16_to_utf8(path_); }
  bool enter(hive_node_h node);  // the key at path_: its values, then a frame for its subkeys
  bool import_values(hive_node_h node);
  bool import_value(hive_value_h value);
  bool create_child(hive_node_h child);  // appends its name to path_ and creates the key

  hive_h* hive_;
  const std::string& file_;
  const HiveLimits limits_;
  CellSet cells_;
  Registry& registry_;
  HiveImportStats& stats_;
  std::string& error_;
  std::u16string path_;
  std::vector<Frame> frames_;
  std::size_t data_bytes_ = 0;
};

bool HiveWalk::run(const std::u16string& mount) {
  const hive_node_h root = hivex_root(hive_);
  if (root == 0) return fail("the hive has no root key");
  cells_.insert(root);
  path_ = mount;
  if (!enter(root)) return false;
  while (!frames_.empty()) {
    Frame& frame = frames_.back();
    path_.resize(frame.path_length);
    const hive_node_h child = frame.children.get()[frame.next];
    if (child == 0) {
      frames_.pop_back();
      continue;
    }
    ++frame.next;
    if (!create_child(child) || !enter(child)) return false;
  }
  return true;
}

bool HiveWalk::enter(hive_node_h node) {
  if (++stats_.keys > limits_.max_keys) {
    return fail("more than " + std::to_string(limits_.max_keys) +
                " keys, more than a file of its size can hold (at " + here() + ")");
  }
  if (!import_values(node)) return false;
  std::unique_ptr<hive_node_h, FreeDeleter> children(hivex_node_children(hive_, node));
  if (!children) {
    return fail("damaged subkey list under " + here() + " (" + std::strerror(errno) + ")");
  }
  // Every subkey is claimed as soon as its list is read, so that no list is held twice.
  for (const hive_node_h* c = children.get(); *c != 0; ++c) {
    if (cells_.insert(*c)) continue;
    const std::optional<std::u16string> name = name16(hivex_node_name(hive_, *c));
    return fail("a subkey cycle at " + here() + "\\" + (name ? utf16_to_utf8(*name) : "?") +
                " (a key reached twice: the hive is damaged)");
  }
  frames_.push_back({std::move(children), 0, path_.size()});
  return true;
}

bool HiveWalk::create_child(hive_node_h child) {
  const std::optional<std::u16string> name = name16(hivex_node_name(hive_, child));
  if (!name || name->empty() || name->find(u'\\') != std::u16string::npos) {
    return fail("a key under " + here() + " has a name the registry cannot hold");
  }
  if (name->size() > kMaxKeyNameLength) {
    return fail("a key under " + here() + " has a name of " + std::to_string(name->size()) +
                " units, over the registry's limit of " + std::to_string(kMaxKeyNameLength));
  }
  path_ += u'\\';
  path_ += *name;
  bool created = false;
  const Status status = registry_.create_key(path_, created);
  if (status == Status::kNameTooLong) {
    return fail("the key " + here() + " is deeper than the registry's limit of " +
                std::to_string(kMaxKeyDepth) + " levels");
  }
  if (status != Status::kSuccess) {
    return fail("cannot create the key " + here() + " (" + status_name(status) + ")");
  }
  return true;
}

bool HiveWalk::import_values(hive_node_h node) {
  std::unique_ptr<hive_value_h, FreeDeleter> values(hivex_node_values(hive_, node));
  if (!values) {
    return fail("damaged value list under " + here() + " (" + std::strerror(errno) + ")");
  }
  for (const hive_value_h* v = values.get(); *v != 0; ++v) {
    if (!cells_.insert(*v)) {
      return fail("a value under " + here() +
                  " is also another key's or listed twice (the hive is damaged)");
    }
    if (!import_value(*v)) return false;
  }
  return true;
}

bool HiveWalk::import_value(hive_value_h value) {
  const std::optional<std::u16string> name = name16(hivex_value_key(hive_, value));
  if (!name) return fail("a value under " + here() + " has a name that cannot be read as text");
  if (name->size() > kMaxValueNameLength) {
    return fail("a value under " + here() + " has a name of " + std::to_string(name->size()) +
                " units, over the registry's limit of " + std::to_string(kMaxValueNameLength));
  }
  if (++stats_.values > limits_.max_values) {
    return fail("more than " + std::to_string(limits_.max_values) +
                " values, more than a file of its size can hold (at " + here() + ")");
  }
  // Hives hold types outside hivex's enum (BCD's 0x221...): keep the raw number, never an enum.
  static_assert(sizeof(hive_type) == sizeof(std::uint32_t));
  std::uint32_t type = 0;
  std::size_t length = 0;
  std::unique_ptr<char, FreeDeleter> data(
      hivex_value_value(hive_, value, reinterpret_cast<hive_type*>(&type), &length));
  if (!data && length != 0) return fail("damaged value data under " + here());
  // Checked after the read (one read costs at most the file), since hivex cuts a declared length
  // longer than its cell down to the cell.
  if (length > limits_.max_data_bytes - data_bytes_) {
    return fail("the values' data is larger than a file of its size can hold (" +
                std::to_string(limits_.max_data_bytes) + " bytes, at " + here() + ")");
  }
  data_bytes_ += length;
  const Status status =
      registry_.set_value(path_, *name, type, std::string(data ? data.get() : "", length));
  if (status != Status::kSuccess) {
    return fail("cannot set a value under " + here() + " (" + status_name(status) + ")");
  }
  return true;
}

}  // namespace

HiveLimits hive_limits(std::size_t file_size) {
  return {file_size / kMinKeyCellBytes, file_size / kMinValueCellBytes, 2 * file_size};
}

bool import_hive(const std::string& file, const std::u16string& mount, Registry& registry,
                 HiveImportStats& stats, std::string& error) {
  struct stat st {};
  std::unique_ptr<hive_h, HiveCloser> hive(hivex_open(file.c_str(), 0));
  if (!hive || ::stat(file.c_str(), &st) != 0) {
    error = file + ": not a readable registry hive (" + std::strerror(errno) + ")";
    return false;
  }
  // Create the mount point and its parents.
  std::size_t mount_keys_made = 0;
  if (registry.create_key_path(mount, mount_keys_made) != Status::kSuccess) {
    error = file + ": cannot mount under " + utf16_to_utf8(mount);
    return false;
  }
  HiveWalk walk(hive.get(), file, static_cast<std::size_t>(st.st_size), registry, stats, error);
  return walk.run(mount);
}

}  // namespace hivewarden::host
