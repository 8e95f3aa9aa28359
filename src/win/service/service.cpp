// hivewarden-svc.exe: the user-mode side of hivewarden.sys (SPEC §11). Pushes a compiled policy
// to the driver, prints its notification records as `hivewarden monitor` does (answering sync
// ones) as the driver's one consumer, prints its counters, and sets a running process's flags.
// The device opens for SYSTEM and Administrators only.
#include <windows.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/consumer/record_json.hpp"
#include "hivewarden/core/notification.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/util/bit_names.hpp"
#include "hivewarden/util/number.hpp"
#include "hivewarden/util/read_file.hpp"
#include "hivewarden/win/ioctl.hpp"

namespace {

using namespace hivewarden;

constexpr const char* kUsage =
    "usage: hivewarden-svc push POLICY.hwp\n"
    "           validate and install a compiled policy (the one in force stays if it is refused)\n"
    "       hivewarden-svc monitor [--json]\n"
    "           connect as the driver's one consumer and print notification records as they\n"
    "           arrive, acknowledging sync ones; refused while another consumer is connected\n"
    "       hivewarden-svc status\n"
    "           print the driver's counters (decisions, denials, records, drops, timeouts, ...)\n"
    "       hivewarden-svc set-process PID FLAGS RULES\n"
    "           give a running process flags and rules (SPEC 3) until it exits; FLAGS and RULES\n"
    "           are names joined by '|' (excluded|seces, allow-all-registry|notify-sync), 'none'\n"
    "           or numbers (0x21); 'none none' clears them\n"
    "       hivewarden-svc --help\n"
    "Process flags: system, av-service, excluded, service-sid, friendly, seces.\n"
    "Process rules: allow-all-registry, notify-sync.\n"
    "Compile policies with `hivewarden compile policy.yaml -o policy.hwp`. The device opens for\n"
    "SYSTEM and Administrators only: run from an elevated prompt.\n";

int usage(bool asked) {
  std::fputs(kUsage, asked ? stdout : stderr);
  return asked ? 0 : 2;
}

// Words for the Win32 errors the driver's NTSTATUS values become, else the system's own text.
std::string error_text(DWORD error) {
  switch (error) {
    case ERROR_ACCESS_DENIED:
      return "access denied: only SYSTEM and Administrators may use the device (run elevated)";
    case ERROR_FILE_NOT_FOUND:
      return "no such device: is hivewarden.sys loaded?";
    case ERROR_BUSY:  // STATUS_DEVICE_BUSY
      return "busy: another consumer (hivewarden-svc monitor) is connected to the driver";
    case ERROR_NO_SYSTEM_RESOURCES:  // STATUS_INSUFFICIENT_RESOURCES
    case ERROR_NOT_ENOUGH_MEMORY:
      return "the driver has no memory (or no room) for it";
    case ERROR_NOT_SUPPORTED:
      return "not supported by this driver (process notifications unavailable)";
    default:
      break;
  }
  char text[512] = "";
  FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, error, 0,
                 text, sizeof text, nullptr);
  std::string out = text;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.'))
    out.pop_back();
  return (out.empty() ? "error" : out) + " (error " + std::to_string(error) + ")";
}

HANDLE open_device(DWORD access) {
  HANDLE device = CreateFileW(win::kUserDevicePath, access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (device == INVALID_HANDLE_VALUE) {
    std::fprintf(stderr, "error: cannot open %ls: %s\n", win::kUserDevicePath,
                 error_text(GetLastError()).c_str());
  }
  return device;
}

// One IOCTL on a fresh handle; false with GetLastError() set as DeviceIoControl left it.
bool call_driver(DWORD access, DWORD code, const void* in, DWORD in_size, void* out, DWORD out_size,
                 DWORD& returned, DWORD& error) {
  HANDLE device = open_device(access);
  if (device == INVALID_HANDLE_VALUE) {
    error = 0;  // already reported
    return false;
  }
  returned = 0;
  const BOOL ok = DeviceIoControl(device, code, const_cast<void*>(in), in_size, out, out_size,
                                  &returned, nullptr);
  error = ok ? 0 : GetLastError();
  CloseHandle(device);
  return ok;
}

// --- push ---------------------------------------------------------------------------------------
// The control set a compiled policy was made for, and the machine's (0 when either is unknown).
std::uint32_t policy_control_set(const std::string& blob) {
  blob::Header header;
  if (blob.size() < sizeof header) return 0;
  std::memcpy(&header, blob.data(), sizeof header);
  return header.control_set;
}

std::uint32_t machine_control_set() {
  DWORD value = 0, size = sizeof value;
  if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SYSTEM\\Select", L"Current", RRF_RT_REG_DWORD, nullptr,
                   &value, &size) != ERROR_SUCCESS) {
    return 0;
  }
  return value;
}

std::string control_set_name(std::uint32_t number) {
  if (number == 0) return "an unknown control set";
  char name[32];
  std::snprintf(name, sizeof name, "ControlSet%03u", number);
  return name;
}

// Why the driver refused a policy, in words (SPEC 11: too big, corrupt, wrong control set).
std::string policy_refusal(DWORD error, const std::string& blob) {
  switch (error) {
    case ERROR_INVALID_USER_BUFFER:  // STATUS_INVALID_BUFFER_SIZE
      return "too big: the driver takes at most " + std::to_string(win::kMaxPolicyBytes >> 20) +
             " MiB";
    case ERROR_INVALID_PARAMETER:  // STATUS_INVALID_PARAMETER
      return "corrupt: not a compiled policy the driver's validation accepts (recompile it with "
             "this version's `hivewarden compile`)";
    case ERROR_REVISION_MISMATCH: {  // STATUS_REVISION_MISMATCH
      return "wrong control set: the policy was compiled for " +
             control_set_name(policy_control_set(blob)) + ", this machine's CurrentControlSet is " +
             control_set_name(machine_control_set()) +
             " (set control_set in the policy to HKLM\\SYSTEM\\Select\\Current)";
    }
    default:
      return error_text(error);
  }
}

int push(const char* path) {
  std::string blob, why;
  // A compiled policy is bounded by the driver's cap, not by the YAML file's.
  const ReadFileStatus read = read_file_bounded(path, win::kMaxPolicyBytes, blob, why);
  if (read == ReadFileStatus::kTooLarge) {
    std::fprintf(stderr, "error: %s: %s; the policy in force stays\n", path,
                 policy_refusal(ERROR_INVALID_USER_BUFFER, blob).c_str());
    return 2;
  }
  if (read != ReadFileStatus::kOk) {
    std::fprintf(stderr, "error: %s: %s\n", path, why.c_str());
    return 2;
  }
  DWORD returned = 0, error = 0;
  if (!call_driver(GENERIC_READ | GENERIC_WRITE, win::kIoctlSetPolicy, blob.data(),
                   static_cast<DWORD>(blob.size()), nullptr, 0, returned, error)) {
    if (error != 0) {
      std::fprintf(stderr, "error: the driver refused %s: %s; the policy in force stays\n", path,
                   policy_refusal(error, blob).c_str());
    }
    return 2;
  }
  std::fprintf(stderr, "installed %s (%zu bytes)\n", path, blob.size());
  return 0;
}

// --- monitor ------------------------------------------------------------------------------------
void print_record(const RecordView& view, bool json) {
  const std::string line =
      json ? record_to_json(view).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
           : record_to_text(view);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// Takes records until the driver or the handle fails; returns the exit code.
int read_records(HANDLE device, bool json) {
  std::vector<unsigned char> buffer(1u << 20);  // records are far smaller; the driver says if not
  for (;;) {
    DWORD returned = 0;
    if (!DeviceIoControl(device, win::kIoctlGetNotification, nullptr, 0, buffer.data(),
                         static_cast<DWORD>(buffer.size()), &returned, nullptr)) {
      const DWORD error = GetLastError();
      if (error == ERROR_INSUFFICIENT_BUFFER) {  // the driver dropped (and counted) that record
        std::fprintf(stderr, "skipped a record larger than %zu bytes\n", buffer.size());
        continue;
      }
      std::fprintf(stderr, "error: reading notifications failed: %s\n", error_text(error).c_str());
      return 2;
    }
    RecordView view;
    RecordError error;
    if (!decode_record(buffer.data(), returned, view, error)) {
      std::fprintf(stderr, "skipped a malformed record: %s\n", error.what);
      continue;
    }
    print_record(view, json);
    if (view.fixed.message_type == static_cast<std::uint16_t>(MessageType::kRegistryEventSync)) {
      ULONG64 sequence = view.fixed.sequence;
      DeviceIoControl(device, win::kIoctlAcknowledge, &sequence, sizeof sequence, nullptr, 0,
                      &returned, nullptr);  // a late one finds no waiter: nothing to do
    }
  }
}

int monitor(bool json) {
  HANDLE device = open_device(GENERIC_READ | GENERIC_WRITE);
  if (device == INVALID_HANDLE_VALUE) return 2;
  DWORD returned = 0;
  if (!DeviceIoControl(device, win::kIoctlConnect, nullptr, 0, nullptr, 0, &returned, nullptr)) {
    const DWORD error = GetLastError();
    std::fprintf(stderr, "error: cannot connect to the driver: %s\n",
                 error == ERROR_BUSY ? "another hivewarden-svc monitor is connected (the driver "
                                       "has one consumer at a time); stop it first"
                                     : error_text(error).c_str());
    CloseHandle(device);
    return 2;
  }
  std::fprintf(stderr, "connected: records follow\n");
  const int code = read_records(device, json);
  CloseHandle(device);  // the driver drops the connection (and what was queued for it)
  return code;
}

// --- status -------------------------------------------------------------------------------------
int status() {
  win::DriverCounters counters;
  DWORD returned = 0, error = 0;
  if (!call_driver(GENERIC_READ, win::kIoctlGetCounters, nullptr, 0, &counters, sizeof counters,
                   returned, error)) {
    if (error != 0)
      std::fprintf(stderr, "error: reading the counters failed: %s\n", error_text(error).c_str());
    return 2;
  }
  if (returned < sizeof counters) {
    std::fprintf(stderr, "error: the driver returned %lu bytes of counters, not %zu\n", returned,
                 sizeof counters);
    return 2;
  }
  const std::pair<const char*, std::uint64_t> rows[] = {
      {"consumer_connected", counters.consumer_connected},
      {"decisions", counters.decisions},
      {"denials", counters.denials},
      {"undecided_writes_denied", counters.undecided_writes_denied},
      {"undecided_reads_allowed", counters.undecided_reads_allowed},
      {"records_sent", counters.records_sent},
      {"records_dropped", counters.records_dropped},
      {"sync_timeouts", counters.sync_timeouts},
      {"queued_records", counters.queued_records},
      {"queued_bytes", counters.queued_bytes},
      {"policy_swaps", counters.policy_swaps},
      {"policy_rejected", counters.policy_rejected},
      {"call_contexts_outstanding", counters.call_contexts_outstanding},
      {"process_entries", counters.process_entries},
  };
  for (const auto& [name, value] : rows) std::printf("%-26s %" PRIu64 "\n", name, value);
  return 0;
}

// --- set-process --------------------------------------------------------------------------------
int set_process(const char* pid_text, const char* flags_text, const char* rules_text) {
  win::ProcessFlagsRequest request;
  std::string error;
  const std::optional<std::uint64_t> pid =
      parse_unsigned(pid_text, NumberForm{NumberBase::kDecimalOr0x, 32});
  if (!pid || *pid == 0) {
    std::fprintf(stderr, "error: PID `%s` is not a process id (a number above 0)\n", pid_text);
    return 2;
  }
  request.pid = *pid;
  if (!parse_process_flags(flags_text, request.flags, error) ||
      !parse_process_rules(rules_text, request.rules, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 2;
  }
  DWORD returned = 0, win_error = 0;
  if (!call_driver(GENERIC_READ | GENERIC_WRITE, win::kIoctlSetProcessFlags, &request,
                   sizeof request, nullptr, 0, returned, win_error)) {
    if (win_error == ERROR_NO_SYSTEM_RESOURCES) {
      std::fprintf(stderr, "error: the driver's process table is full\n");
    } else if (win_error == ERROR_NOT_FOUND) {  // STATUS_NOT_FOUND
      std::fprintf(stderr, "error: no running process has PID %" PRIu64 "\n", request.pid);
    } else if (win_error != 0) {
      std::fprintf(stderr, "error: the driver refused: %s\n", error_text(win_error).c_str());
    }
    return 2;
  }
  std::printf("process %" PRIu64 ": flags %s, rules %s (until it exits)\n", request.pid,
              process_flag_names(request.flags).c_str(), process_rule_names(request.rules).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc >= 2 ? argv[1] : "";
  if (command == "--help" || command == "-h" || command == "help") return usage(true);
  if (command == "push" && argc == 3) return push(argv[2]);
  if (command == "monitor" && argc == 2) return monitor(false);
  if (command == "monitor" && argc == 3 && std::strcmp(argv[2], "--json") == 0)
    return monitor(true);
  if (command == "status" && argc == 2) return status();
  if (command == "set-process" && argc == 5) return set_process(argv[2], argv[3], argv[4]);
  return usage(false);
}
