// The control channel attacked (issue 12, helper A2): as a hostile or buggy service would use it
// (wrong buffer sizes, unknown codes, acknowledgements that do not match, requests pended then
// abandoned) and as an unlucky scheduler would order it (records lost while their senders wait).
#include <cstdlib>
#include <cstring>

#include "host.hpp"
#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {
namespace win = hivewarden::win;
constexpr std::int32_t kStatusBufferTooSmall = static_cast<std::int32_t>(0xC0000023);
constexpr std::int32_t kStatusNotFound = static_cast<std::int32_t>(0xC0000225);
constexpr std::int32_t kStatusPending = 0x103;

// A sync writer (C:\Tools\sync.exe, notify-sync) on its own thread, timed.
struct SyncWriter {
  const wchar_t* value = L"Sync";
  std::uint64_t took_ms = 0;
  void* thread = nullptr;
  static void run(void* p) {
    auto* self = static_cast<SyncWriter*>(p);
    become(kSyncPid);
    const std::uint64_t start = host::now_ms();
    cm_call(set_value(kWatchedKey, self->value));
    self->took_ms = host::now_ms() - start;
  }
  void start() { thread = host::thread_start(&SyncWriter::run, this); }
  void join() { host::thread_join(thread); }
};

win::DriverCounters counters_of(Handle* h) {
  win::DriverCounters counters;
  if (!read_counters(h, counters)) std::memset(&counters, 0xFF, sizeof counters);
  return counters;
}

// Waits (at most `ms`) until `h`'s driver has `n` records queued.
bool wait_queued(Handle* h, std::uint64_t n, std::uint32_t ms) {
  const std::uint64_t deadline = host::now_ms() + ms;
  while (counters_of(h).queued_records < n) {
    if (host::now_ms() >= deadline) return false;
    host::sleep_ms(5);
  }
  return true;
}

// A set-value of `size` bytes of REG_BINARY under the watched key by reg.exe (an async record
// carrying the data).
std::int32_t big_watched_write(const void* data, std::uint32_t size) {
  RegOp op = set_value(kWatchedKey, L"Big");
  op.type = 3;
  op.data = data;
  op.data_size = size;
  become(kRegPid);
  const std::int32_t status = cm_call(op);
  become(4, true);
  return status;
}

unsigned long hex(std::int32_t status) {
  return static_cast<unsigned long>(status);
}

}  // namespace

// A sync record handed to a request whose buffer is too small is dropped (counted): nobody will
// ever acknowledge it, so its writer must not wait out the second for it (nor count a time-out).
BOX_CASE(sync_record_lost_to_a_small_buffer_releases_its_writer) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "the service connects");
  AsyncIo* small = io_control_async(h, win::kIoctlGetNotification, nullptr, 0, 16);
  report.check(!io_wait(small, 50), "a GET_NOTIFICATION with a 16-byte buffer pends");
  SyncWriter writer;
  writer.start();
  report.check(io_wait(small, 2000) && io_status(small) == kStatusBufferTooSmall,
               "the sync record reaches it: STATUS_BUFFER_TOO_SMALL");
  io_free(small);
  writer.join();
  if (writer.took_ms >= 500) {
    report.fail("the writer of the dropped sync record waited %llu ms for an acknowledgement",
                static_cast<unsigned long long>(writer.took_ms));
  }
  const win::DriverCounters c = counters_of(h);
  report.check(c.records_dropped == 1, "the record is counted as dropped");
  report.check(c.sync_timeouts == 0, "no acknowledgement was missed: no time-out counted");
  io_close(h);
}

// A sync record pushed out of a full queue (8 MiB of records behind it) is gone: its writer is
// released at once, and the queue's counters add up (sent + dropped + queued = records made).
BOX_CASE(sync_record_pushed_out_of_a_full_queue_releases_its_writer) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "the service connects");
  SyncWriter writer;
  writer.start();
  if (!report.check(wait_queued(h, 1, 2000), "the sync record is queued")) {
    writer.join();
    io_close(h);
    return;
  }
  static unsigned char data[12 * 1024];
  std::memset(data, 0xA5, sizeof data);
  std::uint64_t writes = 0;
  while (writes < 2000 && counters_of(h).records_dropped == 0) {
    for (int i = 0; i < 20; ++i, ++writes) big_watched_write(data, sizeof data);
  }
  writer.join();
  win::DriverCounters c = counters_of(h);
  report.check(c.records_dropped >= 1, "the queue dropped its oldest records");
  report.check(c.queued_bytes <= (8ull << 20), "the queue holds at most 8 MiB of records");
  report.check(c.records_sent + c.records_dropped + c.queued_records == writes + 1,
               "every record made is sent, dropped or queued");
  report.check(c.sync_timeouts == 0, "the dropped sync record's writer counted no time-out");
  if (writer.took_ms >= 900) {
    report.fail("the writer of the dropped sync record waited %llu ms",
                static_cast<unsigned long long>(writer.took_ms));
  }
  Record r;
  static unsigned char buffer[65536];
  std::uint32_t size = 0;
  if (report.check(take_record(h, buffer, sizeof buffer, size, 500) && decode(buffer, size, r),
                   "a record comes")) {
    report.check(r.fixed.sequence > 1, "the oldest (the sync record, sequence 1) was dropped");
  }
  io_close(h);
}

// One acknowledgement per sync record: the second for the same sequence finds no waiter, however
// quickly it follows the first; so do a sequence that never existed and one from another handle.
BOX_CASE(a_sync_record_is_acknowledged_once) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "the service connects");
  std::int32_t status = 0;
  Handle* other = open_device_as(Caller::kSystem, kReadWrite, status);
  static unsigned char buffer[65536];
  for (int round = 0; round < 8; ++round) {
    SyncWriter writer;
    writer.start();
    Record r;
    std::uint32_t size = 0;
    if (!report.check(take_record(h, buffer, sizeof buffer, size, 1000) && decode(buffer, size, r),
                      "the sync record comes")) {
      writer.join();
      break;
    }
    std::uint64_t never = r.fixed.sequence + 1000;
    report.check(io_control(h, win::kIoctlAcknowledge, &never, 8, nullptr, 0) == kStatusNotFound,
                 "a sequence that never existed: STATUS_NOT_FOUND");
    report.check(io_control(other, win::kIoctlAcknowledge, &r.fixed.sequence, 8, nullptr, 0) ==
                     kStatusDeviceBusy,
                 "from a handle that is not the consumer: STATUS_DEVICE_BUSY");
    const std::int32_t first =
        io_control(h, win::kIoctlAcknowledge, &r.fixed.sequence, 8, nullptr, 0);
    const std::int32_t second =
        io_control(h, win::kIoctlAcknowledge, &r.fixed.sequence, 8, nullptr, 0);
    writer.join();
    report.check(first == kStatusSuccess, "the first acknowledgement: STATUS_SUCCESS");
    if (second != kStatusNotFound) {
      report.fail(
          "round %d: a second acknowledgement of sequence %llu: 0x%lx, not "
          "STATUS_NOT_FOUND",
          round, static_cast<unsigned long long>(r.fixed.sequence), hex(second));
    }
    report.check(writer.took_ms < 700, "the acknowledgement released the writer");
  }
  report.check(counters_of(h).sync_timeouts == 0, "no time-out counted");
  io_close(other);
  io_close(h);
}

}  // namespace box::cases
