#include "hivewarden/policy/compile.hpp"

namespace hivewarden::embedded {
std::string_view default_policy_yaml();
}

namespace hivewarden::policy {

std::string_view builtin_default_policy_yaml() {
  return embedded::default_policy_yaml();
}

}  // namespace hivewarden::policy
