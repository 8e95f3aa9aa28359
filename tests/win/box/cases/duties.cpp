// Duties of SPEC §11 the other case files do not cover: CurrentControlSet is the machine's, an
// operation that reaches the callback before registration has returned is not decided with a
// cookie the driver does not have yet, a failed CmUnRegisterCallback frees nothing the callback
// uses, the record queue is capped in bytes, and writes wait for a scratch slot instead of
// allocating one.
#include <cstdlib>
#include <cstring>

#include "hivewarden/win/reg_structs.hpp"
#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {

constexpr const wchar_t* kSelect = L"\\REGISTRY\\MACHINE\\SYSTEM\\Select";
constexpr const wchar_t* kCurrentBoxSvc =
    L"\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BoxSvc";
constexpr const wchar_t* kSet1BoxSvc =
    L"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\BoxSvc";
constexpr const wchar_t* kSet2BoxSvc =
    L"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services\\BoxSvc";

std::int32_t write_start(const wchar_t* key) {
  become(kRegPid);
  const std::int32_t status = cm_call(set_value(key, L"Start"));
  become(4, true);
  return status;
}

}  // namespace

// The policy's CurrentControlSet entries were compiled for its control_set; the operations'
// CurrentControlSet is the machine's Select\Current. A policy for another set is refused.
BOX_CASE(current_control_set_is_the_machines, "SPEC 11: the machine's control set") {
  reg_create_key(kSelect);
  reg_set_dword(kSelect, L"Current", 2);
  define_box_processes();
  if (!report.check(load_driver() == kStatusSuccess, "DriverEntry")) return;
  std::int32_t status = 0;
  Handle* h = open_device_as(Caller::kSystem, kReadWrite, status);
  if (!report.check(h != nullptr, "SYSTEM opens the device")) return;
  report.check(push_policy_file(h, "policy.hwp") == kStatusRevisionMismatch,
               "a policy compiled for ControlSet001 is refused on a ControlSet002 machine");
  report.check(write_start(kCurrentBoxSvc) == kStatusSuccess,
               "and nothing is decided by it (no policy in force)");
  report.check(push_policy_file(h, "policy-cs2.hwp") == kStatusSuccess,
               "a policy compiled for ControlSet002 is installed");
  report.check(write_start(kCurrentBoxSvc) == kStatusAccessDenied,
               "CurrentControlSet in an operation's name is ControlSet002: denied");
  report.check(write_start(kSet2BoxSvc) == kStatusAccessDenied, "ControlSet002 itself: denied");
  report.check(write_start(kSet1BoxSvc) == kStatusSuccess,
               "the stand-by ControlSet001 is not what the policy protects");
  io_close(h);
}

namespace {
struct EarlyCall {
  std::int32_t status = 0;
  bool called = false;
};
void write_during_registration(void* context) {
  auto* early = static_cast<EarlyCall*>(context);
  early->called = true;
  become(kRegPid);
  early->status = cm_call(set_value(kLockedKey, L"Anything"));
  become(4, true);
}
}  // namespace

// CmRegisterCallbackEx's callback is live before the cookie is written back; names asked for
// with the cookie the driver does not have yet are refused. Such a write is not decided: denied.
BOX_CASE(operations_before_registration_returns_are_not_let_through,
         "SPEC 11: the cookie written after callbacks may run") {
  define_box_processes();
  EarlyCall early;
  cm_during_registration(&write_during_registration, &early);
  if (!report.check(load_driver() == kStatusSuccess, "DriverEntry")) return;
  report.check(early.called, "an operation reached the callback during registration");
  report.check(early.status == kStatusAccessDenied,
               "a write that arrives before registration returned is denied (undecided)");
  std::int32_t status = 0;
  Handle* h = open_device_as(Caller::kSystem, kReadWrite, status);
  if (!report.check(h != nullptr, "SYSTEM opens the device")) return;
  hivewarden::win::DriverCounters counters;
  if (report.check(read_counters(h, counters), "counters")) {
    report.check(counters.undecided_writes_denied == 1, "and counted as undecided");
  }
  report.check(push_policy_file(h, "policy.hwp") == kStatusSuccess, "the policy goes in");
  report.check(tamper_write_denied(), "and later writes are decided");
  io_close(h);
}

// If the callback cannot be unregistered it may still be called: unload must not free the
// engine, the slots or the queue under it.
BOX_CASE(a_failed_unregister_frees_nothing_the_callback_uses,
         "SPEC 11: CmUnRegisterCallback's result") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  io_close(h);
  cm_fail_unregister(true);
  const std::uint64_t live = pool_stats().live_blocks;
  unload_driver(true);
  report.check(cm_callbacks_registered() == 1, "the callback is still registered");
  report.check(pool_stats().live_blocks == live, "unload freed nothing");
  report.check(tamper_write_denied(), "and still decides with the policy it had (no freed memory)");
  report.check(pool_stats().bad_frees == 0, "nothing was freed twice");
  // What the driver kept is leaked on purpose; the next case starts a fresh machine.
  cm_fail_unregister(false);
  pool_reset_counts();
}

// Records wait for the consumer in a queue capped at 8 MiB of record bytes, the oldest dropped.
BOX_CASE(the_record_queue_is_capped_in_bytes, "SPEC 11: a byte-capped queue") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "connected (no request pended: records queue)");
  constexpr std::uint32_t kData = 12 * 1024;
  auto* data = static_cast<unsigned char*>(std::malloc(kData));
  std::memset(data, 'x', kData);
  constexpr int kWrites = 800;  // about 9.7 MB of records
  become(kRegPid);
  int allowed = 0;
  for (int i = 0; i < kWrites; ++i) {
    RegOp op = set_value(kAuditedKey, L"Big");
    op.type = 3;  // REG_BINARY
    op.data = data;
    op.data_size = kData;
    if (cm_call(op) == kStatusSuccess) ++allowed;
  }
  become(4, true);
  std::free(data);
  report.check(allowed == kWrites, "every audited write is allowed");
  hivewarden::win::DriverCounters c;
  if (report.check(read_counters(h, c), "counters")) {
    if (c.queued_bytes > (8u << 20)) {
      report.fail("more than 8 MiB of records queued (%llu)",
                  static_cast<unsigned long long>(c.queued_bytes));
    }
    report.check(c.records_dropped > 0, "the oldest were dropped");
    if (c.queued_records + c.records_dropped != static_cast<std::uint64_t>(kWrites)) {
      report.fail("a record neither queued nor counted dropped (%llu + %llu of %d)",
                  static_cast<unsigned long long>(c.queued_records),
                  static_cast<unsigned long long>(c.records_dropped), kWrites);
    }
  }
  io_close(h);
}

// Windows hands a post the CallContext its own pre stored. A post of another class that carries
// it (only a broken kernel would) must not send that operation's record, nor lose it.
BOX_CASE(a_post_of_another_class_does_not_take_a_record) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "connected");
  become(kRegPid);
  static const std::uint32_t data = 7;
  hivewarden::win::UnicodeString value{6, 6, const_cast<char16_t*>(u"Run")};
  hivewarden::win::RegSetValueKeyInformation set{};
  set.Object = reg_key_object(kWatchedKey);
  set.ValueName = &value;
  set.Type = 4;  // REG_DWORD
  set.Data = const_cast<std::uint32_t*>(&data);
  set.DataSize = sizeof data;
  report.check(cm_raw_call(0x01 /* RegNtPreSetValueKey */, &set) == kStatusSuccess,
               "a watched set-value is allowed");
  report.check(set.CallContext != nullptr, "and its pre keeps a record in CallContext");
  hivewarden::win::RegPostOperationInformation post{};
  post.Object = set.Object;
  post.PreInformation = &set;
  post.CallContext = set.CallContext;
  cm_raw_call(0x11 /* RegNtPostDeleteValueKey */, &post);
  become(4, true);
  Record records[2];
  report.check(take_records(h, records, 2, 200) == 0, "a delete-value's post sends nothing");
  become(kRegPid);
  cm_raw_call(0x10 /* RegNtPostSetValueKey */, &post);
  become(4, true);
  const int taken = take_records(h, records, 2, 500);
  report.check(taken == 1, "the set-value's own post sends its record");
  if (taken == 1) {
    report.check(std::strcmp(records[0].value, "Run") == 0, "naming its value");
  }
  io_close(h);
}

// A capture bit makes the driver read the value's old data with ZwQueryValueKey, which reaches
// the registry callbacks again, nested, on the same thread: the driver's own read is let through
// at once, neither decided as the caller's query nor made to wait for a second scratch slot.
BOX_CASE(the_drivers_own_old_value_read_is_not_decided_as_the_callers) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  report.check(connect(h) == kStatusSuccess, "connected");
  reg_create_key(kWatchedKey);
  reg_set_sz(kWatchedKey, L"Before", L"old");
  hivewarden::win::DriverCounters before{}, after{};
  report.check(read_counters(h, before), "counters");
  become(kRegPid);
  report.check(cm_call(set_value(kWatchedKey, L"Before")) == kStatusSuccess,
               "a watched set-value with a capture bit is allowed");
  become(4, true);
  report.check(read_counters(h, after), "counters");
  if (after.decisions != before.decisions + 1) {
    report.fail("one operation, %llu decisions (the driver's own read decided as the caller's)",
                static_cast<unsigned long long>(after.decisions - before.decisions));
  }
  report.check(after.undecided_reads_allowed == before.undecided_reads_allowed,
               "and no read left undecided");
  Record records[2];
  const int taken = take_records(h, records, 2, 500);
  report.check(taken == 1, "one record");
  if (taken == 1) {
    report.check((records[0].fixed.flags & hivewarden::record_flag::kHasDataBefore) != 0,
                 "carrying the value before the write");
  }
  io_close(h);
}

}  // namespace box::cases
