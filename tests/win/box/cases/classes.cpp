// What the callback does per class and outcome: classes outside SPEC §1 cost no pool memory; a
// post whose status is not STATUS_SUCCESS (STATUS_REPARSE, a failure) sends no completion
// record; records carry the key, the value name and the new data.
#include <cstring>

#include "runner.hpp"
#include "service.hpp"

namespace box::cases {

BOX_CASE(classes_outside_section_1_take_no_pool) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  const std::uint64_t before = pool_stats().attempts;
  for (std::uint32_t cls : {0x1Cu /* open key ex */, 0x05u /* enumerate key */,
                            0x07u /* query key */, 0x18u /* key handle close */}) {
    RegOp op;
    op.pre_class = cls;
    op.key = kWatchedKey;
    report.check(cm_call(op) == kStatusSuccess, "a class outside SPEC 1 is let through");
  }
  report.check(pool_stats().attempts == before, "and takes no pool memory, pre or post");
  become(4, true);
  io_close(h);
}

BOX_CASE(post_without_success_sends_no_completion_record, "SPEC 11: STATUS_SUCCESS only") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  RegOp create;
  create.pre_class = 0x1A;
  create.key = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Watched\\Run\\Link";
  Record records[4];
  reg_delete_key(create.key);
  cm_call(create, Outcome::kReparse);
  report.check(take_records(h, records, 4, 200) == 0, "STATUS_REPARSE: no completion record");
  reg_delete_key(create.key);
  cm_call(create, Outcome::kFailure);
  report.check(take_records(h, records, 4, 200) == 0, "a failure: no completion record");
  reg_delete_key(create.key);
  cm_call(create, Outcome::kSuccess);
  report.check(take_records(h, records, 4, 200) == 1, "STATUS_SUCCESS: one completion record");
  become(4, true);
  io_close(h);
}

BOX_CASE(records_carry_key_value_name_and_data, "SPEC 11: complete SPEC 7 records") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  cm_call(set_value(kWatchedKey, L"Payload"));
  become(4, true);
  Record r[2];
  if (report.check(take_records(h, r, 2, 300) == 1, "one completion record")) {
    report.check(std::strcmp(r[0].key, "\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Watched\\Run") == 0,
                 "the key");
    report.check(std::strcmp(r[0].value, "Payload") == 0, "the value name");
    report.check(r[0].fixed.value_type_after == 1, "the new value's type (REG_SZ)");
    report.check(r[0].data_after_size == 8 && std::memcmp(r[0].data_after, L"box", 8) == 0,
                 "the new data");
  }
  io_close(h);
}

BOX_CASE(unreadable_user_data_makes_a_write_undecidable,
         "SPEC 11: set-value data through MmCopyMemory") {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);  // a user-mode caller
  RegOp op = set_value(kWatchedKey, L"Payload");
  op.data = reinterpret_cast<const void*>(0x1000);  // not mapped
  report.check(
      cm_call(op) == kStatusAccessDenied,
      "a set-value whose user buffer cannot be read is denied (its data cannot be decided)");
  become(4, true);
  hivewarden::win::DriverCounters counters;
  if (report.check(read_counters(h, counters), "counters readable")) {
    report.check(counters.undecided_writes_denied == 1, "and counted");
  }
  io_close(h);
}

}  // namespace box::cases
