// The device interface between hivewarden.sys and hivewarden-svc.exe (SPEC §11). Only SYSTEM and
// Administrators can open the device (its security descriptor); each IOCTL then names the access
// its handle needs, which the I/O manager checks before the driver sees the request: changing
// what the driver does (a policy, process flags, an acknowledgement) needs write access, reading
// what it saw (records, counters) read access.
#pragma once

#include <cstdint>

namespace hivewarden::win {

inline constexpr const wchar_t* kDeviceName = L"\\Device\\hivewarden";
inline constexpr const wchar_t* kDosDeviceName = L"\\DosDevices\\hivewarden";
inline constexpr const wchar_t* kUserDevicePath = L"\\\\.\\hivewarden";

// CTL_CODE's access field (wdm.h): what the caller's handle must have been granted.
inline constexpr std::uint32_t kFileReadAccess = 0x1;   // FILE_READ_ACCESS (FILE_READ_DATA)
inline constexpr std::uint32_t kFileWriteAccess = 0x2;  // FILE_WRITE_ACCESS (FILE_WRITE_DATA)

// CTL_CODE(FILE_DEVICE_UNKNOWN = 0x22, function, METHOD_BUFFERED = 0, access)
constexpr std::uint32_t ctl_code(std::uint32_t function, std::uint32_t access) {
  return (0x22u << 16) | (access << 14) | (function << 2);
}
// The access bits an IOCTL code asks for.
constexpr std::uint32_t ioctl_access(std::uint32_t code) {
  return (code >> 14) & 0x3u;
}

// Input: a compiled policy blob of at most kMaxPolicyBytes. Validated before the swap; the old
// policy stays on failure (STATUS_INVALID_PARAMETER, or STATUS_INVALID_BUFFER_SIZE when too big).
inline constexpr std::uint32_t kIoctlSetPolicy = ctl_code(0x800, kFileWriteAccess);
// Output: one notification record (SPEC §7). Pended until a record is there (inverted call).
// Only from the handle that connected (kIoctlConnect); others get STATUS_DEVICE_BUSY.
inline constexpr std::uint32_t kIoctlGetNotification = ctl_code(0x801, kFileReadAccess);
// Input: the 8-byte sequence number of a sync record the service has handled.
inline constexpr std::uint32_t kIoctlAcknowledge = ctl_code(0x802, kFileWriteAccess);
// No buffers. Makes this handle the one consumer of records (STATUS_DEVICE_BUSY while another
// handle is connected). Until a consumer connects, and after its handle is closed, the driver
// builds no records and no operation waits for an acknowledgement.
inline constexpr std::uint32_t kIoctlConnect = ctl_code(0x803, kFileReadAccess | kFileWriteAccess);
// Output: DriverCounters.
inline constexpr std::uint32_t kIoctlGetCounters = ctl_code(0x804, kFileReadAccess);
// Input: ProcessFlagsRequest. Sets the flags and rules of a running process (the write-up's
// process contexts); they are dropped when the process exits. STATUS_NOT_FOUND when no process
// has the pid (flags 0 and rules 0 clear an entry, and need no process).
inline constexpr std::uint32_t kIoctlSetProcessFlags = ctl_code(0x805, kFileWriteAccess);

// The largest policy blob the driver takes (it lives in non-paged memory).
inline constexpr std::uint32_t kMaxPolicyBytes = 64u << 20;

// What hivewarden-svc status prints. Counts since the driver loaded.
struct DriverCounters {
  std::uint32_t size = sizeof(DriverCounters);  // grows at the end only
  std::uint32_t consumer_connected = 0;
  std::uint64_t decisions = 0;                // operations of SPEC §1 decided
  std::uint64_t denials = 0;                  // of those, denied by the policy
  std::uint64_t undecided_writes_denied = 0;  // writes that could not be decided: denied
  std::uint64_t undecided_reads_allowed = 0;  // reads that could not be decided: let through
  std::uint64_t records_sent = 0;             // records handed to the consumer
  std::uint64_t records_dropped = 0;          // queue full (oldest dropped) or no memory
  std::uint64_t sync_timeouts = 0;   // sync records the consumer did not acknowledge in time
  std::uint64_t queued_records = 0;  // now
  std::uint64_t queued_bytes = 0;    // now
  std::uint64_t policy_swaps = 0;
  std::uint64_t policy_rejected = 0;            // corrupt, too big or no memory: the old one stayed
  std::uint64_t call_contexts_outstanding = 0;  // pre-operations waiting for their post
  std::uint64_t process_entries = 0;            // processes with flags set by the service, now
};

struct ProcessFlagsRequest {
  std::uint64_t pid = 0;
  std::uint32_t flags = 0;  // ProcessFlags bits (SPEC §3)
  std::uint32_t rules = 0;  // ProcessRules bits (SPEC §3)
};

}  // namespace hivewarden::win
