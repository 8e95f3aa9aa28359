// RE2::Set and Hyperscan compiled from the policy's patterns: what a regex-based engine costs.
#include <hs/hs.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <vector>

#include "hivewarden/perf/matchers.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden::perf {
namespace {

constexpr char kValueSeparator = '\x1f';

std::string escape(const std::string& s, bool glob) {
  std::string out;
  for (char c : s) {
    if (glob && c == '*') {
      out += "[^\\\\]*";
    } else if (glob && c == '?') {
      out += "[^\\\\]";
    } else if (std::string("\\.^$|()[]{}*+?").find(c) != std::string::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

// The subject a regex matcher sees: the path, and for value operations the value behind \x1f.
std::string subject(std::u16string_view path, std::u16string_view value, bool value_op) {
  std::string s = utf16_to_utf8(path);
  if (value_op) {
    s += kValueSeparator;
    s += utf16_to_utf8(value);
  }
  return s;
}

class Re2Set : public KeyMatcher {
 public:
  Re2Set() {
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_max_mem(std::int64_t{4} << 30);
    keys_ = std::make_unique<RE2::Set>(options, RE2::ANCHOR_BOTH);
    values_ = std::make_unique<RE2::Set>(options, RE2::ANCHOR_BOTH);
  }
  bool build(const GeneratedPolicy& policy, std::string& error) {
    for (const PatternSpec& spec : policy.patterns) {
      RE2::Set& set = spec.value.empty() ? *keys_ : *values_;
      std::vector<std::uint32_t>& rules = spec.value.empty() ? key_rules_ : value_rules_;
      if (set.Add(pattern_regex(spec), &error) < 0) return false;
      rules.push_back(spec.rules);
    }
    if (!keys_->Compile() || !values_->Compile()) {
      error = "RE2::Set::Compile failed (out of memory)";
      return false;
    }
    return true;
  }
  std::string name() const override { return "RE2::Set"; }
  std::uint32_t match(std::u16string_view path, std::u16string_view value, bool value_op) override {
    const std::string s = subject(path, value, value_op);
    hits_.clear();
    RE2::Set::ErrorInfo info;
    (value_op ? *values_ : *keys_).Match(s, &hits_, &info);
    if (info.kind != RE2::Set::kNoError && info.kind != RE2::Set::kNotCompiled) ++errors_;
    std::uint32_t rules = 0;
    for (int i : hits_) {
      const std::uint32_t r = (value_op ? value_rules_ : key_rules_)[static_cast<std::size_t>(i)];
      if (r & op_flag(value_op)) rules |= r;
    }
    return rules;
  }

 private:
  std::unique_ptr<RE2::Set> keys_, values_;
  std::vector<std::uint32_t> key_rules_, value_rules_;
  std::vector<int> hits_;
  std::uint64_t errors_ = 0;
};

class Hyperscan : public KeyMatcher {
 public:
  ~Hyperscan() override {
    for (hs_database_t* db : {keys_, values_}) {
      if (db) hs_free_database(db);
    }
    if (scratch_) hs_free_scratch(scratch_);
  }
  bool build(const GeneratedPolicy& policy, std::string& error) {
    std::vector<std::string> key_patterns, value_patterns;
    for (const PatternSpec& spec : policy.patterns) {
      (spec.value.empty() ? key_patterns : value_patterns).push_back(pattern_regex(spec));
      (spec.value.empty() ? key_rules_ : value_rules_).push_back(spec.rules);
    }
    return compile(key_patterns, &keys_, error) && compile(value_patterns, &values_, error);
  }
  std::string name() const override { return "Hyperscan"; }
  std::uint32_t match(std::u16string_view path, std::u16string_view value, bool value_op) override {
    const std::string s = subject(path, value, value_op);
    hs_database_t* db = value_op ? values_ : keys_;
    if (db == nullptr) return 0;
    Hits hits{value_op ? &value_rules_ : &key_rules_, op_flag(value_op), 0};
    hs_scan(db, s.data(), static_cast<unsigned>(s.size()), 0, scratch_,
            [](unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) -> int {
              auto* h = static_cast<Hits*>(ctx);
              if ((*h->table)[id] & h->flag) h->rules |= (*h->table)[id];
              return 0;
            },
            &hits);
    return hits.rules;
  }

 private:
  struct Hits {
    const std::vector<std::uint32_t>* table;
    std::uint32_t flag;
    std::uint32_t rules;
  };
  bool compile(const std::vector<std::string>& patterns, hs_database_t** db, std::string& error) {
    if (patterns.empty()) return true;
    std::vector<const char*> expressions;
    std::vector<unsigned> flags, ids;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      expressions.push_back(patterns[i].c_str());
      flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL);
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_compile_error_t* compile_error = nullptr;
    if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned>(patterns.size()),
                         HS_MODE_BLOCK, nullptr, db, &compile_error) != HS_SUCCESS) {
      error = std::string("hs_compile_multi: ") + (compile_error ? compile_error->message : "failed");
      if (compile_error) hs_free_compile_error(compile_error);
      return false;
    }
    return hs_alloc_scratch(*db, &scratch_) == HS_SUCCESS || (error = "hs_alloc_scratch failed", false);
  }
  hs_database_t* keys_ = nullptr;
  hs_database_t* values_ = nullptr;
  hs_scratch_t* scratch_ = nullptr;
  std::vector<std::uint32_t> key_rules_, value_rules_;
};

}  // namespace

std::string pattern_regex(const PatternSpec& spec) {
  std::string re = escape(kernel_root(spec.components[0]), false);
  for (std::size_t i = 1; i < spec.components.size(); ++i) {
    const std::string& part = spec.components[i];
    if (part == "**") {
      re += "(?:\\\\[^\\\\]+)*";
    } else if (part == "*") {
      re += "\\\\[^\\\\]+";
    } else if (part.size() > 3 && part[0] == '*' && part[1] == '{') {
      re += "(?:\\\\[^\\\\]+){" + std::to_string(std::stoi(part.substr(2))) + "}";
    } else {
      re += "\\\\" + escape(part, true);
    }
  }
  if (!spec.value.empty()) re += "\\x1f" + escape(spec.value, true);
  return "^" + re + "$";
}

std::unique_ptr<KeyMatcher> make_re2_set(const GeneratedPolicy& policy, std::string& error) {
  auto m = std::make_unique<Re2Set>();
  if (!m->build(policy, error)) return nullptr;
  return m;
}

std::unique_ptr<KeyMatcher> make_hyperscan(const GeneratedPolicy& policy, std::string& error) {
  auto m = std::make_unique<Hyperscan>();
  if (!m->build(policy, error)) return nullptr;
  return m;
}

}  // namespace hivewarden::perf
