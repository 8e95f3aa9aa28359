// hivewarden-svc.exe: the user-mode side of hivewarden.sys. Pushes a compiled policy to the
// driver and prints its notification records as `hivewarden monitor` does, answering sync ones.
#include <windows.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "hivewarden/consumer/record_json.hpp"
#include "hivewarden/core/notification.hpp"
#include "hivewarden/policy/yaml_limits.hpp"
#include "hivewarden/util/read_file.hpp"
#include "hivewarden/win/ioctl.hpp"

namespace {

using namespace hivewarden;

int usage() {
  std::fprintf(stderr,
               "usage: hivewarden-svc push POLICY.hwp     validate and install a compiled policy\n"
               "       hivewarden-svc monitor [--json]     print notification records as they arrive\n"
               "Compile policies with `hivewarden compile policy.yaml -o policy.hwp`.\n");
  return 2;
}

HANDLE open_device() {
  HANDLE device = CreateFileW(win::kUserDevicePath, GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (device == INVALID_HANDLE_VALUE) {
    std::fprintf(stderr, "error: cannot open %ls (is hivewarden.sys loaded? error %lu)\n", win::kUserDevicePath, GetLastError());
  }
  return device;
}

int push(const char* path) {
  std::string blob, why;
  if (read_file_bounded(path, policy::limits::kMaxPolicyFileBytes, blob, why) != ReadFileStatus::kOk) {
    std::fprintf(stderr, "error: %s: %s\n", path, why.c_str());
    return 2;
  }
  HANDLE device = open_device();
  if (device == INVALID_HANDLE_VALUE) return 2;
  DWORD returned = 0;
  const BOOL ok = DeviceIoControl(device, win::kIoctlSetPolicy, blob.data(), static_cast<DWORD>(blob.size()), nullptr, 0,
                                  &returned, nullptr);
  CloseHandle(device);
  if (!ok) {
    std::fprintf(stderr, "error: the driver rejected %s (error %lu); the policy in force stays\n", path, GetLastError());
    return 2;
  }
  std::fprintf(stderr, "installed %s (%zu bytes)\n", path, blob.size());
  return 0;
}

int monitor(bool json) {
  HANDLE device = open_device();
  if (device == INVALID_HANDLE_VALUE) return 2;
  std::vector<unsigned char> buffer(1u << 20);  // records are far smaller; the driver says if not
  for (;;) {
    DWORD returned = 0;
    if (!DeviceIoControl(device, win::kIoctlGetNotification, nullptr, 0, buffer.data(), static_cast<DWORD>(buffer.size()),
                         &returned, nullptr)) {
      std::fprintf(stderr, "error: reading notifications failed (error %lu)\n", GetLastError());
      CloseHandle(device);
      return 2;
    }
    RecordView view;
    RecordError error;
    if (!decode_record(buffer.data(), returned, view, error)) {
      std::fprintf(stderr, "skipped a malformed record: %s\n", error.what);
      continue;
    }
    const std::string line = json ? record_to_json(view).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                                  : record_to_text(view);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (view.fixed.message_type == static_cast<std::uint16_t>(MessageType::kRegistryEventSync)) {
      ULONG64 sequence = view.fixed.sequence;
      DeviceIoControl(device, win::kIoctlAcknowledge, &sequence, sizeof sequence, nullptr, 0, &returned, nullptr);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "push") == 0) return push(argv[2]);
  if (argc >= 2 && std::strcmp(argv[1], "monitor") == 0) return monitor(argc >= 3 && std::strcmp(argv[2], "--json") == 0);
  return usage();
}
