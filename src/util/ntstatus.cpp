#include "hivewarden/util/ntstatus.hpp"

#include <cstdio>

namespace hivewarden {
namespace {

struct NamedStatus {
  std::string_view name;
  std::uint32_t status;
};

constexpr NamedStatus kStatuses[] = {
    {"success", ntstatus::kSuccess},
    {"access-denied", ntstatus::kAccessDenied},
    {"object-name-not-found", ntstatus::kObjectNameNotFound},
    {"object-name-collision", ntstatus::kObjectNameCollision},
    {"cannot-delete", ntstatus::kCannotDelete},
    {"invalid-parameter", ntstatus::kInvalidParameter},
    {"name-too-long", ntstatus::kNameTooLong},
    {"reparse-point-loop", ntstatus::kReparsePointLoop},
    {"unsuccessful", ntstatus::kUnsuccessful},
};

}  // namespace

std::string ntstatus_name(std::uint32_t status) {
  for (const NamedStatus& s : kStatuses) {
    if (s.status == status) return std::string(s.name);
  }
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", status);
  return b;
}

bool ntstatus_by_name(std::string_view name, std::uint32_t& status) {
  for (const NamedStatus& s : kStatuses) {
    if (s.name == name) {
      status = s.status;
      return true;
    }
  }
  return false;
}

}  // namespace hivewarden
