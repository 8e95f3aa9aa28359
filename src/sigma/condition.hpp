// Sigma `condition:` expressions -> disjunctive normal form over selection names.
#pragma once

#include <string>
#include <vector>

namespace hivewarden::sigma {

struct Literal {
  std::string selection;
  bool negated = false;
};
using Term = std::vector<Literal>;  // AND of literals
using Dnf = std::vector<Term>;      // OR of terms

// Parses a condition (and, or, not, parentheses, `1 of x*`, `all of x*`, `them`) over the given
// selection names. Returns false and says why for syntax it does not know or a DNF over
// `max_terms` terms.
bool condition_to_dnf(const std::string& condition, const std::vector<std::string>& selections,
                      Dnf& out, std::string& error, std::size_t max_terms = 256);

}  // namespace hivewarden::sigma
