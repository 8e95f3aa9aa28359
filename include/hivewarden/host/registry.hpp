// An in-memory registry with the configuration manager's outcomes: case-insensitive,
// case-preserving names (the engine's own folding), typed values, symbolic links, and the
// statuses Windows returns. Keys are named in the kernel form (\REGISTRY\MACHINE\...).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hivewarden/util/ntstatus.hpp"

namespace hivewarden::host {

// NTSTATUS values the registry returns.
enum class Status : std::uint32_t {
  kSuccess = ntstatus::kSuccess,
  kAccessDenied = ntstatus::kAccessDenied,
  kObjectNameInvalid = ntstatus::kObjectNameInvalid,  // a name no key can have (let through)
  kObjectNameNotFound = ntstatus::kObjectNameNotFound,
  kObjectNameCollision = ntstatus::kObjectNameCollision,
  kCannotDelete = ntstatus::kCannotDelete,
  kInvalidParameter = ntstatus::kInvalidParameter,
  kNameTooLong = ntstatus::kNameTooLong,
  kReparseLoop = ntstatus::kReparsePointLoop,  // too many symbolic links
  kUnsuccessful =
      ntstatus::kUnsuccessful,  // a failure the caller asked for (`run`: a line's `status`)
};

// Windows' limits: a key name of 255 units, a tree 512 levels deep below a hive root.
inline constexpr std::size_t kMaxKeyNameLength = 255;
inline constexpr std::size_t kMaxKeyDepth = 512;
// "access-denied", ... (util/ntstatus.hpp's names).
inline std::string status_name(Status s) {
  return ntstatus_name(static_cast<std::uint32_t>(s));
}

struct Value {
  std::u16string name;  // as written
  std::uint32_t type = 0;
  std::string data;  // raw bytes, as Windows stores them
};

// A folded name with its hash, computed once: what a subkey lookup hands the table.
struct FoldedLookup {
  std::u16string_view name;
  std::size_t hash;
};

// Hashes a folded name four units at a time, the units handed in one by one (so that a name can
// be folded and hashed in one pass, without reading back what the fold just stored).
// Seeded per process (from std::random_device), so that names colliding in the table cannot be
// worked out in advance and shipped in a .reg file or hive to make lookups slow.
// A function, not a variable, so that a registry made during static initialisation hashes with
// the same seed as every later lookup.
std::uint64_t folded_name_hash_seed();

class FoldedNameHasher {
 public:
  explicit FoldedNameHasher(std::size_t units) : h_(folded_name_hash_seed() ^ units) {}
  void add(char16_t unit) {
    word_ |= static_cast<std::uint64_t>(unit) << (16 * (count_ & 3));
    if ((++count_ & 3) == 0) mix();
  }
  std::size_t finish() {
    if ((count_ & 3) != 0) mix();
    return static_cast<std::size_t>(h_ ^ (h_ >> 32));
  }

 private:
  void mix() {
    h_ = (h_ ^ word_) * 0xff51afd7ed558ccdULL;
    h_ ^= h_ >> 29;
    word_ = 0;
  }
  std::uint64_t h_;
  std::uint64_t word_ = 0;
  std::uint32_t count_ = 0;
};

inline std::size_t folded_name_hash(std::u16string_view folded) {
  FoldedNameHasher hasher(folded.size());
  for (const char16_t unit : folded) hasher.add(unit);
  return hasher.finish();
}

// Transparent, so that lookups take a folded view (or a FoldedLookup) without building a string.
struct FoldedNameHash {
  using is_transparent = void;
  std::size_t operator()(std::u16string_view folded) const { return folded_name_hash(folded); }
  std::size_t operator()(const FoldedLookup& folded) const { return folded.hash; }
};
struct FoldedNameEqual {
  using is_transparent = void;
  static std::u16string_view name(std::u16string_view n) { return n; }
  static std::u16string_view name(const FoldedLookup& n) { return n.name; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return name(a) == name(b);
  }
};

struct Key;
// A key's subkeys by folded name: one hash and (almost always) one comparison per lookup, where
// an ordered map compared names all the way down. Unordered: walk() sorts them.
using ChildTable =
    std::unordered_map<std::u16string, std::unique_ptr<Key>, FoldedNameHash, FoldedNameEqual>;

struct Key {
  std::u16string name;  // as written
  ChildTable children;  // by folded name
  std::map<std::u16string, Value, std::less<>> values;
  bool link = false;  // a symbolic link: its SymbolicLinkValue (REG_LINK) names the target
};

// A saved subtree (RegSaveKey / RegRestoreKey).
using Subtree = std::unique_ptr<Key>;

// A key named by its path (kernel form, links resolved), and, when a resolve found it, the key
// itself: the operation that follows the resolve then takes it without walking the path again.
// The key found is only used while the registry's structure generation is the one it was found
// in (no key created, deleted, renamed or restored since), so a concurrent delete cannot leave it
// dangling; otherwise the path is walked again, exactly as if nothing had been kept.
class KeyRef {
 public:
  KeyRef(std::u16string_view path) : path_(path) {}    // NOLINT: a path alone names a key
  KeyRef(const std::u16string& path) : path_(path) {}  // NOLINT
  KeyRef(const char16_t* path) : path_(path) {}        // NOLINT
  std::u16string_view path() const { return path_; }

 private:
  friend class Registry;
  std::u16string_view path_;
  Key* key_ = nullptr;  // valid while the registry's generation is generation_
  std::uint64_t generation_ = 0;
};

// A value read together with the resolve (the value before a set-value or delete-value).
struct ValueRead {
  std::u16string_view name;
  Value* out = nullptr;
  bool found = false;
};

// What a resolve found: the path with links resolved (the path given, or `relinked` when a link
// was followed), whether the key is there, and the key kept for the operation. Neither copied nor
// moved: `key` views `relinked` or the caller's path.
struct Resolved {
  Resolved() = default;
  Resolved(const Resolved&) = delete;
  Resolved& operator=(const Resolved&) = delete;

  KeyRef key{std::u16string_view()};
  bool exists = false;
  bool followed_link = false;
  std::u16string relinked;
};

class Registry {
 public:
  Registry();  // \REGISTRY with MACHINE and USER

  // Resolves symbolic links along a kernel-form path (at most 16 hops) into the path of the key
  // it names; returns kObjectNameNotFound for a missing link target, kReparseLoop for a loop.
  // A missing last component is fine (create-key): `exists` says whether it is there. With
  // `open_link` a link named by the last component is not followed (REG_OPTION_OPEN_LINK).
  Status resolve(std::u16string_view path, std::u16string& resolved, bool& exists,
                 bool open_link = false) const;
  // The same resolve in one walk under one shared lock, keeping the key found for the operation
  // (out.key views `path` unless a link was followed), and reading the value `read` names from it
  // (when the key is there) in the same acquisition.
  Status resolve(std::u16string_view path, Resolved& out, bool open_link = false,
                 ValueRead* read = nullptr) const;

  // kNameTooLong for a name over kMaxKeyNameLength or a key deeper than kMaxKeyDepth levels.
  Status create_key(KeyRef key, bool& created, bool link = false);
  // Creates the key and every missing key above it in one walk, as RegCreateKeyEx and regedit
  // do (create_key, like NtCreateKey, wants the parent to be there); `created` counts new keys.
  Status create_key_path(std::u16string_view path, std::size_t& created);
  Status delete_key(KeyRef key);  // kCannotDelete while it has subkeys
  // kNameTooLong for a value name over Windows' 16,383 units.
  Status set_value(KeyRef key, std::u16string_view name, std::uint32_t type, std::string_view data);
  Status delete_value(KeyRef key, std::u16string_view name);
  Status query_value(KeyRef key, std::u16string_view name, Value& out) const;
  // kObjectNameCollision when the new name is taken.
  Status rename_key(KeyRef key, std::u16string_view new_name);
  Status save_key(const std::u16string& path, Subtree& out) const;
  // Replaces the key's values and subkeys with a copy of `saved` (restore and replace alike);
  // kNameTooLong when that would make the tree deeper than kMaxKeyDepth.
  Status restore_key(KeyRef key, const Key& saved);

  bool key_exists(std::u16string_view path) const;
  // Every key, depth first, subkeys in folded-name order, for exports and counts.
  void walk(const std::function<void(const std::u16string& path, const Key& key)>& visit) const;
  std::size_t key_count() const;
  std::size_t value_count() const;

  // Bumped (under the exclusive lock) whenever a key is created, deleted, renamed or restored:
  // what tells a KeyRef whether the key it kept is still the one at its path.
  std::uint64_t generation() const;

 private:
  Key* find(std::u16string_view path) const;  // no links followed
  Key* find_kept(const KeyRef& key) const;    // the key kept, while still valid; else find(path)
  enum class Walk { kFound, kMissing, kNotFound, kRelinked };
  Walk walk_links(std::u16string_view path, bool open_link, Key*& found,
                  std::u16string& target) const;
  Key* find_parent(std::u16string_view path, std::u16string_view& leaf) const;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<Key> root_;
  std::uint64_t generation_ = 1;  // under mutex_
};

// "A\B\C" -> {"A","B","C"}, skipping the leading separator of the kernel form.
std::vector<std::u16string> split_path(const std::u16string& path);
std::u16string fold(std::u16string_view name);

// The components of a path one by one, as views, skipping empty ones (doubled, leading and
// trailing separators), as split_path does, without allocating.
class PathComponents {
 public:
  explicit PathComponents(std::u16string_view path) : rest_(path) {}
  // Inline: every lookup calls it once per component.
  bool next(std::u16string_view& component) {
    std::size_t start = 0;
    while (start < rest_.size() && rest_[start] == u'\\') ++start;
    if (start == rest_.size()) {
      rest_ = {};
      return false;
    }
    std::size_t end = start;
    while (end < rest_.size() && rest_[end] != u'\\') ++end;
    component = rest_.substr(start, end - start);
    rest_.remove_prefix(end);
    return true;
  }
  std::u16string_view rest() const { return rest_; }  // what next() has not handed out yet

 private:
  std::u16string_view rest_;
};

// A name folded for lookups: on the stack for names up to a key name's length.
class FoldedName {
 public:
  explicit FoldedName(std::u16string_view name);
  std::u16string_view view() const { return view_; }
  FoldedLookup lookup() const { return {view_, hash_}; }

 private:
  char16_t local_[kMaxKeyNameLength + 1];
  std::u16string heap_;
  std::u16string_view view_;
  std::size_t hash_ = 0;  // folded_name_hash(view_)
};

}  // namespace hivewarden::host
