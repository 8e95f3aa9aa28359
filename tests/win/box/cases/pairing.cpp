// Pre and post paired as Windows pairs them (CallContext): two threads each running nested
// operations of the same class (a pre, another pre of the same class on the same thread, then
// both posts); a thread that exits between pre and post; unload while threads are inside.
#include <cstdio>
#include <cstring>

#include "host.hpp"
#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {

constexpr int kRounds = 20;
constexpr std::uint32_t kCaptureBit = 0x400;  // set-value-capture: box-watch has it, box-audit not

void nested_pairs(void*) {
  become(kRegPid);
  for (int i = 0; i < kRounds; ++i) {
    std::int32_t outer_status = 0, inner_status = 0;
    PendingOp* outer = cm_pre(set_value(kWatchedKey, L"Outer"), outer_status);
    // Odd rounds: the inner operation matches nothing, so it has no context of its own (its post
    // must not take the outer one's).
    const wchar_t* inner_key =
        i % 2 == 0 ? kAuditedKey : L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Other";
    PendingOp* inner = cm_pre(set_value(inner_key, L"Inner"), inner_status);
    cm_post(inner, Outcome::kSuccess);
    cm_post(outer, Outcome::kSuccess);
  }
}

// Each completion record names the key its own pre-operation saw, with that entry's rules.
void check_records(Record* records, int count, Report& report) {
  int outer = 0, inner = 0;
  for (int i = 0; i < count; ++i) {
    const Record& r = records[i];
    const bool watched = std::strstr(r.key, "\\Box\\Watched\\Run") != nullptr;
    const bool audited = std::strstr(r.key, "\\Box\\Audited") != nullptr;
    if (watched && std::strcmp(r.value, "Outer") == 0 && (r.fixed.final_key_rules & kCaptureBit)) {
      ++outer;
    } else if (audited && std::strcmp(r.value, "Inner") == 0 &&
               !(r.fixed.final_key_rules & kCaptureBit)) {
      ++inner;
    } else {
      report.fail("record %d: key '%s' value '%s' rules 0x%x: context mixed", i, r.key, r.value,
                  r.fixed.final_key_rules);
    }
  }
  if (outer != 2 * kRounds || inner != kRounds) {
    report.fail("%d outer and %d inner completion records, %d and %d expected", outer, inner,
                2 * kRounds, kRounds);
  }
}

}  // namespace

BOX_CASE(nested_same_class_pairs_on_two_threads, "SPEC 11: pairing through CallContext") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  void* a = host::thread_start(nested_pairs, nullptr);
  void* b = host::thread_start(nested_pairs, nullptr);
  host::thread_join(a);
  host::thread_join(b);
  static Record records[200];
  const int count = take_records(h, records, 200, 300);
  check_records(records, count, report);
  io_close(h);
  unload_driver();
  const PoolStats pool = pool_stats();
  if (!report.check(pool.live_blocks == 0, "no call context leaked")) pool_print_live();
}

BOX_CASE(thread_exits_between_pre_and_post) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  std::int32_t status = 0;
  // The post never comes: the context is freed (at the thread's exit, or at unload).
  cm_abandon(cm_pre(set_value(kWatchedKey, L"Gone"), status));
  thread_exits();
  become(4, true);
  io_close(h);
  unload_driver();
  const PoolStats pool = pool_stats();
  if (!report.check(pool.live_blocks == 0, "the orphaned context is freed")) pool_print_live();
}

BOX_CASE(post_after_the_thread_exit_notification, "SPEC 11: pairing through CallContext") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  std::int32_t status = 0;
  PendingOp* pending = cm_pre(set_value(kWatchedKey, L"Late"), status);
  thread_exits();  // the notification races the post (another thread's exit with the same id)
  cm_post(pending, Outcome::kSuccess);
  Record records[4];
  const int count = take_records(h, records, 4, 300);
  report.check(count == 1 && std::strcmp(records[0].value, "Late") == 0,
               "the post still sends its completion record (its context travels in CallContext)");
  become(4, true);
  io_close(h);
  unload_driver();
  report.check(pool_stats().live_blocks == 0, "no leak");
}

namespace {
void sync_write(void*) {
  become(kSyncPid);
  cm_call(set_value(kWatchedKey, L"Sync"));
}
}  // namespace

BOX_CASE(unload_while_threads_are_inside_the_callback,
         "SPEC 11: process images in C:\\ form (notify-sync by image)") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  void* a = host::thread_start(sync_write, nullptr);
  void* b = host::thread_start(sync_write, nullptr);
  const std::uint64_t deadline = host::now_ms() + 800;
  while (cm_threads_inside() < 2 && host::now_ms() < deadline) host::sleep_ms(5);
  report.check(cm_threads_inside() == 2, "both writers wait inside the callback for the consumer");
  // The service stops: its handle closes (the writers may be released) and the driver unloads at
  // once; CmUnRegisterCallback waits for the writers, and nothing they use is freed before.
  const std::uint64_t start = host::now_ms();
  unload_driver();  // deferred until the handle closes, as Windows defers it
  io_close(h);
  report.check(!driver_loaded(), "the driver unloaded when its last handle closed");
  report.check(host::now_ms() - start < 3000, "unload finished");
  host::thread_join(a);
  host::thread_join(b);
  report.check(cm_threads_inside() == 0, "no thread inside after unload");
  const PoolStats pool = pool_stats();
  if (!report.check(pool.live_blocks == 0, "no leak")) pool_print_live();
}

}  // namespace box::cases
