// The device interface between hivewarden.sys and hivewarden-svc.exe.
#pragma once

#include <cstdint>

namespace hivewarden::win {

inline constexpr const wchar_t* kDeviceName = L"\\Device\\hivewarden";
inline constexpr const wchar_t* kDosDeviceName = L"\\DosDevices\\hivewarden";
inline constexpr const wchar_t* kUserDevicePath = L"\\\\.\\hivewarden";

// CTL_CODE(FILE_DEVICE_UNKNOWN = 0x22, function, METHOD_BUFFERED = 0, FILE_ANY_ACCESS = 0)
constexpr std::uint32_t ctl_code(std::uint32_t function) { return (0x22u << 16) | (function << 2); }

// Input: a compiled policy blob. Validated before the swap; the old policy stays on failure.
inline constexpr std::uint32_t kIoctlSetPolicy = ctl_code(0x800);
// Output: one notification record (SPEC §7). Pended until a record is there (inverted call).
inline constexpr std::uint32_t kIoctlGetNotification = ctl_code(0x801);
// Input: the 8-byte sequence number of a sync record the service has handled.
inline constexpr std::uint32_t kIoctlAcknowledge = ctl_code(0x802);

}  // namespace hivewarden::win
