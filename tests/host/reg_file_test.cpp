#include "hivewarden/host/reg_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hivewarden::host {
namespace {

const char* const kSample =
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\r\n"
    "@=\"default\"\r\n"
    "\"Str\"=\"C:\\\\Program Files\\\\x \\\"q\\\"\"\r\n"
    "\"Dw\"=dword:0000002a\r\n"
    "\"Bin\"=hex:de,ad,\\\r\n  be,ef\r\n"
    "\"Exp\"=hex(2):25,00,50,00,00,00\r\n"
    "\"Multi\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"
    "\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test\\Sub]\r\n"
    "\"Ümlaut\"=\"ö\"\r\n";

std::string snapshot(const Registry& r) {  // every key, value, type and data
  std::ostringstream out;
  r.walk([&](const std::u16string& path, const Key& key) {
    out << std::string(path.begin(), path.end()).size() << ":";
    for (char16_t c : path) out << static_cast<int>(c) << ",";
    for (const auto& [f, v] : key.values) {
      out << "|";
      for (char16_t c : v.name) out << static_cast<int>(c) << ",";
      out << "=" << v.type << ":";
      for (char c : v.data) out << static_cast<int>(static_cast<unsigned char>(c)) << ".";
    }
    out << "\n";
  });
  return out.str();
}

TEST(RegFile, ImportThenExportThenImportIsTheSame) {
  Registry a;
  RegImportStats stats;
  std::string error;
  ASSERT_TRUE(import_reg(kSample, "sample.reg", a, stats, error)) << error;
  EXPECT_EQ(stats.keys, 2u);
  EXPECT_EQ(stats.values, 8u);
  Value v;
  ASSERT_EQ(a.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Test", u"Dw", v), Status::kSuccess);
  EXPECT_EQ(v.type, 4u);
  EXPECT_EQ(v.data, std::string("\x2a\0\0\0", 4));
  ASSERT_EQ(a.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Test", u"Bin", v), Status::kSuccess);
  EXPECT_EQ(v.data, "\xde\xad\xbe\xef");
  ASSERT_EQ(a.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Test", u"Str", v), Status::kSuccess);
  const std::u16string expected = u"C:\\Program Files\\x \"q\"";
  EXPECT_EQ(v.data.size(), (expected.size() + 1) * 2);
  ASSERT_EQ(a.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Test", u"", v), Status::kSuccess);  // @
  const std::string exported = export_reg(a, u"\\REGISTRY\\MACHINE\\SOFTWARE");
  Registry b;
  ASSERT_TRUE(import_reg(exported, "exported.reg", b, stats, error)) << error << "\n" << exported;
  EXPECT_EQ(snapshot(a), snapshot(b));
}

TEST(RegFile, Utf16WithBomAndRegedit4) {
  std::u16string wide =
      u"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\S-1-5-18\\X]\r\n\"A\"=\"b\"\r\n";
  std::string bytes = "\xFF\xFE";
  for (char16_t c : wide) {
    bytes += static_cast<char>(c & 0xFF);
    bytes += static_cast<char>(c >> 8);
  }
  Registry r;
  RegImportStats stats;
  std::string error;
  ASSERT_TRUE(import_reg(bytes, "wide.reg", r, stats, error)) << error;
  EXPECT_TRUE(r.key_exists(u"\\REGISTRY\\USER\\S-1-5-18\\X"));
  ASSERT_TRUE(import_reg("REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\A]\n\"E\"=hex(2):41,42,00\n", "v4.reg",
                         r, stats, error))
      << error;
  Value v;
  ASSERT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\A", u"E", v), Status::kSuccess);
  EXPECT_EQ(v.data, std::string("A\0B\0\0\0", 6));  // widened to UTF-16, as Windows stores it
}

TEST(RegFile, DeletionsAndErrorsWithLineNumbers) {
  Registry r;
  RegImportStats stats;
  std::string error;
  ASSERT_TRUE(import_reg(kSample, "s.reg", r, stats, error));
  ASSERT_TRUE(
      import_reg("Windows Registry Editor Version 5.00\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\n",
                 "d.reg", r, stats, error));
  EXPECT_FALSE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Test"));
  EXPECT_FALSE(r.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Test\\Sub"));
  EXPECT_FALSE(import_reg("not a reg file\n", "x.reg", r, stats, error));
  EXPECT_NE(error.find("x.reg:1"), std::string::npos);
  EXPECT_FALSE(
      import_reg("Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\A]\n\"v\"=dword:12\n",
                 "y.reg", r, stats, error));
  EXPECT_NE(error.find("y.reg:3"), std::string::npos) << error;
  EXPECT_FALSE(
      import_reg("Windows Registry Editor Version 5.00\n\"v\"=\"x\"\n", "z.reg", r, stats, error));
  EXPECT_NE(error.find("outside"), std::string::npos);
  EXPECT_FALSE(import_reg("Windows Registry Editor Version 5.00\n[HKEY_NOWHERE\\A]\n", "w.reg", r,
                          stats, error));
  EXPECT_FALSE(
      import_reg("Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\A]\n\"v\"=hex:zz\n",
                 "h.reg", r, stats, error));
}

TEST(RegFile, RealExportsFromTheSharedDataImport) {
  const std::filesystem::path dir =
      std::filesystem::path(HIVEWARDEN_SHARED_DATA) / "hives" / "exports";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".reg") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    Registry r;
    RegImportStats stats;
    std::string error;
    ASSERT_TRUE(import_reg(buffer.str(), e.path().filename().string(), r, stats, error)) << error;
    EXPECT_GT(stats.keys, 0u) << e.path();
    Registry again;
    ASSERT_TRUE(import_reg(export_reg(r), "again.reg", again, stats, error)) << error;
    EXPECT_EQ(snapshot(r), snapshot(again)) << e.path();
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace hivewarden::host

namespace hivewarden::host {
namespace {

// Inputs the fuzzer found (fuzz/fuzz_reg_file.cpp): each must give a clear error, not a crash.
TEST(RegFile, FuzzerFindingsAreErrors) {
  const std::filesystem::path dir =
      std::filesystem::path(HIVEWARDEN_SOURCE_DIR) / "tests" / "host" / "regressions";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    Registry r;
    RegImportStats stats;
    std::string error;
    EXPECT_FALSE(import_reg(buffer.str(), "found.reg", r, stats, error)) << e.path();
    EXPECT_NE(error.find("found.reg:"), std::string::npos) << error;
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace hivewarden::host
