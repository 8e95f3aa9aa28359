// The NTSTATUS values hivewarden meets (ntstatus.h): the one list of their numbers. Freestanding,
// so the core and the driver use it; their names live in util/ntstatus.hpp.
#pragma once

#include <cstdint>

namespace hivewarden::ntstatus {
inline constexpr std::uint32_t kSuccess = 0x00000000;
inline constexpr std::uint32_t kUnsuccessful = 0xC0000001;  // a failure with no other name
inline constexpr std::uint32_t kInvalidParameter = 0xC000000D;
inline constexpr std::uint32_t kAccessDenied = 0xC0000022;
inline constexpr std::uint32_t kObjectNameInvalid = 0xC0000033;
inline constexpr std::uint32_t kObjectNameNotFound = 0xC0000034;
inline constexpr std::uint32_t kObjectNameCollision = 0xC0000035;
inline constexpr std::uint32_t kNameTooLong = 0xC0000106;
inline constexpr std::uint32_t kCannotDelete = 0xC0000121;
inline constexpr std::uint32_t kReparsePointLoop = 0xC000026B;  // too many symbolic links
}  // namespace hivewarden::ntstatus
