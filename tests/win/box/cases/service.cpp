#include "service.hpp"

#include <cstdio>
#include <cstdlib>

#include "host.hpp"
#include "runner.hpp"

namespace box::cases {

Handle* open_device_as(Caller caller, std::uint32_t desired, std::int32_t& status) {
  const std::uint32_t pid = caller == Caller::kSystem          ? 4
                            : caller == Caller::kAdministrator ? 700
                                                               : 800;
  if (pid != 4) {
    define_process(pid,
                   caller == Caller::kAdministrator ? L"C:\\Windows\\System32\\admin-tool.exe"
                                                    : L"C:\\Users\\user\\tool.exe",
                   caller);
  }
  become(pid, pid == 4);
  return io_open(hivewarden::win::kUserDevicePath, desired, status);
}

char* read_data_file(const char* name, std::uint64_t& size) {
  char path[512];
  std::snprintf(path, sizeof path, "%s/%s", data_dir(), name);
  return host::read_text_file(path, size);
}

std::int32_t push_policy(Handle* h, const void* blob, std::uint64_t size) {
  return io_control(h, hivewarden::win::kIoctlSetPolicy, blob, static_cast<std::uint32_t>(size),
                    nullptr, 0);
}

std::int32_t push_policy_file(Handle* h, const char* name) {
  std::uint64_t size = 0;
  char* blob = read_data_file(name, size);
  if (blob == nullptr) return -1;
  const std::int32_t status = push_policy(h, blob, size);
  std::free(blob);
  return status;
}

Handle* load_with_box_policy(Report& report) {
  define_box_processes();
  const std::int32_t loaded = load_driver();
  if (loaded != kStatusSuccess) {
    report.fail("DriverEntry failed: 0x%lx", static_cast<unsigned long>(loaded));
    return nullptr;
  }
  std::int32_t status = 0;
  Handle* h = open_device_as(Caller::kSystem, kReadWrite, status);
  if (h == nullptr) {
    report.fail("SYSTEM cannot open the device: 0x%lx", static_cast<unsigned long>(status));
    return nullptr;
  }
  status = push_policy_file(h, "policy.hwp");
  if (status != kStatusSuccess) {
    report.fail("the box policy (data/policy.hwp) was refused: 0x%lx",
                static_cast<unsigned long>(status));
    return nullptr;
  }
  return h;
}

bool take_record(Handle* h, unsigned char* out, std::uint32_t capacity, std::uint32_t& size,
                 std::uint32_t ms) {
  AsyncIo* io = io_control_async(h, hivewarden::win::kIoctlGetNotification, nullptr, 0, capacity);
  if (!io_wait(io, ms)) {
    io_cancel(io);
    io_wait(io, 2000);
    io_free(io);
    return false;
  }
  const bool ok = io_status(io) == kStatusSuccess;
  const void* output = io_output(io, size);
  if (ok && size <= capacity) __builtin_memcpy(out, output, size);
  io_free(io);
  return ok;
}

bool read_counters(Handle* h, hivewarden::win::DriverCounters& counters) {
  std::uint32_t returned = 0;
  return io_control(h, hivewarden::win::kIoctlGetCounters, nullptr, 0, &counters, sizeof counters,
                    &returned) == kStatusSuccess &&
         returned >= 16;
}

void define_box_processes() {
  define_process(kRegPid, kRegImage, Caller::kUser);
  define_process(kSyncPid, L"C:\\Tools\\sync.exe", Caller::kUser);
  define_process(
      3312, L"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2302.7-0\\MsMpEng.exe",
      Caller::kSystem);
}

}  // namespace box::cases

namespace box::cases {
namespace {
void narrow(std::string_view utf16, char* out, std::size_t capacity) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < utf16.size() && n + 1 < capacity; i += 2) {
    const unsigned c =
        static_cast<unsigned char>(utf16[i]) | static_cast<unsigned char>(utf16[i + 1]) << 8;
    out[n++] = c < 128 ? static_cast<char>(c) : '?';
  }
  out[n] = 0;
}
}  // namespace

bool decode(const unsigned char* bytes, std::uint32_t size, Record& out) {
  hivewarden::RecordView view;
  hivewarden::RecordError error;
  if (!hivewarden::decode_record(bytes, size, view, error)) return false;
  out.fixed = view.fixed;
  narrow(view.bytes(hivewarden::kFieldKeyName), out.key, sizeof out.key);
  narrow(view.bytes(hivewarden::kFieldValueName), out.value, sizeof out.value);
  narrow(view.bytes(hivewarden::kFieldNewKeyName), out.new_key, sizeof out.new_key);
  const std::string_view after = view.bytes(hivewarden::kFieldDataAfter);
  out.data_after_size = static_cast<std::uint32_t>(after.size());
  __builtin_memcpy(out.data_after, after.data(), after.size() < 64 ? after.size() : 64);
  return true;
}

int take_records(Handle* h, Record* out, int capacity, std::uint32_t ms) {
  int n = 0;
  static unsigned char buffer[256 * 1024];
  std::uint32_t size = 0;
  while (n < capacity && take_record(h, buffer, sizeof buffer, size, ms)) {
    if (decode(buffer, size, out[n])) ++n;
  }
  return n;
}

RegOp set_value(const wchar_t* key, const wchar_t* value) {
  static const wchar_t data[] = L"box";
  RegOp op;
  op.pre_class = 0x01;
  op.key = key;
  op.value = value;
  op.type = 1;
  op.data = data;
  op.data_size = sizeof data;
  return op;
}

}  // namespace box::cases

namespace box::cases {
std::int32_t connect(Handle* h) {
  return io_control(h, hivewarden::win::kIoctlConnect, nullptr, 0, nullptr, 0);
}
bool tamper_write_denied() {
  become(kRegPid);
  const bool denied = cm_call(set_value(kLockedKey, L"Anything")) == kStatusAccessDenied;
  become(4, true);
  return denied;
}
}  // namespace box::cases
