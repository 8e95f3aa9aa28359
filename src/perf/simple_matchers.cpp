// The floor, hivewarden itself, and the naive list.
#include <cstring>
#include <vector>

#include "hivewarden/core/allocator.hpp"
#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/core/glob.hpp"
#include "hivewarden/perf/matchers.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::perf {
namespace {

std::u16string folded16(const std::string& s) {
  std::u16string u = *utf8_to_utf16(s);
  for (char16_t& c : u) c = fold_unit(c);
  return u;
}

class Floor : public KeyMatcher {
 public:
  std::string name() const override { return "floor (canonicalise)"; }
  std::uint32_t match(std::u16string_view path, std::u16string_view, bool) override {
    return canonicalize_key(path, {1, {}}, *path_) == PathStatus::kOk ? 0 : 1;
  }

 private:
  std::unique_ptr<KeyPath> path_ = std::make_unique<KeyPath>();
};

class Hivewarden : public KeyMatcher {
 public:
  Hivewarden(policy::Blob blob, std::u16string_view image, std::string name)
      : storage_(allocator_.allocate(blob.size(), allocator_.user)),
        size_(blob.size()),
        image_(image),
        name_(std::move(name)) {
    // Where the engine keeps a policy (Engine::prepare_policy): huge pages for a large one.
    if (storage_ != nullptr) std::memcpy(storage_, blob.data(), blob.size());
  }
  ~Hivewarden() override {
    if (storage_ != nullptr) allocator_.release(storage_, allocator_.user);
  }
  Hivewarden(const Hivewarden&) = delete;
  Hivewarden& operator=(const Hivewarden&) = delete;
  bool init(std::string& error) {
    PolicyError e;
    if (storage_ == nullptr) {
      error = "out of memory for the policy";
    } else if (!validate_policy(storage_, size_, view_, e)) {
      error = e.what;
    }
    return error.empty();
  }
  std::string name() const override { return name_; }
  std::uint32_t match(std::u16string_view path, std::u16string_view value, bool value_op) override {
    OperationRequest r;
    r.op = value_op ? Operation::kSetValue : Operation::kCreateKey;
    r.value = value;
    r.process.image = image_;
    canonicalize_operation(path, {view_.control_set(), {}}, *keys_, r);  // as a host does
    return decide_on(view_, r, *scratch_).rules;
  }

 private:
  Allocator allocator_ = default_allocator();
  void* storage_;
  std::uint64_t size_;
  std::u16string image_;  // the process every operation comes from
  std::string name_;
  PolicyView view_;
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
  std::unique_ptr<OperationKeys> keys_ = std::make_unique<OperationKeys>();
};

// One entry as folded components after the kernel root.
struct NaiveEntry {
  std::vector<std::u16string> components;
  std::u16string value;
  bool has_value;
  std::uint32_t rules;
};

bool naive_match(const std::vector<std::u16string>& pattern, std::size_t pi, const KeyPath& path,
                 std::uint32_t ti) {
  if (pi == pattern.size()) return ti == path.count;
  const std::u16string& p = pattern[pi];
  if (p == u"**") {
    for (std::uint32_t k = ti; k <= path.count; ++k) {
      if (naive_match(pattern, pi + 1, path, k)) return true;
    }
    return false;
  }
  if (p.size() > 3 && p[0] == u'*' && p[1] == u'{') {  // *{N}
    std::uint32_t n = 0;
    for (std::size_t i = 2; i + 1 < p.size(); ++i)
      n = n * 10 + static_cast<std::uint32_t>(p[i] - u'0');
    return ti + n <= path.count && naive_match(pattern, pi + 1, path, ti + n);
  }
  if (ti >= path.count) return false;
  const std::u16string_view name = path.display_component(ti);  // folded as compared
  const bool hit =
      p == u"*" ||
      (has_glob_chars(p) ? glob_match_folding(p, name, [](char16_t u) { return fold_unit(u); })
                         : equals_when_folded(p, name));
  return hit && naive_match(pattern, pi + 1, path, ti + 1);
}

class Naive : public KeyMatcher {
 public:
  explicit Naive(const GeneratedPolicy& policy) {
    for (const PatternSpec& spec : policy.patterns) {
      NaiveEntry e;
      for (const auto& c : split_root(kernel_root(spec.components[0]))) e.components.push_back(c);
      for (std::size_t i = 1; i < spec.components.size(); ++i)
        e.components.push_back(folded16(spec.components[i]));
      e.value = folded16(spec.value);
      e.has_value = !spec.value.empty();
      e.rules = spec.rules;
      entries_.push_back(std::move(e));
    }
  }
  std::string name() const override { return "naive list"; }
  std::uint32_t match(std::u16string_view path, std::u16string_view value, bool value_op) override {
    if (canonicalize_key(path, {1, {}}, *path_) != PathStatus::kOk) return 0;
    std::u16string v(value);
    for (char16_t& c : v) c = fold_unit(c);
    std::uint32_t rules = 0;
    for (const NaiveEntry& e : entries_) {
      if (e.has_value != value_op || (value_op && e.value != v)) continue;
      if ((e.rules & op_flag(value_op)) != 0 && naive_match(e.components, 0, *path_, 0))
        rules |= e.rules;
    }
    return rules;
  }

 private:
  static std::vector<std::u16string> split_root(const std::string& root) {
    return root == "\\REGISTRY\\USER" ? std::vector<std::u16string>{u"REGISTRY", u"USER"}
                                      : std::vector<std::u16string>{u"REGISTRY", u"MACHINE"};
  }
  std::vector<NaiveEntry> entries_;
  std::unique_ptr<KeyPath> path_ = std::make_unique<KeyPath>();
};

}  // namespace

std::unique_ptr<KeyMatcher> make_floor() {
  return std::make_unique<Floor>();
}

std::unique_ptr<KeyMatcher> make_hivewarden(const GeneratedPolicy& policy, std::string& error,
                                            std::u16string_view image, std::string name) {
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::compile_policy(policy.source, blob, problems)) {
    error = problems.empty() ? "compile failed" : problems[0].to_string();
    return nullptr;
  }
  auto m = std::make_unique<Hivewarden>(std::move(blob), image, std::move(name));
  if (!m->init(error)) return nullptr;
  return m;
}

std::unique_ptr<KeyMatcher> make_naive(const GeneratedPolicy& policy) {
  return std::make_unique<Naive>(policy);
}

}  // namespace hivewarden::perf
