#include "condition.hpp"

#include <memory>

namespace hivewarden::sigma {
namespace {

bool glob_names(const std::string& pattern, const std::string& name) {
  if (pattern == "them") return true;
  if (!pattern.empty() && pattern.back() == '*')
    return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return name == pattern;
}

class Parser {
 public:
  Parser(const std::string& text, const std::vector<std::string>& selections, std::size_t max_terms)
      : selections_(selections), max_terms_(max_terms) {
    std::string token;
    for (char c : text) {
      if (c == '(' || c == ')' || c == ' ' || c == '\t' || c == '\n') {
        if (!token.empty()) tokens_.push_back(token);
        token.clear();
        if (c == '(' || c == ')') tokens_.push_back(std::string(1, c));
      } else {
        token += c;
      }
    }
    if (!token.empty()) tokens_.push_back(token);
  }

  bool parse(Dnf& out, std::string& error) {
    if (!expr(out) || pos_ != tokens_.size()) {
      error =
          error_.empty()
              ? "unexpected '" + (pos_ < tokens_.size() ? tokens_[pos_] : std::string("end")) + "'"
              : error_;
      return false;
    }
    return true;
  }

 private:
  const std::string* peek() const { return pos_ < tokens_.size() ? &tokens_[pos_] : nullptr; }
  bool accept(const char* word) {
    if (peek() && *peek() == word) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
  }

  // (a or b) and (c or d) -> a&c, a&d, b&c, b&d
  bool conjoin(const Dnf& a, const Dnf& b, Dnf& out) {
    out.clear();
    for (const Term& x : a) {
      for (const Term& y : b) {
        if (out.size() >= max_terms_) return fail("condition expands to too many alternatives");
        Term t = x;
        t.insert(t.end(), y.begin(), y.end());
        out.push_back(std::move(t));
      }
    }
    return true;
  }

  bool negate(const Dnf& in, Dnf& out) {
    // not (t1 or t2) = (not t1) and (not t2); not (a and b) = (not a) or (not b)
    out = {Term{}};
    for (const Term& t : in) {
      Dnf alternatives;
      for (const Literal& l : t) alternatives.push_back({Literal{l.selection, !l.negated}});
      Dnf next;
      if (!conjoin(out, alternatives, next)) return false;
      out = std::move(next);
    }
    return true;
  }

  bool expr(Dnf& out) {
    if (!and_expr(out)) return false;
    while (accept("or")) {
      Dnf rhs;
      if (!and_expr(rhs)) return false;
      out.insert(out.end(), rhs.begin(), rhs.end());
      if (out.size() > max_terms_) return fail("condition expands to too many alternatives");
    }
    return true;
  }

  bool and_expr(Dnf& out) {
    if (!not_expr(out)) return false;
    while (accept("and")) {
      Dnf rhs, joined;
      if (!not_expr(rhs) || !conjoin(out, rhs, joined)) return false;
      out = std::move(joined);
    }
    return true;
  }

  // Each `(` and `not` is one level of recursion: bounded, so a hostile rule cannot overflow the
  // stack (real rules nest two or three deep).
  static constexpr int kMaxNesting = 32;
  bool deeper() {
    if (++depth_ <= kMaxNesting) return true;
    return fail("condition nested deeper than " + std::to_string(kMaxNesting) +
                " levels of parentheses and `not`");
  }

  bool not_expr(Dnf& out) {
    if (accept("not")) {
      Dnf inner;
      const bool ok = deeper() && not_expr(inner) && negate(inner, out);
      --depth_;
      return ok;
    }
    return primary(out);
  }

  bool primary(Dnf& out) {
    const std::string* t = peek();
    if (t == nullptr) return fail("condition ends too early");
    if (*t == "(") {
      ++pos_;
      const bool ok = deeper() && expr(out) && (accept(")") || fail("missing ')'"));
      --depth_;
      return ok;
    }
    if ((*t == "1" || *t == "any" || *t == "all") && pos_ + 2 < tokens_.size() + 1 &&
        pos_ + 1 < tokens_.size() && tokens_[pos_ + 1] == "of") {
      const bool all = *t == "all";
      pos_ += 2;
      const std::string* pattern = peek();
      if (pattern == nullptr) return fail("'of' needs a selection pattern");
      ++pos_;
      std::vector<std::string> names;
      for (const std::string& s : selections_) {
        if (glob_names(*pattern, s)) names.push_back(s);
      }
      if (names.empty()) return fail("'" + *pattern + "' names no selection");
      out.clear();
      if (all) {
        Term term;
        for (const std::string& n : names) term.push_back({n, false});
        out.push_back(term);
      } else {
        for (const std::string& n : names) out.push_back({Literal{n, false}});
      }
      return true;
    }
    if (*t == ")" || *t == "and" || *t == "or" || *t == "|") return fail("unexpected '" + *t + "'");
    bool known = false;
    for (const std::string& s : selections_) known = known || s == *t;
    if (!known) return fail("unknown selection '" + *t + "'");
    out = {Term{Literal{*t, false}}};
    ++pos_;
    return true;
  }

  std::vector<std::string> tokens_;
  const std::vector<std::string>& selections_;
  std::size_t max_terms_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

bool condition_to_dnf(const std::string& condition, const std::vector<std::string>& selections,
                      Dnf& out, std::string& error, std::size_t max_terms) {
  if (condition.find('|') != std::string::npos) {
    error = "aggregation (`|`) is not a registry condition";
    return false;
  }
  Parser parser(condition, selections, max_terms);
  return parser.parse(out, error);
}

}  // namespace hivewarden::sigma
