#include "hivewarden/util/ntstatus.hpp"

#include <cstdio>

#include "hivewarden/core/rules.hpp"

namespace hivewarden {
namespace {

constexpr NamedBit kStatuses[] = {
    {"success", ntstatus::kSuccess},
    {"access-denied", ntstatus::kAccessDenied},
    {"object-name-invalid", ntstatus::kObjectNameInvalid},
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
  if (const std::string_view name = name_by_bit(kStatuses, status); !name.empty())
    return std::string(name);
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", status);
  return b;
}

bool ntstatus_by_name(std::string_view name, std::uint32_t& status) {
  return bit_by_name(kStatuses, name, status);
}

}  // namespace hivewarden
