// Real hives from the shared data: the key counts hivexregedit reported (HIVE_INVENTORY.tsv), the
// value counts of hivexregedit's own export, and clear errors for damaged files.
#include "hivewarden/host/hive_file.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/child_process.hpp"
#include "../support/files.hpp"
#include "hivewarden/host/reg_file.hpp"

namespace hivewarden::host {
namespace {

namespace fs = std::filesystem;
const fs::path kHives = fs::path(HIVEWARDEN_SHARED_DATA) / "hives";

TEST(HiveFile, KeyCountsMatchHivexregedit) {
  std::ifstream inventory(kHives / "HIVE_INVENTORY.tsv");
  if (!inventory) GTEST_SKIP() << "no hive inventory";
  std::string line;
  std::getline(inventory, line);  // header
  int checked = 0;
  while (std::getline(inventory, line)) {
    std::istringstream row(line);
    std::string path, size, magic, sha, rc, keys;
    std::getline(row, path, '\t');
    std::getline(row, size, '\t');
    std::getline(row, magic, '\t');
    std::getline(row, sha, '\t');
    std::getline(row, rc, '\t');
    std::getline(row, keys, '\t');
    if (rc != "0" || path.find("xz") != std::string::npos) continue;
    Registry r;
    HiveImportStats stats;
    std::string error;
    ASSERT_TRUE(
        import_hive((kHives / path).string(), u"\\REGISTRY\\MACHINE\\MOUNTED", r, stats, error))
        << error;
    EXPECT_EQ(stats.keys, std::stoul(keys)) << path;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(HiveFile, ValueCountsMatchHivexregeditsExport) {
  const fs::path hive = kHives / "regipy" / "decompressed" / "SYSTEM_WIN_10_1709";
  const fs::path exported = kHives / "exports" / "SYSTEM_WIN_10_1709.full.reg.gz";
  if (!fs::exists(hive) || !fs::exists(exported)) {
    GTEST_SKIP() << "no shared data: " << hive << " or " << exported << " is absent";
  }
  Registry from_hive;
  HiveImportStats hs;
  std::string error;
  ASSERT_TRUE(import_hive(hive.string(), u"\\REGISTRY\\MACHINE\\SYSTEM", from_hive, hs, error))
      << error;
  gzFile gz = gzopen(exported.c_str(), "rb");
  ASSERT_NE(gz, nullptr);
  std::string text;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(gz, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  gzclose(gz);
  Registry from_export;
  RegImportStats rs;
  ASSERT_TRUE(import_reg(text, exported.filename().string(), from_export, rs, error)) << error;
  EXPECT_EQ(hs.keys, rs.keys);
  EXPECT_EQ(hs.values, rs.values);
  EXPECT_EQ(from_hive.value_count(), from_export.value_count());
  EXPECT_EQ(hs.keys, 43211u);
}

TEST(HiveFile, DamagedFilesGiveClearErrors) {
  const test::TempDir dir("hive-test");
  const fs::path good = kHives / "regipy" / "decompressed" / "SAM";
  if (!fs::exists(good)) GTEST_SKIP() << "no shared data: " << good << " is absent";
  const std::string bytes = test::read_text(good);
  for (std::size_t cut : {std::size_t{0}, std::size_t{100}, std::size_t{4096}, bytes.size() / 2}) {
    const fs::path bad = dir.write("cut" + std::to_string(cut), bytes.substr(0, cut));
    Registry r;
    HiveImportStats stats;
    std::string error;
    const bool ok = import_hive(bad.string(), u"\\REGISTRY\\MACHINE\\X", r, stats, error);
    if (!ok) {
      EXPECT_NE(error.find(bad.string()), std::string::npos) << error;
    }
    fs::remove(bad);
  }
  Registry r;
  HiveImportStats stats;
  std::string error;
  EXPECT_FALSE(import_hive((dir / "missing").string(), u"\\REGISTRY\\MACHINE\\X", r, stats, error));
}

}  // namespace
}  // namespace hivewarden::host

#include <hivex.h>

namespace hivewarden::host {
namespace {

// Writes hivex's `minimal` hive with one value on its root named U+0100 (not Latin-1, so stored
// as UTF-16LE), then turns that name into a lone surrogate, which no UTF-8 can carry: hivex gives
// back no name for it. Returns the file, or "" when the hive cannot be made.
std::string hive_with_unreadable_value_name(const fs::path& dir) {
  const fs::path minimal = kHives / "hivex" / "minimal";
  const fs::path out = dir / "unreadable-name";
  hive_h* h = hivex_open(minimal.c_str(), HIVEX_OPEN_WRITE);
  if (h == nullptr) return "";
  const std::string data = "evil";
  hive_set_value value = {const_cast<char*>("\xC4\x80"), hive_t_REG_SZ, data.size(),
                          const_cast<char*>(data.data())};
  const bool written = hivex_node_set_values(h, hivex_root(h), 1, &value, 0) == 0 &&
                       hivex_commit(h, out.c_str(), 0) == 0;
  hivex_close(h);
  if (!written) return "";
  std::string bytes = test::read_text(out);
  // A vk record: "vk", name length 2, ..., flags (no ASCII bit) at +0x10, the name at +0x14.
  for (std::size_t at = 0; at + 0x16 <= bytes.size(); ++at) {
    if (bytes.compare(at, 4, std::string("vk\x02\x00", 4)) == 0 &&
        bytes.compare(at + 0x14, 2, std::string("\x00\x01", 2)) == 0) {
      bytes[at + 0x15] = '\xD8';  // U+0100 -> U+D800
      return test::write_text(out, bytes).string();
    }
  }
  return "";
}

// A value name hivex cannot give back used to become "" (the default value) and overwrite it.
TEST(HiveFile, UnreadableValueNameIsAnErrorNotTheDefaultValue) {
  if (!fs::exists(kHives / "hivex" / "minimal")) GTEST_SKIP() << "no hivex test hive";
  const test::TempDir dir("hive-name-test");
  const std::string file = hive_with_unreadable_value_name(dir.path());
  ASSERT_FALSE(file.empty()) << "could not make the test hive";
  Registry r;
  HiveImportStats stats;
  std::string error;
  EXPECT_FALSE(import_hive(file, u"\\REGISTRY\\MACHINE\\X", r, stats, error));
  EXPECT_NE(error.find(file + ": a value under \\REGISTRY\\MACHINE\\X has a name that cannot be "
                              "read as text"),
            std::string::npos)
      << error;
  Value v;  // no default value made up from it
  EXPECT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\X", u"", v), Status::kObjectNameNotFound);
}

}  // namespace
}  // namespace hivewarden::host

namespace hivewarden::host {
namespace {

// hivex's `special` test hive (8 KB, LGPL test data shipped with hivex: see
// /work/shared/data/hives/hivex/README), checked in so that these tests run everywhere. Its root
// nk sits at hbin+0x20 with an lh list at hbin+0x4a8; the child "zero\0key" at hbin+0x1b8.
const fs::path kSpecial =
    fs::path(HIVEWARDEN_SOURCE_DIR) / "tests" / "host" / "regressions" / "hivex_special";
constexpr std::size_t kHbin = 4096, kRootNk = kHbin + 0x20, kZeroKeyNk = kHbin + 0x1b8,
                      kRootList = 0x4a8;

void put32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
}

// nk: subkey count at +0x18, subkey list offset at +0x20.
void point_subkeys(std::string& b, std::size_t nk, std::uint32_t count, std::uint32_t list) {
  put32(b, nk + 0x18, count);
  put32(b, nk + 0x20, list);
}

// Writes `bytes` as the file `name` in this test process's directory (gone when it ends).
fs::path write_hive(const std::string& name, const std::string& bytes) {
  static const test::TempDir dir("hive-limits-test");
  return dir.write(name, bytes);
}

// Attack 2 F7 (a): "zero\0key" gets the root's list (3 entries, itself among them).
fs::path loop_hive() {
  std::string b = test::read_text(kSpecial);
  point_subkeys(b, kZeroKeyNk, 3, kRootList);
  return write_hive("hv_loop", b);
}

// Attack 2 F7 (b): the root has one child, "zero\0key", whose list is the root's: a self-loop.
fs::path self_loop_hive() {
  std::string b = test::read_text(kSpecial);
  const std::size_t lh = kHbin + kRootList;
  b[lh + 6] = 1;  // the list's count (16 bits)
  b[lh + 7] = 0;
  put32(b, lh + 8, 0x1b8);
  put32(b, kRootNk + 0x18, 1);
  point_subkeys(b, kZeroKeyNk, 1, kRootList);
  return write_hive("hv_selfloop", b);
}

TEST(HiveLimits, SubkeyCycleIsAnErrorNamingFileAndKey) {
  ASSERT_TRUE(fs::exists(kSpecial));
  for (const fs::path& hive : {loop_hive(), self_loop_hive()}) {
    Registry r;
    HiveImportStats stats;
    std::string error;
    EXPECT_FALSE(import_hive(hive.string(), u"\\REGISTRY\\MACHINE\\X", r, stats, error)) << hive;
    EXPECT_EQ(error.rfind(hive.string() + ": a subkey cycle at \\REGISTRY\\MACHINE\\X\\zero", 0),
              0u)
        << error;
    EXPECT_LT(stats.keys, 10u);
  }
}

// The whole command: rc 2 and the message, within seconds (it used to abort after 3.6 GB, or loop
// forever). Its memory is capped (1,000,000 KiB) so that the old failure stays cheap; not under
// AddressSanitizer, which reserves terabytes of address space.
TEST(HiveLimits, RunWithACyclicHiveExitsTwo) {
  ASSERT_TRUE(fs::exists(kSpecial));
  const fs::path ops = write_hive("none.jsonl", "");
  const test::TempDir dir("hive-cycle-run");
  test::ChildIo io{.stdout_path = (dir / "out").string(), .stderr_path = (dir / "err").string()};
  if (!test::kAddressSanitizedBuild) io.address_space_limit = std::uint64_t{1000000} * 1024;
  for (const fs::path& hive : {loop_hive(), self_loop_hive()}) {
    test::Child cli({test::hivewarden_binary(), "run", "--hive",
                     hive.string() + "=HKLM\\SOFTWARE\\M", "--ops", ops.string()},
                    io);
    test::ChildRun run;
    ASSERT_TRUE(cli.wait_for(std::chrono::seconds(20), run)) << "still running after 20 s";
    const std::string out = run.out + run.err;
    ASSERT_EQ(run.signal, 0) << out;
    EXPECT_EQ(run.exit_code, 2) << out;
    EXPECT_NE(out.find(hive.string() + ": a subkey cycle at "), std::string::npos) << out;
  }
}

// `special` grown with hivex itself; "" when hivex would not write it.
template <typename Grow>
std::string grown_hive(const std::string& name, Grow grow) {
  hive_h* h = hivex_open(kSpecial.c_str(), HIVEX_OPEN_WRITE);
  if (h == nullptr) return "";
  const fs::path out = write_hive(name, "");
  const bool written = grow(h) && hivex_commit(h, out.c_str(), 0) == 0;
  hivex_close(h);
  return written ? out.string() : "";
}

// The error import_hive gives for `file` mounted at \REGISTRY\MACHINE\X (failing the test when
// it imports).
std::string import_error(const std::string& file) {
  Registry r;
  HiveImportStats stats;
  std::string error;
  EXPECT_FALSE(import_hive(file, u"\\REGISTRY\\MACHINE\\X", r, stats, error)) << file;
  return error;
}

TEST(HiveLimits, KeyDeeperThan512LevelsIsAnError) {
  const std::string file = grown_hive("deep", [](hive_h* h) {
    hive_node_h node = hivex_root(h);
    for (int level = 0; level < 520 && node != 0; ++level)
      node = hivex_node_add_child(h, node, "d");
    return node != 0;
  });
  ASSERT_FALSE(file.empty());
  const std::string error = import_error(file);
  EXPECT_NE(error.find(file + ": the key \\REGISTRY\\MACHINE\\X\\d\\d\\d"), std::string::npos)
      << error.substr(0, 200);
  EXPECT_NE(error.find("is deeper than the registry's limit of 512 levels"), std::string::npos);
}

TEST(HiveLimits, KeyNameOver255UnitsIsAnError) {
  const std::string file = grown_hive("long-key", [](hive_h* h) {
    return hivex_node_add_child(h, hivex_root(h), std::string(300, 'k').c_str()) != 0;
  });
  ASSERT_FALSE(file.empty());
  const std::string error = import_error(file);
  EXPECT_EQ(error, file +
                       ": a key under \\REGISTRY\\MACHINE\\X has a name of 300 units, over the "
                       "registry's limit of 255");
}

TEST(HiveLimits, ValueNameOver16383UnitsIsAnError) {
  const std::string name(16384, 'v');
  const std::string file = grown_hive("long-value", [&](hive_h* h) {
    const std::string data = "x";
    hive_set_value value = {const_cast<char*>(name.c_str()), hive_t_REG_BINARY, data.size(),
                            const_cast<char*>(data.data())};
    return hivex_node_set_values(h, hivex_root(h), 1, &value, 0) == 0;
  });
  ASSERT_FALSE(file.empty());
  const std::string error = import_error(file);
  EXPECT_EQ(error, file +
                       ": a value under \\REGISTRY\\MACHINE\\X has a name of 16384 units, over "
                       "the registry's limit of 16383");
}

}  // namespace
}  // namespace hivewarden::host
