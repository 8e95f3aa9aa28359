// Checks on policy YAML text made before yaml-cpp builds its node graph (see yaml_limits.hpp).
#pragma once

#include <string>
#include <string_view>

#include "hivewarden/policy/policy_source.hpp"

namespace hivewarden::policy {

// Refuses text that is too large, not UTF-8 (a UTF-16/32 byte order mark, a NUL byte, a byte that
// is not UTF-8; a UTF-8 byte order mark is allowed), nested too deep, holds too many nodes (as
// written or with aliases expanded), has an alias inside the node it names, repeats a key in a
// mapping, carries a YAML tag other than `!`, `!!str` on a scalar or `!!seq` / `!!map` on its own
// kind, or holds more than one document. Returns false with the first such problem in `problem`.
bool prescan_policy_yaml(std::string_view text, const std::string& file, PolicyProblem& problem);

}  // namespace hivewarden::policy
