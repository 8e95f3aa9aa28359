// The write-up's MpRegMatchData, rebuilt as the anchor to beat: MP_KEY_ENTRY nodes linked by
// SubKey (first child) and NextKey (next sibling) in insertion order, walked one component at a
// time as FsRtlDissectName splits the remaining name, with a stack of unvisited siblings.
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/perf/matchers.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::perf {
namespace {

constexpr std::uint16_t kSkipOne = 0xFFFF;   // KeysToSkip 0xFFFF: one component of any name
constexpr std::uint16_t kSkipAny = 0xFFFE;   // `**`: hivewarden's extension, any number

struct ClientValue {
  std::uint32_t rules;
  ClientValue* next;
};

struct KeyValue {
  std::u16string name;  // as written
  ClientValue* clients;
  KeyValue* next;
};

struct KeyEntry {
  KeyEntry* sub_key = nullptr;
  KeyEntry* next_key = nullptr;
  std::u16string key_name;  // empty when KeysToSkip applies
  std::uint16_t keys_to_skip = 0;
  bool glob = false;
  ClientValue* client_list = nullptr;
  KeyValue* values_list = nullptr;
};

// FsRtlDissectName: the first component of `name` and what remains after its `\`.
void dissect(std::u16string_view name, std::u16string_view& first, std::u16string_view& rest) {
  if (!name.empty() && name[0] == u'\\') name.remove_prefix(1);
  const std::size_t cut = name.find(u'\\');
  first = name.substr(0, cut);
  rest = cut == std::u16string_view::npos ? std::u16string_view() : name.substr(cut);
}

// MpRegpMatchName: case-insensitive compare, with wildcards where the name has them.
bool match_name(const KeyEntry& e, std::u16string_view component) {
  if (e.glob) {
    std::u16string folded(component);
    for (char16_t& c : folded) c = fold_unit(c);
    return glob_match(e.key_name, folded);
  }
  if (e.key_name.size() != component.size()) return false;
  for (std::size_t i = 0; i < component.size(); ++i) {
    if (fold_unit(e.key_name[i]) != fold_unit(component[i])) return false;
  }
  return true;
}

class WriteupTree : public KeyMatcher {
 public:
  explicit WriteupTree(const GeneratedPolicy& policy) {
    root_ = make_entry(u"REGISTRY", 0, false);
    for (const PatternSpec& spec : policy.patterns) insert(spec);
  }
  std::string name() const override { return "write-up tree walk"; }

  std::uint32_t match(std::u16string_view path, std::u16string_view value, bool value_op) override {
    std::uint32_t rules = 0;
    std::vector<StackItem>& stack = stack_;
    stack.clear();
    stack.push_back({root_, path});
    while (!stack.empty()) {
      StackItem p = stack.back();
      stack.pop_back();
      KeyEntry* e = p.entry;
      std::u16string_view name = p.name;
      while (e != nullptr) {
        std::u16string_view first, rest;
        dissect(name, first, rest);
        bool partial = false;
        std::u16string_view remaining = rest;
        if (e->keys_to_skip == 0) {
          partial = !first.empty() && match_name(*e, first);
        } else if (e->keys_to_skip == kSkipOne) {
          partial = !first.empty();
        } else if (e->keys_to_skip == kSkipAny) {
          // Zero components: the entry's subkeys see this same name; then one more each time.
          if (e->next_key) stack.push_back({e->next_key, name});
          match_here_or_below(e, name, value, value_op, rules, stack);
          e = nullptr;
          break;
        } else {  // skip N
          remaining = name;
          partial = true;
          for (std::uint16_t k = 0; k < e->keys_to_skip; ++k) {
            std::u16string_view piece;
            dissect(remaining, piece, remaining);
            partial = partial && !piece.empty();
          }
        }
        if (!partial) {
          e = e->next_key;
          continue;
        }
        if (remaining.empty()) {  // MpRegpMatchEntry; and `X\**` matches X itself
          collect(e, value, value_op, rules);
          for (KeyEntry* c = e->sub_key; c; c = c->next_key) {
            if (c->keys_to_skip == kSkipAny) collect(c, value, value_op, rules);
          }
        }
        if (e->next_key) stack.push_back({e->next_key, name});
        name = remaining;
        e = remaining.empty() ? nullptr : e->sub_key;
      }
    }
    return rules;
  }

 private:
  struct StackItem {
    KeyEntry* entry;
    std::u16string_view name;
  };

  // `**` at entry e: it matches with every number of leading components consumed, and its
  // subkeys continue from each of those places.
  void match_here_or_below(KeyEntry* e, std::u16string_view name, std::u16string_view value, bool value_op,
                           std::uint32_t& rules, std::vector<StackItem>& stack) {
    for (;;) {
      if (name.empty()) {
        collect(e, value, value_op, rules);
        return;
      }
      if (e->sub_key) stack.push_back({e->sub_key, name});
      std::u16string_view first;
      dissect(name, first, name);
    }
  }

  void collect(KeyEntry* e, std::u16string_view value, bool value_op, std::uint32_t& rules) {
    if (!value_op) {
      for (ClientValue* c = e->client_list; c; c = c->next) {
        if (c->rules & op_flag(false)) rules |= c->rules;
      }
      return;
    }
    for (KeyValue* v = e->values_list; v; v = v->next) {
      if (v->name.size() != value.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < value.size() && same; ++i) same = fold_unit(v->name[i]) == fold_unit(value[i]);
      if (!same) continue;
      for (ClientValue* c = v->clients; c; c = c->next) {
        if (c->rules & op_flag(true)) rules |= c->rules;
      }
    }
  }

  KeyEntry* make_entry(std::u16string name, std::uint16_t skip, bool glob) {
    entries_.push_back(std::make_unique<KeyEntry>());
    KeyEntry* e = entries_.back().get();
    e->key_name = std::move(name);
    e->keys_to_skip = skip;
    e->glob = glob;
    if (glob) {
      for (char16_t& c : e->key_name) c = fold_unit(c);
    }
    return e;
  }

  // Finds or appends (at the end of the sibling list, as insertion order) a child of `parent`.
  KeyEntry* child(KeyEntry* parent, const std::string& part) {
    std::u16string name;
    std::uint16_t skip = 0;
    bool glob = false;
    if (part == "*") {
      skip = kSkipOne;
    } else if (part == "**") {
      skip = kSkipAny;
    } else if (part.size() > 3 && part[0] == '*' && part[1] == '{') {
      skip = static_cast<std::uint16_t>(std::stoi(part.substr(2)));
    } else {
      name = *utf8_to_utf16(part);
      glob = part.find_first_of("*?") != std::string::npos;
    }
    // Building looks children up in a side index (the walk itself never uses it); the new
    // child goes to the end of the sibling list, as insertion order.
    std::u16string key(name);
    for (char16_t& c : key) c = fold_unit(c);
    key += static_cast<char16_t>(skip);
    key += glob ? u'g' : u'l';
    auto [it, inserted] = index_.try_emplace({parent, key}, nullptr);
    if (!inserted) return it->second;
    KeyEntry* created = make_entry(name, skip, glob);
    KeyEntry*& tail = last_child_[parent];
    (tail == nullptr ? parent->sub_key : tail->next_key) = created;
    tail = created;
    it->second = created;
    return created;
  }

  struct IndexKeyHash {
    std::size_t operator()(const std::pair<KeyEntry*, std::u16string>& k) const {
      return std::hash<std::u16string>()(k.second) ^ (std::hash<const void*>()(k.first) * 31);
    }
  };
  std::unordered_map<std::pair<KeyEntry*, std::u16string>, KeyEntry*, IndexKeyHash> index_;
  std::unordered_map<KeyEntry*, KeyEntry*> last_child_;

  void insert(const PatternSpec& spec) {
    KeyEntry* e = child(root_, spec.components[0] == "HKU" ? "USER" : "MACHINE");
    for (std::size_t i = 1; i < spec.components.size(); ++i) e = child(e, spec.components[i]);
    clients_.push_back(std::make_unique<ClientValue>(ClientValue{spec.rules, nullptr}));
    if (spec.value.empty()) {
      clients_.back()->next = e->client_list;
      e->client_list = clients_.back().get();
    } else {
      values_.push_back(std::make_unique<KeyValue>(KeyValue{*utf8_to_utf16(spec.value), clients_.back().get(), e->values_list}));
      e->values_list = values_.back().get();
    }
  }

  KeyEntry* root_;
  std::vector<std::unique_ptr<KeyEntry>> entries_;
  std::vector<std::unique_ptr<ClientValue>> clients_;
  std::vector<std::unique_ptr<KeyValue>> values_;
  std::vector<StackItem> stack_;
};

}  // namespace

std::unique_ptr<KeyMatcher> make_writeup_tree(const GeneratedPolicy& policy) { return std::make_unique<WriteupTree>(policy); }

}  // namespace hivewarden::perf
