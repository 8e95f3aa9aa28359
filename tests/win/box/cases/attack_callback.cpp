// The registry callback attacked as a hostile caller and a careless kernel would: structures the
// configuration manager could not have made (odd or overlong UNICODE_STRINGs, names without
// buffers), names past the registry's limit, posts that belong to no pre. Each case says what it
// found; what it checks is SPEC §11: what cannot be decided is denied if a write, let through if a
// read, and counted either way.
#include <cstring>
#include <cwchar>

#include "hivewarden/win/reg_structs.hpp"
#include "host.hpp"
#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {

namespace win = hivewarden::win;

constexpr std::uint32_t kPreSetValue = 0x01, kPreDeleteValue = 0x02, kPreRenameKey = 0x04;
constexpr std::uint32_t kPreQueryValue = 0x08, kPreCreateKeyEx = 0x1A, kPostSetValue = 0x10;
constexpr const wchar_t* kGuardedKey = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Guarded";

win::UnicodeString name(const wchar_t* text, std::uint16_t length, std::uint16_t maximum) {
  return {length, maximum, reinterpret_cast<char16_t*>(const_cast<wchar_t*>(text))};
}

// A set-value of a REG_DWORD on `key` by the calling thread, with `value_name` as given.
std::int32_t raw_set_value(const wchar_t* key, win::UnicodeString* value_name) {
  static const std::uint32_t data = 1;
  win::RegSetValueKeyInformation info{};
  info.Object = reg_key_object(key);
  info.ValueName = value_name;
  info.Type = 4;  // REG_DWORD
  info.Data = const_cast<std::uint32_t*>(&data);
  info.DataSize = sizeof data;
  return cm_raw_call(kPreSetValue, &info);
}

std::uint64_t undecided_writes(Handle* h) {
  win::DriverCounters counters;
  return read_counters(h, counters) ? counters.undecided_writes_denied : ~0ull;
}

std::uint64_t undecided_reads(Handle* h) {
  win::DriverCounters counters;
  return read_counters(h, counters) ? counters.undecided_reads_allowed : ~0ull;
}

// Value names as no configuration manager makes them, on the key whose Setting* values may not be
// set: each names a value the decision cannot know, so each write is denied and counted.
void malformed_value_names(Handle* h, Report& report) {
  win::UnicodeString baseline = name(L"Setting1", 16, 16);
  report.check(raw_set_value(kGuardedKey, &baseline) == kStatusAccessDenied,
               "baseline: Setting1 may not be set");
  const std::uint64_t before = undecided_writes(h);
  // 13 bytes: the decision would see "Settin", which no Setting* rule names.
  win::UnicodeString odd = name(L"Setting", 13, 14);
  report.check(raw_set_value(kGuardedKey, &odd) == kStatusAccessDenied,
               "an odd-length value name is denied (not decided as a shorter name)");
  win::UnicodeString overlong = name(L"Other", 10, 2);
  report.check(raw_set_value(kGuardedKey, &overlong) == kStatusAccessDenied,
               "a value name whose Length is past its MaximumLength is denied");
  win::UnicodeString no_buffer{16, 16, nullptr};
  report.check(raw_set_value(kGuardedKey, &no_buffer) == kStatusAccessDenied,
               "a value name with a length and no buffer is denied (not the default value)");
  win::RegDeleteValueKeyInformation del{};
  del.Object = reg_key_object(kGuardedKey);
  del.ValueName = &odd;
  report.check(cm_raw_call(kPreDeleteValue, &del) == kStatusAccessDenied,
               "a delete-value with an odd-length name is denied");
  const std::uint64_t after = undecided_writes(h);
  if (after != before + 4) {
    report.fail("undecided writes denied: %llu before, %llu after, 4 more expected",
                static_cast<unsigned long long>(before), static_cast<unsigned long long>(after));
  }
}

// A rename's new name and a create's CompleteName, malformed; a read with a malformed name is let
// through and counted.
void malformed_key_names(Handle* h, Report& report) {
  win::UnicodeString odd_new_name = name(L"Guarded2", 15, 16);
  win::RegRenameKeyInformation rename{};
  rename.Object = reg_key_object(L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Plain");
  rename.NewName = &odd_new_name;
  report.check(cm_raw_call(kPreRenameKey, &rename) == kStatusAccessDenied,
               "a rename to an odd-length new name is denied");
  static const wchar_t kFull[] = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Guarded\\New";
  win::UnicodeString complete = name(kFull, sizeof kFull - 2, 4);  // Length > MaximumLength
  win::RegCreateKeyInformationV1 create{};
  create.CompleteName = &complete;
  create.RootObject = reg_key_object(L"\\REGISTRY");
  create.Version = 1;
  report.check(cm_raw_call(kPreCreateKeyEx, &create) == kStatusAccessDenied,
               "a create whose CompleteName is past its MaximumLength is denied");
  const std::uint64_t reads = undecided_reads(h);
  win::UnicodeString odd_value = name(L"Setting", 13, 14);
  std::uint32_t result_length = 0;
  unsigned char buffer[32];
  win::RegQueryValueKeyInformation query{};
  query.Object = reg_key_object(kGuardedKey);
  query.ValueName = &odd_value;
  query.KeyValueInformationClass = 2;  // KeyValuePartialInformation
  query.KeyValueInformation = buffer;
  query.Length = sizeof buffer;
  query.ResultLength = &result_length;
  report.check(cm_raw_call(kPreQueryValue, &query) == kStatusSuccess,
               "a query-value with an odd-length name is let through (a read)");
  report.check(undecided_reads(h) == reads + 1, "and counted as an undecided read");
}

}  // namespace

// Found: view_of cuts an odd byte length to whole units and reads Length bytes whatever
// MaximumLength says, so the callback decided a write on another name than the operation's
// ("Settin" for a 13-byte "Setting": a deny rule on Setting* let it through) or past the buffer.
BOX_CASE(malformed_names_are_undecidable) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  malformed_value_names(h, report);
  malformed_key_names(h, report);
  become(4, true);
  io_close(h);
}

// Found: a create whose root name plus relative name is longer than any registry name was denied
// but counted nowhere (neither decided nor undecided).
BOX_CASE(overlong_create_is_denied_and_counted) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  static wchar_t root[32001];
  const wchar_t prefix[] = L"\\REGISTRY\\MACHINE\\SOFTWARE\\";
  std::wcscpy(root, prefix);
  for (std::size_t i = std::wcslen(prefix); i < 32000; ++i) root[i] = L'a';
  root[32000] = 0;
  static wchar_t relative[1001];
  for (int i = 0; i < 1000; ++i) relative[i] = L'b';
  relative[1000] = 0;
  win::UnicodeString complete = name(relative, 2000, 2000);
  win::RegCreateKeyInformationV1 create{};
  create.CompleteName = &complete;
  create.RootObject = reg_key_object(root);
  create.Version = 1;
  become(kRegPid);
  const std::uint64_t before = undecided_writes(h);
  report.check(cm_raw_call(kPreCreateKeyEx, &create) == kStatusAccessDenied,
               "a create of a name longer than 32767 units is denied");
  report.check(undecided_writes(h) == before + 1, "and counted as an undecided write");
  become(4, true);
  io_close(h);
}

// Held: posts that belong to no pre (a null, a stray or a stale CallContext, a null structure)
// send nothing and touch nothing; a relative create without a RootObject is denied and counted.
BOX_CASE(posts_without_their_pre_and_rootless_creates_held) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  become(kRegPid);
  unsigned char stray[64] = {};
  win::RegPostOperationInformation post{};
  post.CallContext = stray;
  report.check(cm_raw_call(kPostSetValue, &post) == kStatusSuccess, "a stray CallContext");
  post.CallContext = nullptr;
  report.check(cm_raw_call(kPostSetValue, &post) == kStatusSuccess, "a null CallContext");
  report.check(cm_raw_call(kPostSetValue, nullptr) == kStatusSuccess, "a null post structure");
  win::UnicodeString relative = name(L"Guarded\\New", 22, 22);
  win::RegCreateKeyInformationV1 create{};
  create.CompleteName = &relative;
  create.Version = 1;
  const std::uint64_t before = undecided_writes(h);
  report.check(cm_raw_call(kPreCreateKeyEx, &create) == kStatusAccessDenied,
               "a relative create without a RootObject is denied");
  report.check(undecided_writes(h) == before + 1, "and counted");
  become(4, true);
  Record records[2];
  report.check(take_records(h, records, 2, 200) == 0, "no record from any of them");
  io_close(h);
}

}  // namespace box::cases

namespace box::cases {
namespace {

constexpr int kStallers = 8;  // as many as the driver has scratch slots
alignas(4096) unsigned char g_slow_page[64];

// A set-value on a watched key whose data sits on a page that pages in as slowly as its process
// likes (a file it maps from a share or a cloud-files placeholder it serves).
void slow_write(void*) {
  become(kRegPid);
  RegOp op = set_value(kWatchedKey, L"Slow");
  op.type = 3;  // REG_BINARY
  op.data = g_slow_page;
  op.data_size = sizeof g_slow_page;
  cm_call(op);
}

bool wait_for_stalled(int count) {
  for (int i = 0; i < 200 && mm_stalled_copies() < count; ++i) host::sleep_ms(10);
  return mm_stalled_copies() >= count;
}

}  // namespace

// Found: set-value's data was copied from the caller's memory while the call held one of the 8
// scratch slots; a page that pages in slowly (as slowly as the caller likes) kept the slot, and 8
// such writers made every other registry write of the machine wait 2 s and be denied.
BOX_CASE(slow_user_pages_hold_no_slot) {
  Handle* h = load_with_box_policy(report);
  if (h == nullptr) return;
  connect(h);
  mm_stall_copies_from(g_slow_page);
  void* threads[kStallers];
  for (void*& t : threads) t = host::thread_start(slow_write, nullptr);
  report.check(wait_for_stalled(kStallers), "8 writers wait on their slow pages");
  become(kRegPid);
  const std::uint64_t start = host::now_ms();
  report.check(
      cm_call(set_value(L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Other", L"V")) == kStatusSuccess,
      "another process's write is decided meanwhile (allowed), not denied");
  win::UnicodeString setting = name(L"Setting1", 16, 16);
  report.check(raw_set_value(kGuardedKey, &setting) == kStatusAccessDenied,
               "and a write the policy denies is still denied");
  report.check(host::now_ms() - start < 1000, "without waiting for a slot");
  mm_stall_copies_from(nullptr);
  for (void* t : threads) host::thread_join(t);
  become(4, true);
  report.check(undecided_writes(h) == 0, "no write was undecidable");
  Record records[kStallers + 4];
  const int count = take_records(h, records, kStallers + 4, 300);
  int slow = 0;
  for (int i = 0; i < count; ++i) slow += std::strcmp(records[i].value, "Slow") == 0 ? 1 : 0;
  report.check(slow == kStallers, "the slow writers' completion records all came");
  io_close(h);
}

}  // namespace box::cases
