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
  if (!read_counters(h, counters))
    std::memset(static_cast<void*>(&counters), 0xFF, sizeof counters);
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

namespace box::cases {
namespace {
constexpr std::int32_t kStatusInvalidDeviceRequest = static_cast<std::int32_t>(0xC0000010);

// CTL_CODE(FILE_DEVICE_UNKNOWN, function, method, access).
std::uint32_t any_code(std::uint32_t function, std::uint32_t method, std::uint32_t access) {
  return (0x22u << 16) | (access << 14) | (function << 2) | method;
}
}  // namespace

// Every wrong size and every code the driver does not define, from an administrator's handle
// with read and write access: refused with a status, nothing taken, the policy unchanged.
BOX_CASE(wrong_sizes_and_unknown_codes_are_refused) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  std::uint64_t one = 1;
  report.check(io_control(h, win::kIoctlAcknowledge, &one, 8, nullptr, 0) == kStatusDeviceBusy,
               "ACKNOWLEDGE before CONNECT: STATUS_DEVICE_BUSY");
  report.check(connect(h) == kStatusSuccess, "the service connects");
  static unsigned char bytes[64];
  for (std::uint32_t size : {0u, 1u, 7u, 9u, 16u, 64u}) {
    if (io_control(h, win::kIoctlAcknowledge, size ? bytes : nullptr, size, nullptr, 0) !=
        kStatusInvalidParameter) {
      report.fail("ACKNOWLEDGE with %u input bytes is not STATUS_INVALID_PARAMETER", size);
    }
    if (io_control(h, win::kIoctlSetProcessFlags, size ? bytes : nullptr, size, nullptr, 0) !=
        kStatusInvalidParameter) {
      report.fail("SET_PROCESS_FLAGS with %u input bytes is not STATUS_INVALID_PARAMETER", size);
    }
  }
  std::uint32_t returned = 7;
  report.check(io_control(h, win::kIoctlGetCounters, nullptr, 0, nullptr, 0, &returned) ==
                   kStatusBufferTooSmall,
               "GET_COUNTERS without an output buffer: STATUS_BUFFER_TOO_SMALL");
  static unsigned char large[1 << 20];
  report.check(io_control(h, win::kIoctlGetCounters, nullptr, 0, large, sizeof large, &returned) ==
                       kStatusSuccess &&
                   returned == sizeof(win::DriverCounters),
               "GET_COUNTERS into 1 MiB: exactly the counters");
  for (std::uint32_t function :
       {0x0u, 0x7FFu, 0x806u, 0xFFFu, 0x800u, 0x801u, 0x802u, 0x803u, 0x804u, 0x805u}) {
    for (std::uint32_t method = 0; method < 4; ++method) {
      for (std::uint32_t access = 0; access < 4; ++access) {
        const std::uint32_t code = any_code(function, method, access);
        if (code == win::kIoctlSetPolicy || code == win::kIoctlGetNotification ||
            code == win::kIoctlAcknowledge || code == win::kIoctlConnect ||
            code == win::kIoctlGetCounters || code == win::kIoctlSetProcessFlags) {
          continue;
        }
        const std::int32_t status = io_control(h, code, bytes, sizeof bytes, large, 64);
        if (status != kStatusInvalidDeviceRequest) {
          report.fail("code 0x%x: 0x%lx, not STATUS_INVALID_DEVICE_REQUEST", code, hex(status));
        }
      }
    }
  }
  // Exactly the cap is not too big (it is garbage: corrupt), one byte more is.
  char* cap = static_cast<char*>(std::calloc(1, win::kMaxPolicyBytes + 1ull));
  report.check(push_policy(h, cap, win::kMaxPolicyBytes) == kStatusInvalidParameter,
               "kMaxPolicyBytes of garbage: STATUS_INVALID_PARAMETER (size accepted)");
  report.check(push_policy(h, cap, win::kMaxPolicyBytes + 1ull) == kStatusInvalidBufferSize,
               "kMaxPolicyBytes + 1: STATUS_INVALID_BUFFER_SIZE");
  std::free(cap);
  report.check(tamper_write_denied(), "the box policy still decides");
  const win::DriverCounters c = counters_of(h);
  report.check(c.records_dropped == 0 && c.sync_timeouts == 0, "nothing dropped, no time-out");
  io_close(h);
}

// A consumer pends 100 requests and closes its handle: each completes once, cancelled, at the
// cleanup; another handle connects at once.
BOX_CASE(a_hundred_pended_requests_end_with_the_consumer) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "the service connects");
  static AsyncIo* pended[100];
  for (AsyncIo*& io : pended)
    io = io_control_async(h, win::kIoctlGetNotification, nullptr, 0, 4096);
  report.check(!io_wait(pended[99], 20), "they pend");
  report.check(io_close(h), "every pended request completes at the consumer's cleanup");
  int cancelled = 0;
  for (AsyncIo* io : pended) {
    cancelled += io_wait(io, 1000) && io_status(io) == kStatusCancelled ? 1 : 0;
    io_free(io);
  }
  if (cancelled != 100) report.fail("%d of 100 completed STATUS_CANCELLED", cancelled);
  std::int32_t status = 0;
  Handle* next = open_device_as(Caller::kSystem, kReadWrite, status);
  report.check(next != nullptr && connect(next) == kStatusSuccess, "another handle connects");
  if (next != nullptr) io_close(next);
}

// Cancels racing deliveries: one thread pends and cancels requests while another makes records.
// Each request is completed once (the box bugchecks on a second completion) and every record made
// is sent, dropped or still queued.
BOX_CASE(cancel_racing_delivery_loses_nothing_uncounted) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "the service connects");
  struct Writer {
    volatile bool stop = false;
    std::uint64_t writes = 0;
    static void run(void* p) {
      auto* self = static_cast<Writer*>(p);
      static const unsigned char data[64] = {1};
      while (!self->stop) {
        big_watched_write(data, sizeof data);
        ++self->writes;
      }
    }
  } writer;
  void* thread = host::thread_start(&Writer::run, &writer);
  std::uint64_t delivered = 0;
  for (int i = 0; i < 400; ++i) {
    AsyncIo* io = io_control_async(h, win::kIoctlGetNotification, nullptr, 0, 65536);
    if (i % 3 != 0) host::yield();
    io_cancel(io);
    if (!io_wait(io, 2000)) {
      report.fail("request %d was not completed after its cancel", i);
      break;
    }
    delivered += io_status(io) == kStatusSuccess ? 1 : 0;
    io_free(io);
  }
  writer.stop = true;
  host::thread_join(thread);
  const win::DriverCounters c = counters_of(h);
  report.check(c.records_sent == delivered, "records_sent is what the requests received");
  if (c.records_sent + c.records_dropped + c.queued_records != writer.writes) {
    report.fail("%llu writes, but sent %llu + dropped %llu + queued %llu",
                static_cast<unsigned long long>(writer.writes),
                static_cast<unsigned long long>(c.records_sent),
                static_cast<unsigned long long>(c.records_dropped),
                static_cast<unsigned long long>(c.queued_records));
  }
  io_close(h);
}

}  // namespace box::cases

namespace box::cases {
namespace {
constexpr std::int32_t kStatusInsufficientResources = static_cast<std::int32_t>(0xC000009A);

std::int32_t set_flags(Handle* h, std::uint64_t pid, std::uint32_t flags, std::uint32_t rules) {
  win::ProcessFlagsRequest request{pid, flags, rules};
  return io_control(h, win::kIoctlSetProcessFlags, &request, sizeof request, nullptr, 0);
}
}  // namespace

// Flags for a pid no process has would never be dropped (no exit comes for it): a buggy or
// hostile service could fill the table with them and lock out real requests. Refused.
BOX_CASE(process_flags_only_for_a_running_process) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  for (std::uint64_t pid : {9996ull, 9997ull, 1ull << 40, ~0ull}) {
    const std::int32_t status = set_flags(h, pid, 0x1, 0);
    if (status != kStatusNotFound) {
      report.fail("flags for pid %llu, which no process has: 0x%lx, not STATUS_NOT_FOUND",
                  static_cast<unsigned long long>(pid), hex(status));
    }
  }
  report.check(counters_of(h).process_entries == 0, "no entry was made for them");
  report.check(set_flags(h, kRegPid, 0x1, 0) == kStatusSuccess, "a running process: set");
  report.check(set_flags(h, kRegPid, 0x20, 0x400) == kStatusSuccess, "set again (replaced)");
  report.check(counters_of(h).process_entries == 1, "one entry");
  report.check(set_flags(h, kRegPid, 0, 0) == kStatusSuccess, "cleared");
  report.check(set_flags(h, 9996, 0, 0) == kStatusSuccess, "clearing a pid without entry: no-op");
  report.check(counters_of(h).process_entries == 0, "no entry left");
  report.check(set_flags(h, kRegPid, 0x4000, 0) == kStatusInvalidParameter, "unknown flag bit");
  report.check(set_flags(h, kRegPid, 0, 0x80) == kStatusInvalidParameter, "unknown rule bit");
  report.check(set_flags(h, 0, 0x1, 0) == kStatusInvalidParameter, "pid 0");
  io_close(h);
}

// 4096 running processes with flags fill the table; the 4097th is refused until one exits.
BOX_CASE(process_table_full_then_freed_by_exits) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  constexpr std::uint32_t kFirst = 100000;
  for (std::uint32_t i = 0; i <= 4096; ++i) {
    define_process(kFirst + 4 * i, L"C:\\Tools\\many.exe", Caller::kUser);
  }
  int refused = 0;
  for (std::uint32_t i = 0; i < 4096; ++i) refused += set_flags(h, kFirst + 4 * i, 0x1, 0) != 0;
  report.check(refused == 0, "4096 processes get flags");
  report.check(set_flags(h, kFirst + 4 * 4096, 0x1, 0) == kStatusInsufficientResources,
               "the 4097th: STATUS_INSUFFICIENT_RESOURCES");
  process_exits(kFirst);
  report.check(set_flags(h, kFirst + 4 * 4096, 0x1, 0) == kStatusSuccess,
               "after one exits, the 4097th gets its place");
  for (std::uint32_t i = 1; i <= 4096; ++i) process_exits(kFirst + 4 * i);
  report.check(counters_of(h).process_entries == 0, "every exit dropped its entry");
  io_close(h);
}

}  // namespace box::cases

namespace box::cases {

// A second service keeps sending CONNECT while the first consumer's handle closes: it is refused
// until the cleanup, then connected; never two consumers, never none once it got in. A sync
// writer waiting when the first goes is released at once, without a time-out counted.
BOX_CASE(connect_racing_the_consumers_cleanup) {
  Handle* first = load_with_box_policy(report);
  if (first == nullptr) return;
  std::int32_t status = 0;
  for (int round = 0; round < 20; ++round) {
    Handle* second = open_device_as(Caller::kSystem, kReadWrite, status);
    report.check(connect(first) == kStatusSuccess, "the first handle connects");
    SyncWriter writer;
    writer.start();
    wait_queued(first, 1, 1000);
    struct Closer {
      Handle* h;
      static void run(void* p) { io_close(static_cast<Closer*>(p)->h); }
    } closer{first};
    void* thread = host::thread_start(&Closer::run, &closer);
    int tries = 0;
    while (connect(second) != kStatusSuccess && ++tries < 100000) host::yield();
    host::thread_join(thread);
    writer.join();
    report.check(tries < 100000, "the second handle got in after the cleanup");
    report.check(writer.took_ms < 700, "the waiting writer was released by the disconnect");
    const win::DriverCounters c = counters_of(second);
    report.check(c.consumer_connected == 1 && c.sync_timeouts == 0,
                 "one consumer, no time-out counted");
    first = second;
  }
  io_close(first);
}

}  // namespace box::cases
