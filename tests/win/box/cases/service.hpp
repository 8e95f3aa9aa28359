// What the cases do as hivewarden-svc would: open the control device as some caller, push a
// policy, connect, take records and acknowledge them, read counters.
#pragma once

#include <cstdint>

#include "box.hpp"
#include "hivewarden/core/notification.hpp"
#include "hivewarden/win/ioctl.hpp"

namespace box::cases {

inline constexpr std::int32_t kStatusSuccess = 0;
inline constexpr std::int32_t kStatusAccessDenied = static_cast<std::int32_t>(0xC0000022);
inline constexpr std::uint32_t kReadWrite = 0x80000000u | 0x40000000u;  // GENERIC_READ | WRITE
inline constexpr std::uint32_t kRead = 0x80000000u;

// The calling thread becomes a thread of a process of that kind of caller, then opens the device.
Handle* open_device_as(Caller caller, std::uint32_t desired, std::int32_t& status);
// The box's own compiled policy (data/policy.hwp, made by decisions.py), or a policy file.
char* read_data_file(const char* name, std::uint64_t& size);
std::int32_t push_policy(Handle* h, const void* blob, std::uint64_t size);
std::int32_t push_policy_file(Handle* h, const char* name);
// Loads the driver, opens the device as SYSTEM and pushes the box policy; null on failure.
Handle* load_with_box_policy(struct Report& report);
// One record, if one comes within `ms` (copied into `out`, `capacity` bytes).
bool take_record(Handle* h, unsigned char* out, std::uint32_t capacity, std::uint32_t& size,
                 std::uint32_t ms);
bool read_counters(Handle* h, hivewarden::win::DriverCounters& counters);

// Processes the cases use (pid, image): a plain program and the AV service.
inline constexpr std::uint32_t kRegPid = 4120;
inline constexpr const wchar_t* kRegImage = L"C:\\Windows\\System32\\reg.exe";
void define_box_processes();

}  // namespace box::cases

namespace box::cases {

// A record's fields as the cases compare them (ASCII; other characters become '?').
struct Record {
  hivewarden::RecordFixed fixed;
  char key[600], value[200], new_key[600];
  std::uint32_t data_after_size;
  unsigned char data_after[64];
};
bool decode(const unsigned char* bytes, std::uint32_t size, Record& out);
// Takes every record that comes within `ms` of each other, at most `capacity`.
int take_records(Handle* h, Record* out, int capacity, std::uint32_t ms);

// A set-value of a REG_SZ by the calling thread's process.
RegOp set_value(const wchar_t* key, const wchar_t* value);

}  // namespace box::cases

namespace box::cases {
inline constexpr std::int32_t kStatusInvalidParameter = static_cast<std::int32_t>(0xC000000D);
inline constexpr std::int32_t kStatusInvalidBufferSize = static_cast<std::int32_t>(0xC0000206);
inline constexpr std::int32_t kStatusRevisionMismatch = static_cast<std::int32_t>(0xC0000059);
inline constexpr std::int32_t kStatusDeviceBusy = static_cast<std::int32_t>(0x80000011);
inline constexpr std::int32_t kStatusCancelled = static_cast<std::int32_t>(0xC0000120);
inline constexpr std::uint32_t kSyncPid = 5150;  // C:\Tools\sync.exe: notify-sync by the policy
inline constexpr const wchar_t* kLockedKey = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Locked";
inline constexpr const wchar_t* kWatchedKey = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Watched\\Run";
inline constexpr const wchar_t* kAuditedKey = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Audited";
// Connects `h` as the consumer (kIoctlConnect).
std::int32_t connect(Handle* h);
// A tamper-protected write by reg.exe: denied while the box policy is in force.
bool tamper_write_denied();
}  // namespace box::cases
