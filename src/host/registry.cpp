#include "hivewarden/host/registry.hpp"

#include <mutex>

#include "hivewarden/core/case_fold.hpp"

namespace hivewarden::host {
namespace {

constexpr int kMaxLinkHops = 16;
constexpr std::uint32_t kRegLink = 6;
const std::u16string kLinkValue = u"SYMBOLICLINKVALUE";  // folded

std::unique_ptr<Key> copy(const Key& k) {
  auto out = std::make_unique<Key>();
  out->name = k.name;
  out->values = k.values;
  out->link = k.link;
  for (const auto& [folded, child] : k.children) out->children[folded] = copy(*child);
  return out;
}

std::u16string join(const std::vector<std::u16string>& parts, std::size_t count) {
  std::u16string out;
  for (std::size_t i = 0; i < count; ++i) out += u"\\" + parts[i];
  return out;
}

std::size_t count_keys(const Key& k) {
  std::size_t n = 1;
  for (const auto& [f, c] : k.children) n += count_keys(*c);
  return n;
}

std::size_t count_values(const Key& k) {
  std::size_t n = k.values.size();
  for (const auto& [f, c] : k.children) n += count_values(*c);
  return n;
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::kSuccess: return "success";
    case Status::kAccessDenied: return "access-denied";
    case Status::kObjectNameNotFound: return "object-name-not-found";
    case Status::kObjectNameCollision: return "object-name-collision";
    case Status::kCannotDelete: return "cannot-delete";
    case Status::kInvalidParameter: return "invalid-parameter";
    case Status::kNameTooLong: return "name-too-long";
    case Status::kReparseLoop: return "reparse-point-loop";
  }
  return "?";
}

std::u16string fold(const std::u16string& name) {
  std::u16string out(name.size(), u'\0');
  fold_units(name, out.data());
  return out;
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

Key* Registry::find(const std::u16string& path) const {
  const auto parts = split_path(path);
  if (parts.empty() || fold(parts[0]) != u"REGISTRY") return nullptr;
  Key* k = root_.get();
  for (std::size_t i = 1; i < parts.size() && k != nullptr; ++i) {
    auto it = k->children.find(fold(parts[i]));
    k = it == k->children.end() ? nullptr : it->second.get();
  }
  return k;
}

Key* Registry::find_parent(const std::u16string& path, std::u16string& leaf) const {
  auto parts = split_path(path);
  if (parts.size() < 2) return nullptr;
  leaf = parts.back();
  parts.pop_back();
  return find(join(parts, parts.size()));
}

Status Registry::resolve(const std::u16string& path, std::u16string& resolved, bool& exists, bool open_link) const {
  std::shared_lock lock(mutex_);
  std::u16string current = path;
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    const auto parts = split_path(current);
    if (parts.empty() || fold(parts[0]) != u"REGISTRY") return Status::kObjectNameNotFound;
    Key* k = root_.get();
    std::size_t i = 1;
    bool relinked = false;
    for (; i < parts.size(); ++i) {
      auto it = k->children.find(fold(parts[i]));
      if (it == k->children.end()) break;
      k = it->second.get();
      if (k->link && !(open_link && i + 1 == parts.size())) {  // continue at the target, with the rest
        auto v = k->values.find(kLinkValue);
        if (v == k->values.end() || v->second.type != kRegLink) return Status::kObjectNameNotFound;
        std::u16string target(v->second.data.size() / 2, u'\0');
        for (std::size_t c = 0; c < target.size(); ++c) {
          target[c] = static_cast<char16_t>(static_cast<unsigned char>(v->second.data[2 * c]) |
                                            (static_cast<unsigned char>(v->second.data[2 * c + 1]) << 8));
        }
        while (!target.empty() && target.back() == u'\0') target.pop_back();
        for (std::size_t r = i + 1; r < parts.size(); ++r) target += u"\\" + parts[r];
        current = target;
        relinked = true;
        break;
      }
    }
    if (relinked) continue;
    if (i < parts.size() - 1) return Status::kObjectNameNotFound;  // a missing parent
    resolved = current;
    exists = i == parts.size();
    return Status::kSuccess;
  }
  return Status::kReparseLoop;
}

Status Registry::create_key(const std::u16string& path, bool& created, bool link) {
  std::unique_lock lock(mutex_);
  created = false;
  if (find(path) != nullptr) return Status::kSuccess;  // an open
  std::u16string leaf;
  Key* parent = find_parent(path, leaf);
  if (parent == nullptr) return Status::kObjectNameNotFound;
  if (leaf.size() > 255) return Status::kNameTooLong;
  auto k = std::make_unique<Key>();
  k->name = leaf;
  k->link = link;
  parent->children[fold(leaf)] = std::move(k);
  created = true;
  return Status::kSuccess;
}

Status Registry::delete_key(const std::u16string& path) {
  std::unique_lock lock(mutex_);
  if (split_path(path).size() <= 2) return Status::kCannotDelete;  // \REGISTRY and the hive roots stay
  std::u16string leaf;
  Key* parent = find_parent(path, leaf);
  if (parent == nullptr) return Status::kObjectNameNotFound;
  auto it = parent->children.find(fold(leaf));
  if (it == parent->children.end()) return Status::kObjectNameNotFound;
  if (!it->second->children.empty()) return Status::kCannotDelete;
  parent->children.erase(it);
  return Status::kSuccess;
}

Status Registry::set_value(const std::u16string& path, const std::u16string& name, std::uint32_t type,
                           const std::string& data) {
  std::unique_lock lock(mutex_);
  Key* k = find(path);
  if (k == nullptr) return Status::kObjectNameNotFound;
  k->values[fold(name)] = Value{name, type, data};
  return Status::kSuccess;
}

Status Registry::delete_value(const std::u16string& path, const std::u16string& name) {
  std::unique_lock lock(mutex_);
  Key* k = find(path);
  if (k == nullptr) return Status::kObjectNameNotFound;
  return k->values.erase(fold(name)) ? Status::kSuccess : Status::kObjectNameNotFound;
}

Status Registry::query_value(const std::u16string& path, const std::u16string& name, Value& out) const {
  std::shared_lock lock(mutex_);
  Key* k = find(path);
  if (k == nullptr) return Status::kObjectNameNotFound;
  auto it = k->values.find(fold(name));
  if (it == k->values.end()) return Status::kObjectNameNotFound;
  out = it->second;
  return Status::kSuccess;
}

Status Registry::rename_key(const std::u16string& path, const std::u16string& new_name) {
  std::unique_lock lock(mutex_);
  if (new_name.empty() || new_name.find(u'\\') != std::u16string::npos) return Status::kInvalidParameter;
  if (split_path(path).size() <= 2) return Status::kAccessDenied;  // the hive roots keep their names
  std::u16string leaf;
  Key* parent = find_parent(path, leaf);
  if (parent == nullptr) return Status::kObjectNameNotFound;
  auto it = parent->children.find(fold(leaf));
  if (it == parent->children.end()) return Status::kObjectNameNotFound;
  const std::u16string target = fold(new_name);
  if (target != it->first && parent->children.count(target)) return Status::kObjectNameCollision;
  std::unique_ptr<Key> moved = std::move(it->second);
  parent->children.erase(it);
  moved->name = new_name;
  parent->children[target] = std::move(moved);
  return Status::kSuccess;
}

Status Registry::save_key(const std::u16string& path, Subtree& out) const {
  std::shared_lock lock(mutex_);
  Key* k = find(path);
  if (k == nullptr) return Status::kObjectNameNotFound;
  out = copy(*k);
  return Status::kSuccess;
}

Status Registry::restore_key(const std::u16string& path, const Key& saved) {
  std::unique_lock lock(mutex_);
  Key* k = find(path);
  if (k == nullptr) return Status::kObjectNameNotFound;
  auto fresh = copy(saved);
  k->values = std::move(fresh->values);
  k->children = std::move(fresh->children);
  return Status::kSuccess;
}

bool Registry::key_exists(const std::u16string& path) const {
  std::shared_lock lock(mutex_);
  return find(path) != nullptr;
}

void Registry::walk(const std::function<void(const std::u16string&, const Key&)>& visit) const {
  std::shared_lock lock(mutex_);
  std::function<void(const std::u16string&, const Key&)> rec = [&](const std::u16string& p, const Key& k) {
    visit(p, k);
    for (const auto& [f, c] : k.children) rec(p + u"\\" + c->name, *c);
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
