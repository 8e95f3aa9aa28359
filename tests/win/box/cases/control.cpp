// The control channel (SPEC §11): who may open the device and with which access bits each IOCTL
// is allowed, policies refused with the old one kept, one consumer, records taken and
// acknowledged, the sync time-out, no records without a consumer, counters.
#include <cstdlib>
#include <cstring>

#include "host.hpp"
#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {
namespace win = hivewarden::win;
constexpr std::uint32_t kFileReadData = 0x1, kFileWriteData = 0x2, kSynchronize = 0x100000;

unsigned long hex(std::int32_t status) {
  return static_cast<unsigned long>(status);
}
}  // namespace

BOX_CASE(plain_user_cannot_open_the_device, "SPEC 11: secured control device") {
  define_box_processes();
  if (!report.check(load_driver() == kStatusSuccess, "DriverEntry succeeds")) return;
  for (std::uint32_t access : {kRead, kReadWrite, kFileReadData | kSynchronize, kSynchronize}) {
    std::int32_t status = 0;
    Handle* h = open_device_as(Caller::kUser, access, status);
    if (h != nullptr) {
      report.fail("a plain user opened the device for access 0x%x", access);
      io_close(h);
    } else {
      report.check(status == kStatusAccessDenied, "refused with STATUS_ACCESS_DENIED");
    }
  }
  for (Caller caller : {Caller::kSystem, Caller::kAdministrator}) {
    std::int32_t status = 0;
    Handle* h = open_device_as(caller, kReadWrite, status);
    report.check(h != nullptr, "SYSTEM and Administrators open it for reading and writing");
    if (h != nullptr) io_close(h);
  }
}

BOX_CASE(ioctls_need_their_access_bits) {
  Handle* admin = load_with_box_policy(report);
  if (admin == nullptr) return;
  std::int32_t status = 0;
  Handle* reader = open_device_as(Caller::kSystem, kFileReadData | kSynchronize, status);
  if (!report.check(reader != nullptr, "SYSTEM opens a read-only handle")) return;
  std::uint64_t size = 0;
  char* blob = read_data_file("policy.hwp", size);
  report.check(push_policy(reader, blob, size) == kStatusAccessDenied,
               "SET_POLICY needs write access");
  std::uint64_t sequence = 1;
  report.check(
      io_control(reader, win::kIoctlAcknowledge, &sequence, 8, nullptr, 0) == kStatusAccessDenied,
      "ACKNOWLEDGE needs write access");
  win::ProcessFlagsRequest flags{kRegPid, 0x1, 0};
  report.check(io_control(reader, win::kIoctlSetProcessFlags, &flags, sizeof flags, nullptr, 0) ==
                   kStatusAccessDenied,
               "SET_PROCESS_FLAGS needs write access");
  report.check(connect(reader) == kStatusAccessDenied, "CONNECT needs read and write access");
  Handle* writer = open_device_as(Caller::kSystem, kFileWriteData | kSynchronize, status);
  if (writer != nullptr) {
    unsigned char out[64];
    std::uint32_t got = 0;
    report.check(!take_record(writer, out, sizeof out, got, 50),
                 "GET_NOTIFICATION needs read access");
    io_close(writer);
  }
  std::free(blob);
  io_close(reader);
  io_close(admin);
}

BOX_CASE(bad_policies_refused_and_the_old_one_kept,
         "SPEC 11: policy size cap, machine control set") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  std::uint64_t size = 0;
  char* blob = read_data_file("policy.hwp", size);
  // Corrupt: every 7th byte flipped past the header, then a truncation.
  char* corrupt = static_cast<char*>(std::malloc(size));
  std::memcpy(corrupt, blob, size);
  for (std::uint64_t i = 16; i < size; i += 7) corrupt[i] ^= 0x5A;
  std::int32_t status = push_policy(h, corrupt, size);
  report.check(status == kStatusInvalidParameter, "a corrupt policy: STATUS_INVALID_PARAMETER");
  report.check(tamper_write_denied(), "the old policy still decides after a corrupt one");
  status = push_policy(h, blob, size / 2);
  report.check(status == kStatusInvalidParameter, "a truncated policy: STATUS_INVALID_PARAMETER");
  report.check(tamper_write_denied(), "the old policy still decides after a truncated one");
  // Too big: the cap is checked before anything is copied.
  const std::uint64_t huge = win::kMaxPolicyBytes + 1ull;
  char* big = static_cast<char*>(std::calloc(1, huge));
  std::memcpy(big, blob, size);
  status = push_policy(h, big, huge);
  std::free(big);
  if (status != kStatusInvalidBufferSize) {
    report.fail("a policy over kMaxPolicyBytes: 0x%lx, not STATUS_INVALID_BUFFER_SIZE",
                hex(status));
  }
  report.check(tamper_write_denied(), "the old policy still decides after a too big one");
  status = push_policy_file(h, "policy-cs2.hwp");
  if (status != kStatusRevisionMismatch) {
    report.fail(
        "a policy for ControlSet002 on a ControlSet001 machine: 0x%lx, not "
        "STATUS_REVISION_MISMATCH",
        hex(status));
  }
  report.check(tamper_write_denied(), "the old policy still decides after a wrong control set");
  report.check(push_policy(h, nullptr, 0) == kStatusInvalidParameter, "an empty push is refused");
  report.check(tamper_write_denied(), "the old policy still decides after an empty push");
  win::DriverCounters counters;
  if (report.check(read_counters(h, counters), "counters readable")) {
    report.check(counters.policy_rejected >= 5, "rejected policies counted");
  }
  std::free(corrupt);
  std::free(blob);
  io_close(h);
}

BOX_CASE(one_consumer_at_a_time, "SPEC 11: one consumer (kIoctlConnect)") {
  Handle* first = load_with_box_policy(report);
  if (first == nullptr) return;
  std::int32_t status = 0;
  Handle* second = open_device_as(Caller::kSystem, kReadWrite, status);
  report.check(connect(first) == kStatusSuccess, "the first handle connects");
  report.check(connect(second) == kStatusDeviceBusy, "a second consumer: STATUS_DEVICE_BUSY");
  unsigned char out[64];
  std::uint32_t got = 0;
  AsyncIo* io = io_control_async(second, win::kIoctlGetNotification, nullptr, 0, sizeof out);
  report.check(io_wait(io, 200) && io_status(io) == kStatusDeviceBusy,
               "GET_NOTIFICATION from a handle that is not the consumer: STATUS_DEVICE_BUSY");
  if (!io_wait(io, 0)) {
    io_cancel(io);
    io_wait(io, 1000);
  }
  io_free(io);
  // The consumer's pended request completes (cancelled) when its handle is cleaned up.
  AsyncIo* pended = io_control_async(first, win::kIoctlGetNotification, nullptr, 0, 4096);
  report.check(!io_wait(pended, 100), "GET_NOTIFICATION pends while there is no record");
  report.check(io_close(first), "the consumer's pended request completes at its cleanup");
  report.check(io_wait(pended, 1000) && io_status(pended) == kStatusCancelled,
               "with STATUS_CANCELLED");
  io_free(pended);
  report.check(connect(second) == kStatusSuccess,
               "another handle connects once the consumer is gone");
  (void)got;
  io_close(second);
}

BOX_CASE(records_read_and_acknowledged,
         "SPEC 11: process images in C:\\ form (notify-sync by image)") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  // A denial (async) and a sync completion, acknowledged.
  report.check(tamper_write_denied(), "the tamper-protected write is denied");
  Record r;
  static unsigned char buffer[65536];
  std::uint32_t size = 0;
  if (report.check(take_record(h, buffer, sizeof buffer, size, 500) && decode(buffer, size, r),
                   "the denial record comes")) {
    report.check(std::strstr(r.key, "\\Box\\Locked") != nullptr, "it names the key");
    report.check(r.fixed.status == 0xC0000022u, "with the denial's status");
  }
  struct Writer {
    std::uint64_t took_ms = 0;
    static void run(void* p) {
      become(kSyncPid);
      const std::uint64_t start = host::now_ms();
      cm_call(set_value(kWatchedKey, L"Sync"));
      static_cast<Writer*>(p)->took_ms = host::now_ms() - start;
    }
  } writer;
  void* thread = host::thread_start(&Writer::run, &writer);
  if (report.check(take_record(h, buffer, sizeof buffer, size, 1000) && decode(buffer, size, r),
                   "the sync record comes")) {
    report.check(r.fixed.message_type == 2, "as RegistryEventSync");
    io_control(h, win::kIoctlAcknowledge, &r.fixed.sequence, 8, nullptr, 0);
  }
  host::thread_join(thread);
  report.check(writer.took_ms < 700, "the acknowledgement releases the writer before the time-out");
  io_close(h);
}

BOX_CASE(sync_times_out_when_none_answers,
         "SPEC 11: process images in C:\\ form (notify-sync by image)") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kSyncPid);
  const std::uint64_t start = host::now_ms();
  const std::int32_t status = cm_call(set_value(kWatchedKey, L"Sync"));
  const std::uint64_t took = host::now_ms() - start;
  become(4, true);
  report.check(status == kStatusSuccess, "the write goes ahead");
  if (took < 900 || took > 3000)
    report.fail("the writer waited %llu ms, about 1000 expected",
                static_cast<unsigned long long>(took));
  win::DriverCounters counters;
  if (report.check(read_counters(h, counters), "counters readable")) {
    report.check(counters.sync_timeouts == 1, "the time-out is counted");
  }
  io_close(h);
}

BOX_CASE(no_records_while_no_consumer, "SPEC 11: no records without a consumer") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(tamper_write_denied(), "denied without a consumer too");
  become(kSyncPid);
  const std::uint64_t start = host::now_ms();
  cm_call(set_value(kWatchedKey, L"Sync"));
  become(4, true);
  report.check(host::now_ms() - start < 300, "no sync wait without a consumer");
  report.check(connect(h) == kStatusSuccess, "the service connects afterwards");
  Record records[8];
  report.check(take_records(h, records, 8, 200) == 0, "no record was built before it connected");
  io_close(h);
}

BOX_CASE(counters_read, "SPEC 11: counters (GET_COUNTERS)") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  tamper_write_denied();
  become(kRegPid);
  cm_call(set_value(kWatchedKey, L"Counted"));
  become(4, true);
  win::DriverCounters counters;
  if (!report.check(read_counters(h, counters), "GET_COUNTERS succeeds")) return;
  report.check(counters.size == sizeof counters, "size is the structure's");
  report.check(counters.consumer_connected == 1, "the consumer is connected");
  report.check(counters.decisions >= 2 && counters.denials >= 1, "decisions and denials counted");
  report.check(counters.records_sent + counters.queued_records >= 2, "records counted");
  std::uint32_t returned = 0;
  unsigned char small[8];
  report.check(io_control(h, win::kIoctlGetCounters, nullptr, 0, small, sizeof small, &returned) ==
                   static_cast<std::int32_t>(0xC0000023),
               "a smaller buffer: STATUS_BUFFER_TOO_SMALL");
  io_close(h);
}

BOX_CASE(process_flags_set_by_the_service_dropped_at_exit,
         "SPEC 11: per-process flags (SET_PROCESS_FLAGS)") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  const RegOp guarded = set_value(L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Guarded", L"Setting1");
  win::ProcessFlagsRequest request{kRegPid, 0x1 /* excluded */, 0};
  report.check(io_control(h, win::kIoctlSetProcessFlags, &request, sizeof request, nullptr, 0) ==
                   kStatusSuccess,
               "SET_PROCESS_FLAGS succeeds");
  become(kRegPid);
  report.check(cm_call(guarded) == kStatusSuccess,
               "the excluded process may write past a deny rule");
  become(4, true);
  process_exits(kRegPid);
  define_process(kRegPid, kRegImage, Caller::kUser);  // the pid is reused by a new process
  become(kRegPid);
  report.check(cm_call(guarded) == kStatusAccessDenied,
               "its flags went with it: the new process is denied");
  become(4, true);
  io_close(h);
}

}  // namespace box::cases
