// Every operation of SPEC §1 decided by the driver in the box as the Linux engine decides it:
// data/decisions.tsv (decisions.py: the box policy and operations through `hivewarden eval`) is
// replayed through the configuration manager, each operation by its process (images in C:\ form
// for Linux; the box's SeLocateProcessImageName gives the \Device\HarddiskVolume3\... form).
#include <cstdlib>
#include <cstring>

#include "runner.hpp"
#include "service.hpp"

namespace box::cases {
namespace {

constexpr int kFields = 12;

// One row of decisions.tsv, its fields widened (ASCII) into `storage`.
struct Row {
  char* field[kFields];
  wchar_t wide[6][600];
};

bool split(char* line, Row& row) {
  for (int i = 0; i < kFields; ++i) {
    row.field[i] = line;
    char* tab = std::strchr(line, '\t');
    if (tab == nullptr) return i == kFields - 1;
    *tab = 0;
    line = tab + 1;
  }
  return false;
}

const wchar_t* widen(const char* s, wchar_t* out) {
  if (*s == 0) return nullptr;
  std::size_t i = 0;
  for (; s[i] != 0 && i < 599; ++i) out[i] = static_cast<unsigned char>(s[i]);
  out[i] = 0;
  return out;
}

std::uint32_t hex_bytes(const char* hex, unsigned char* out) {
  std::uint32_t n = 0;
  for (; hex[0] != 0 && hex[1] != 0; hex += 2) {
    char pair[3] = {hex[0], hex[1], 0};
    out[n++] = static_cast<unsigned char>(std::strtoul(pair, nullptr, 16));
  }
  return n;
}

// Replays one row; false (with a failure reported) when the driver decides otherwise.
void replay(Row& row, Report& report) {
  const std::uint32_t pid = static_cast<std::uint32_t>(std::strtoul(row.field[6], nullptr, 10));
  const wchar_t* image = widen(row.field[5], row.wide[3]);
  if (pid == 4) {
    define_process(4, L"System", Caller::kSystem);
  } else {
    define_process(pid, image, Caller::kUser);
  }
  become(pid, pid == 4);
  RegOp op;
  op.pre_class = static_cast<std::uint32_t>(std::strtoul(row.field[1], nullptr, 16));
  op.key = widen(row.field[2], row.wide[0]);
  op.value = widen(row.field[3], row.wide[1]);
  op.new_name = widen(row.field[4], row.wide[2]);
  op.file = L"\\??\\C:\\hive.dat";
  op.type = static_cast<std::uint32_t>(std::strtoul(row.field[8], nullptr, 10));
  unsigned char data[300];
  op.data_size = hex_bytes(row.field[9], data);
  op.data = data;
  if (op.pre_class == 0x1A) {
    if (row.field[7][0] == '1') {
      reg_create_key(op.key);
    } else {
      reg_delete_key(op.key);
    }
  }
  const std::int32_t status = cm_call(op);
  const char* got = status == kStatusSuccess        ? "allow"
                    : status == kStatusAccessDenied ? "deny"
                                                    : "other";
  if (std::strcmp(got, row.field[10]) != 0) {
    report.fail("ops.jsonl:%s %s %s%s%s by %s: Linux %s (%s), driver %s (0x%lx)", row.field[0],
                row.field[1], row.field[2], row.field[3][0] ? " value " : "", row.field[3],
                row.field[5], row.field[10], row.field[11], got,
                static_cast<unsigned long>(status));
  }
}

// Rows whose process the policy gives flags by image (exemptions) need the driver to see images
// in C:\ form; the others do not.
bool image_flagged(const Row& row) {
  return std::strcmp(row.field[5], "System") != 0 &&
         std::strcmp(row.field[5], "C:\\Windows\\System32\\reg.exe") != 0;
}

void replay_all(Report& report, bool flagged) {
  std::uint64_t size = 0;
  char* text = read_data_file("decisions.tsv", size);
  if (!report.check(text != nullptr, "data/decisions.tsv (run decisions.py; make windows does)"))
    return;
  if (load_with_box_policy(report) == nullptr) {
    std::free(text);
    return;
  }
  int rows = 0;
  Row row;
  for (char* line = std::strtok(text, "\n"); line != nullptr; line = std::strtok(nullptr, "\n")) {
    if (!split(line, row)) {
      report.fail("decisions.tsv: a line without %d fields", kFields);
      break;
    }
    if (image_flagged(row) != flagged) continue;
    replay(row, report);
    ++rows;
  }
  report.check(rows > 100, "decisions.tsv has the box's operations");
  std::free(text);
}

}  // namespace

BOX_CASE(decisions_match_the_linux_engine) {
  replay_all(report, false);
}

BOX_CASE(decisions_by_image_match_the_linux_engine, "SPEC 11: process images in C:\\ form") {
  replay_all(report, true);
}

}  // namespace box::cases
