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

struct Key {
  std::u16string name;  // as written
  // By folded name; std::less<> so that lookups take a folded view without building a string.
  std::map<std::u16string, std::unique_ptr<Key>, std::less<>> children;
  std::map<std::u16string, Value, std::less<>> values;
  bool link = false;  // a symbolic link: its SymbolicLinkValue (REG_LINK) names the target
};

// A saved subtree (RegSaveKey / RegRestoreKey).
using Subtree = std::unique_ptr<Key>;

class Registry {
 public:
  Registry();  // \REGISTRY with MACHINE and USER

  // Resolves symbolic links along a kernel-form path (at most 16 hops) into the path of the key
  // it names; returns kObjectNameNotFound for a missing link target, kReparseLoop for a loop.
  // A missing last component is fine (create-key): `exists` says whether it is there. With
  // `open_link` a link named by the last component is not followed (REG_OPTION_OPEN_LINK).
  Status resolve(std::u16string_view path, std::u16string& resolved, bool& exists,
                 bool open_link = false) const;

  // kNameTooLong for a name over kMaxKeyNameLength or a key deeper than kMaxKeyDepth levels.
  Status create_key(const std::u16string& path, bool& created, bool link = false);
  // Creates the key and every missing key above it in one walk, as RegCreateKeyEx and regedit
  // do (create_key, like NtCreateKey, wants the parent to be there); `created` counts new keys.
  Status create_key_path(std::u16string_view path, std::size_t& created);
  Status delete_key(const std::u16string& path);  // kCannotDelete while it has subkeys
  // kNameTooLong for a value name over Windows' 16,383 units.
  Status set_value(const std::u16string& path, std::u16string_view name, std::uint32_t type,
                   std::string_view data);
  Status delete_value(const std::u16string& path, std::u16string_view name);
  Status query_value(const std::u16string& path, std::u16string_view name, Value& out) const;
  // kObjectNameCollision when the new name is taken.
  Status rename_key(const std::u16string& path, std::u16string_view new_name);
  Status save_key(const std::u16string& path, Subtree& out) const;
  // Replaces the key's values and subkeys with a copy of `saved` (restore and replace alike);
  // kNameTooLong when that would make the tree deeper than kMaxKeyDepth.
  Status restore_key(const std::u16string& path, const Key& saved);

  bool key_exists(std::u16string_view path) const;
  // Every key, depth first, subkeys in folded-name order, for exports and counts.
  void walk(const std::function<void(const std::u16string& path, const Key& key)>& visit) const;
  std::size_t key_count() const;
  std::size_t value_count() const;

 private:
  Key* find(std::u16string_view path) const;  // no links followed
  Key* find_parent(std::u16string_view path, std::u16string_view& leaf) const;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<Key> root_;
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

 private:
  char16_t local_[kMaxKeyNameLength + 1];
  std::u16string heap_;
  std::u16string_view view_;
};

}  // namespace hivewarden::host
