#include "hivewarden/host/registry.hpp"

#include <algorithm>
#include <mutex>
#include <random>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/reg_types.hpp"

namespace hivewarden::host {

std::uint64_t folded_name_hash_seed() {
  static const std::uint64_t seed = [] {
    std::random_device device;
    return static_cast<std::uint64_t>(device()) << 32 | device();
  }();
  return seed;
}

namespace {

constexpr int kMaxLinkHops = 16;
const std::u16string kLinkValue = u"SYMBOLICLINKVALUE";  // folded

std::unique_ptr<Key> copy(const Key& k) {
  auto out = std::make_unique<Key>();
  out->name = k.name;
  out->values = k.values;
  out->link = k.link;
  for (const auto& [folded, child] : k.children) out->children[folded] = copy(*child);
  return out;
}

Key* child_of(const Key& k, std::u16string_view name) {
  const FoldedName folded(name);
  auto it = k.children.find(folded.lookup());
  return it == k.children.end() ? nullptr : it->second.get();
}

bool read_value(const Key& k, std::u16string_view name, Value& out) {
  auto it = k.values.find(FoldedName(name).view());
  if (it == k.values.end()) return false;
  out = it->second;
  return true;
}

std::size_t component_count(std::u16string_view path) {
  PathComponents parts(path);
  std::u16string_view c;
  std::size_t n = 0;
  while (parts.next(c)) ++n;
  return n;
}

// Whether a key named `leaf`, `components` deep counting \REGISTRY and its hive root (which
// come before the levels Windows counts), is beyond what Windows lets a registry hold.
bool beyond_limits(std::u16string_view leaf, std::size_t components) {
  return leaf.size() > kMaxKeyNameLength || components > kMaxKeyDepth + 2;
}

// A key's subkeys in folded-name order (the table keeps none), for exports.
std::vector<const ChildTable::value_type*> sorted_children(const Key& k) {
  std::vector<const ChildTable::value_type*> out;
  out.reserve(k.children.size());
  for (const auto& entry : k.children) out.push_back(&entry);
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return out;
}

std::size_t count_keys(const Key& k) {
  std::size_t n = 1;
  for (const auto& [f, c] : k.children) n += count_keys(*c);
  return n;
}

std::size_t height(const Key& k) {  // levels below k; bounded, as every tree keeps to kMaxKeyDepth
  std::size_t h = 0;
  for (const auto& [f, c] : k.children) h = std::max(h, 1 + height(*c));
  return h;
}

std::size_t count_values(const Key& k) {
  std::size_t n = k.values.size();
  for (const auto& [f, c] : k.children) n += count_values(*c);
  return n;
}

}  // namespace

std::u16string fold(std::u16string_view name) {
  std::u16string out(name.size(), u'\0');
  fold_units(name, out.data());
  return out;
}

FoldedName::FoldedName(std::u16string_view name) {
  FoldedNameHasher hasher(name.size());
  if (name.size() <= kMaxKeyNameLength + 1) {
    for (std::size_t i = 0; i < name.size(); ++i) {  // fold and hash in one pass
      local_[i] = fold_unit(name[i]);
      hasher.add(local_[i]);
    }
    view_ = {local_, name.size()};
  } else {
    heap_ = fold(name);
    view_ = heap_;
    for (const char16_t unit : view_) hasher.add(unit);
  }
  hash_ = hasher.finish();
}

std::vector<std::u16string> split_path(const std::u16string& path) {
  std::vector<std::u16string> parts;
  std::size_t start = !path.empty() && path[0] == u'\\' ? 1 : 0;
  while (start <= path.size()) {
    std::size_t end = path.find(u'\\', start);
    if (end == std::u16string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Registry::Registry() : root_(std::make_unique<Key>()) {
  root_->name = u"REGISTRY";
  for (const char16_t* hive : {u"MACHINE", u"USER"}) {
    auto k = std::make_unique<Key>();
    k->name = hive;
    root_->children[fold(hive)] = std::move(k);
  }
}

Key* Registry::find(std::u16string_view path) const {
  PathComponents parts(path);
  std::u16string_view c;
  if (!parts.next(c) || !equal_folded(c, u"REGISTRY")) return nullptr;
  Key* k = root_.get();
  while (k != nullptr && parts.next(c)) k = child_of(*k, c);
  return k;
}

Key* Registry::find_kept(const KeyRef& key) const {
  if (key.key_ != nullptr && key.generation_ == generation_) return key.key_;
  return find(key.path_);
}

std::uint64_t Registry::generation() const {
  std::shared_lock lock(mutex_);
  return generation_;
}

Key* Registry::find_parent(std::u16string_view path, std::u16string_view& leaf) const {
  while (!path.empty() && path.back() == u'\\') path.remove_suffix(1);
  const std::size_t cut = path.rfind(u'\\');
  if (cut == std::u16string_view::npos) return nullptr;
  leaf = path.substr(cut + 1);
  return find(path.substr(0, cut));  // nullptr when nothing is left of the parent
}

// One walk of `path` under the caller's lock. A link on the way (not the last component with
// `open_link`) ends it with kRelinked and its target, with the rest of the path, in `target`.
Registry::Walk Registry::walk_links(std::u16string_view path, bool open_link, Key*& found,
                                    std::u16string& target) const {
  PathComponents parts(path);
  std::u16string_view c;
  if (!parts.next(c) || !equal_folded(c, u"REGISTRY")) return Walk::kNotFound;
  Key* k = root_.get();
  while (parts.next(c)) {
    Key* child = child_of(*k, c);
    if (child == nullptr) {  // only the last component may be missing (create-key)
      found = nullptr;
      return component_count(parts.rest()) == 0 ? Walk::kMissing : Walk::kNotFound;
    }
    k = child;
    if (k->link && !(open_link && component_count(parts.rest()) == 0)) {
      auto v = k->values.find(kLinkValue);
      if (v == k->values.end() || v->second.type != reg_type::kLink) return Walk::kNotFound;
      target = read_utf16le(v->second.data);
      while (!target.empty() && target.back() == u'\0') target.pop_back();
      while (parts.next(c)) (target += u'\\') += c;
      return Walk::kRelinked;
    }
  }
  found = k;
  return Walk::kFound;
}

Status Registry::resolve(std::u16string_view path, Resolved& out, bool open_link,
                         ValueRead* read) const {
  std::shared_lock lock(mutex_);
  out.followed_link = false;
  std::u16string_view current = path;
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    Key* k = nullptr;
    std::u16string target;
    const Walk w = walk_links(current, open_link, k, target);
    if (w == Walk::kNotFound) return Status::kObjectNameNotFound;
    if (w == Walk::kRelinked) {
      out.relinked = std::move(target);  // `current` viewed the previous one: done with it
      out.followed_link = true;
      current = out.relinked;
      continue;
    }
    out.key = KeyRef(current);
    out.key.key_ = k;
    out.key.generation_ = generation_;
    out.exists = k != nullptr;
    if (read != nullptr && k != nullptr) read->found = read_value(*k, read->name, *read->out);
    return Status::kSuccess;
  }
  return Status::kReparseLoop;
}

Status Registry::resolve(std::u16string_view path, std::u16string& resolved, bool& exists,
                         bool open_link) const {
  Resolved r;
  const Status st = resolve(path, r, open_link);
  if (st != Status::kSuccess) return st;
  resolved = r.key.path();
  exists = r.exists;
  return st;
}

Status Registry::create_key(KeyRef key, bool& created, bool link) {
  std::unique_lock lock(mutex_);
  created = false;
  const std::u16string_view path = key.path();
  std::u16string_view leaf;
  Key* parent = find_parent(path, leaf);  // one walk: the parent, then the leaf in it
  if (parent == nullptr)
    return find(path) != nullptr ? Status::kSuccess : Status::kObjectNameNotFound;
  if (child_of(*parent, leaf) != nullptr) return Status::kSuccess;  // an open
  if (beyond_limits(leaf, component_count(path))) return Status::kNameTooLong;
  auto k = std::make_unique<Key>();
  k->name = leaf;
  k->link = link;
  parent->children[fold(leaf)] = std::move(k);
  created = true;
  ++generation_;
  return Status::kSuccess;
}

Status Registry::create_key_path(std::u16string_view path, std::size_t& created) {
  std::unique_lock lock(mutex_);
  created = 0;
  PathComponents parts(path);
  std::u16string_view c;
  if (!parts.next(c) || !equal_folded(c, u"REGISTRY")) return Status::kObjectNameNotFound;
  Key* k = root_.get();
  for (std::size_t components = 2; parts.next(c); ++components) {
    const FoldedName folded(c);
    auto it = k->children.find(folded.lookup());
    if (it != k->children.end()) {
      k = it->second.get();
      continue;
    }
    if (beyond_limits(c, components)) return Status::kNameTooLong;
    auto fresh = std::make_unique<Key>();
    fresh->name = c;
    k = k->children.emplace(std::u16string(folded.view()), std::move(fresh)).first->second.get();
    ++created;
    ++generation_;
  }
  return Status::kSuccess;
}

Status Registry::delete_key(KeyRef key) {
  std::unique_lock lock(mutex_);
  const std::u16string_view path = key.path();
  if (component_count(path) <= 2)
    return Status::kCannotDelete;  // \REGISTRY and the hive roots stay
  std::u16string_view leaf;
  Key* parent = find_parent(path, leaf);
  if (parent == nullptr) return Status::kObjectNameNotFound;
  auto it = parent->children.find(FoldedName(leaf).lookup());
  if (it == parent->children.end()) return Status::kObjectNameNotFound;
  if (!it->second->children.empty()) return Status::kCannotDelete;
  parent->children.erase(it);
  ++generation_;
  return Status::kSuccess;
}

Status Registry::set_value(KeyRef key, std::u16string_view name, std::uint32_t type,
                           std::string_view data) {
  if (name.size() > kMaxValueNameUnits) return Status::kNameTooLong;  // Windows' limit
  std::unique_lock lock(mutex_);
  Key* k = find_kept(key);
  if (k == nullptr) return Status::kObjectNameNotFound;
  auto it = k->values.find(FoldedName(name).view());
  if (it != k->values.end()) {  // assigned in place: the strings keep their buffers
    it->second.name.assign(name);
    it->second.type = type;
    it->second.data.assign(data);
  } else {
    k->values.emplace(fold(name), Value{std::u16string(name), type, std::string(data)});
  }
  return Status::kSuccess;
}

Status Registry::delete_value(KeyRef key, std::u16string_view name) {
  if (name.size() > kMaxValueNameUnits) return Status::kNameTooLong;  // Windows' limit
  std::unique_lock lock(mutex_);
  Key* k = find_kept(key);
  if (k == nullptr) return Status::kObjectNameNotFound;
  auto it = k->values.find(FoldedName(name).view());
  if (it == k->values.end()) return Status::kObjectNameNotFound;
  k->values.erase(it);
  return Status::kSuccess;
}

Status Registry::query_value(KeyRef key, std::u16string_view name, Value& out) const {
  std::shared_lock lock(mutex_);
  Key* k = find_kept(key);
  if (k == nullptr || !read_value(*k, name, out)) return Status::kObjectNameNotFound;
  return Status::kSuccess;
}

Status Registry::rename_key(KeyRef key, std::u16string_view new_name) {
  std::unique_lock lock(mutex_);
  const std::u16string_view path = key.path();
  if (new_name.empty() || new_name.find(u'\\') != std::u16string_view::npos)
    return Status::kInvalidParameter;
  if (component_count(path) <= 2) return Status::kAccessDenied;  // the hive roots keep their names
  std::u16string_view leaf;
  Key* parent = find_parent(path, leaf);
  if (parent == nullptr) return Status::kObjectNameNotFound;
  auto it = parent->children.find(FoldedName(leaf).lookup());
  if (it == parent->children.end()) return Status::kObjectNameNotFound;
  const std::u16string target = fold(new_name);
  if (target != it->first && parent->children.count(target)) return Status::kObjectNameCollision;
  std::unique_ptr<Key> moved = std::move(it->second);
  parent->children.erase(it);
  moved->name = new_name;
  parent->children[target] = std::move(moved);
  ++generation_;
  return Status::kSuccess;
}

Status Registry::save_key(const std::u16string& path, Subtree& out) const {
  std::shared_lock lock(mutex_);
  Key* k = find(path);
  if (k == nullptr) return Status::kObjectNameNotFound;
  out = copy(*k);
  return Status::kSuccess;
}

Status Registry::restore_key(KeyRef key, const Key& saved) {
  std::unique_lock lock(mutex_);
  const std::u16string_view path = key.path();
  Key* k = find_kept(key);
  if (k == nullptr) return Status::kObjectNameNotFound;
  // Restoring a key's saved tree below itself would otherwise double its depth each time.
  if (component_count(path) + height(saved) > kMaxKeyDepth + 2) return Status::kNameTooLong;
  auto fresh = copy(saved);
  k->values = std::move(fresh->values);
  k->children = std::move(fresh->children);
  ++generation_;  // the keys below k are gone
  return Status::kSuccess;
}

bool Registry::key_exists(std::u16string_view path) const {
  std::shared_lock lock(mutex_);
  return find(path) != nullptr;
}

void Registry::walk(const std::function<void(const std::u16string&, const Key&)>& visit) const {
  std::shared_lock lock(mutex_);
  std::function<void(const std::u16string&, const Key&)> rec = [&](const std::u16string& p,
                                                                   const Key& k) {
    visit(p, k);
    for (const auto* entry : sorted_children(k))
      rec(p + u"\\" + entry->second->name, *entry->second);
  };
  rec(u"\\REGISTRY", *root_);
}

std::size_t Registry::key_count() const {
  std::shared_lock lock(mutex_);
  return count_keys(*root_);
}

std::size_t Registry::value_count() const {
  std::shared_lock lock(mutex_);
  return count_values(*root_);
}

}  // namespace hivewarden::host
