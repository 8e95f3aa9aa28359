#include "hivewarden/host/reg_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/files.hpp"

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
    const std::string text = test::read_text(e.path());
    Registry r;
    RegImportStats stats;
    std::string error;
    ASSERT_TRUE(import_reg(text, e.path().filename().string(), r, stats, error)) << error;
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
    const std::string text = test::read_text(e.path());
    Registry r;
    RegImportStats stats;
    std::string error;
    EXPECT_FALSE(import_reg(text, "found.reg", r, stats, error)) << e.path();
    EXPECT_NE(error.find("found.reg:"), std::string::npos) << error;
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace hivewarden::host

namespace hivewarden::host {
namespace {

constexpr const char* kHeader = "Windows Registry Editor Version 5.00\r\n\r\n";

// Imports `body` after the header; the error when it fails, "" when it succeeds.
std::string import_error(const std::string& body, Registry& r, std::uint32_t control_set = 1) {
  RegImportStats stats;
  std::string error;
  if (import_reg(kHeader + body, "bad.reg", r, stats, error, control_set)) return "";
  return error;
}

// The numbers of a .reg file (parsed by util/number since issue 11): dword: takes exactly 8 hex
// digits of either case and nothing else; the N of hex(N) / str(N) is 1 to 8 hex digits, no 0x.
TEST(RegFile, NumberSpellings) {
  const std::string key = "[HKEY_LOCAL_MACHINE\\A]\r\n\"v\"=";
  const auto stored = [&](const std::string& rhs, Value& v) {
    Registry r;
    const std::string error = import_error(key + rhs + "\r\n", r);
    EXPECT_EQ(error, "") << rhs;
    return r.query_value(u"\\REGISTRY\\MACHINE\\A", u"v", v) == Status::kSuccess;
  };
  Value v;
  ASSERT_TRUE(stored("dword:FFFFFFFF", v));
  EXPECT_EQ(v.type, 4u);
  EXPECT_EQ(v.data, std::string("\xFF\xFF\xFF\xFF", 4));
  ASSERT_TRUE(stored("dword:0000002A", v));
  EXPECT_EQ(v.data, std::string("\x2A\0\0\0", 4));
  ASSERT_TRUE(stored("hex(B):01,00,00,00,00,00,00,00", v));
  EXPECT_EQ(v.type, 11u);
  ASSERT_TRUE(stored("hex(0000000b):01", v));
  EXPECT_EQ(v.type, 11u);
  ASSERT_TRUE(stored("hex(ffffffff):01", v));
  EXPECT_EQ(v.type, 0xFFFFFFFFu);
  for (const char* bad :
       {"dword:2a", "dword:000000002a", "dword:0x00002a", "dword:+000002a", "dword:-000002a",
        "dword: 000002a", "dword:0000002a ", "dword:0000002g", "dword:", "dword:1000000000"}) {
    Registry r;
    EXPECT_NE(import_error(key + bad + "\r\n", r).find("bad.reg:4: dword: needs 8 hex digits"),
              std::string::npos)
        << bad;
  }
  for (const char* bad : {"hex():01", "hex(0x4):01", "hex(-1):01", "hex(+4):01", "hex( 4):01",
                          "hex(000000004):01", "hex(100000000):01", "hex(g):01"}) {
    Registry r;
    EXPECT_NE(import_error(key + bad + "\r\n", r).find("hex(N): N must be a hex type number"),
              std::string::npos)
        << bad;
  }
  Registry r;
  EXPECT_NE(import_error(key + "str(x):\"a\"\r\n", r).find("str(N): N must be a hex type number"),
            std::string::npos);
}

// The reproducer B7: a value name with invalid UTF-8 used to become the default value `@` and
// overwrite it.
TEST(RegFile, InvalidUtf8ValueNameIsAnErrorNotTheDefaultValue) {
  Registry r;
  const std::string error = import_error(
      "[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n@=\"default\"\r\n\"\xff\"=\"evil\"\r\n", r);
  EXPECT_NE(error.find("bad.reg:5:"), std::string::npos) << error;
  EXPECT_NE(error.find("value name is not valid UTF-8"), std::string::npos) << error;
  Value v;
  ASSERT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\X", u"", v), Status::kSuccess);
  EXPECT_EQ(v.data, std::string("d\0e\0f\0a\0u\0l\0t\0\0\0", 16));  // not overwritten
  // Other malformed spellings: a truncated sequence, an overlong form, an encoded surrogate.
  for (const char* name : {"a\xc3", "\xc0\xaf", "\xed\xa0\x80"}) {
    Registry other;
    const std::string e = import_error(
        "[HKEY_LOCAL_MACHINE\\A]\r\n\"" + std::string(name) + "\"=dword:00000001\r\n", other);
    EXPECT_NE(e.find("bad.reg:4: the value name"), std::string::npos) << e;
  }
}

TEST(RegFile, InvalidUtf8InStringDataOrKeyNameIsAnError) {
  Registry r;
  std::string error = import_error("[HKEY_LOCAL_MACHINE\\A]\r\n\"v\"=\"ok\xff\"\r\n", r);
  EXPECT_NE(error.find("bad.reg:4: the string data is not valid UTF-8"), std::string::npos)
      << error;
  Value v;
  EXPECT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\A", u"v", v), Status::kObjectNameNotFound);
  error = import_error("[HKEY_LOCAL_MACHINE\\A]\r\n\"v\"=str(2):\"\xfe\"\r\n", r);
  EXPECT_NE(error.find("bad.reg:4: the str(N) data is not valid UTF-8"), std::string::npos)
      << error;
  error = import_error("[HKEY_LOCAL_MACHINE\\A\\\xff]\r\n", r);
  EXPECT_NE(error.find("bad.reg:3: key name"), std::string::npos) << error;
  EXPECT_NE(error.find("not valid UTF-8"), std::string::npos) << error;
  error = import_error("[-HKEY_LOCAL_MACHINE\\A\\\xff]\r\n", r);
  EXPECT_NE(error.find("bad.reg:3: key name"), std::string::npos) << error;
  // Text after a string's closing quote is not dropped silently either.
  error = import_error("[HKEY_LOCAL_MACHINE\\A]\r\n\"v\"=\"x\"junk\r\n", r);
  EXPECT_NE(error.find("bad.reg:4: text after the closing quote"), std::string::npos) << error;
}

std::string utf16le_file(const std::u16string& text) {
  std::string bytes = "\xFF\xFE";
  for (char16_t c : text) {
    bytes += static_cast<char>(c & 0xFF);
    bytes += static_cast<char>(c >> 8);
  }
  return bytes;
}

TEST(RegFile, Utf16FileWithALoneSurrogateOrAnOddByteIsAnError) {
  std::u16string text = u"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\X]\r\n\"";
  text += static_cast<char16_t>(0xD800);  // a high surrogate with no low one after it
  text += u"\"=\"evil\"\r\n";
  Registry r;
  RegImportStats stats;
  std::string error;
  EXPECT_FALSE(import_reg(utf16le_file(text), "wide.reg", r, stats, error));
  EXPECT_NE(error.find("wide.reg:4: a lone UTF-16 surrogate"), std::string::npos) << error;
  EXPECT_FALSE(r.key_exists(u"\\REGISTRY\\USER\\X"));
  std::string odd = utf16le_file(u"Windows Registry Editor Version 5.00\r\n") + "x";
  EXPECT_FALSE(import_reg(odd, "odd.reg", r, stats, error));
  EXPECT_NE(error.find("odd.reg:1: a UTF-16 file with an odd number of bytes"), std::string::npos)
      << error;
  // A proper surrogate pair still reads.
  std::u16string pair = u"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\X]\r\n\"";
  pair += u"\U0001F600\"=\"ok\"\r\n";
  ASSERT_TRUE(import_reg(utf16le_file(pair), "pair.reg", r, stats, error)) << error;
  Value v;
  EXPECT_EQ(r.query_value(u"\\REGISTRY\\USER\\X", u"\U0001F600", v), Status::kSuccess);
}

// The reproducer C3: CurrentControlSet in a .reg file follows the control set given (the
// policy's), not always ControlSet001.
TEST(RegFile, CurrentControlSetResolvesToTheControlSetGiven) {
  const std::string body =
      "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\WinDefend]\r\n"
      "\"Start\"=dword:00000002\r\n";
  Registry two;
  ASSERT_EQ(import_error(body, two, 2), "");
  EXPECT_TRUE(two.key_exists(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services\\WinDefend"));
  EXPECT_FALSE(two.key_exists(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001"));
  Registry one;
  ASSERT_EQ(import_error(body, one), "");  // the default, as Windows usually boots
  EXPECT_TRUE(one.key_exists(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\WinDefend"));
  // Deletions resolve the same way.
  ASSERT_EQ(import_error("[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services]\r\n", two, 2),
            "");
  EXPECT_FALSE(two.key_exists(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002\\Services"));
  EXPECT_TRUE(two.key_exists(u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet002"));
  // A saved subtree for restore-key too.
  Subtree saved;
  std::string error;
  ASSERT_TRUE(load_subtree(kHeader + body, "saved.reg", saved, error, 3)) << error;
  EXPECT_EQ(saved->name, u"WinDefend");
}

TEST(RegFile, LineAndFileLimitsAreErrorsThatSayWhichLimit) {
  // A hex value wrapped over many continuation lines counts as one line.
  const std::string piece = "00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,\\\r\n  ";
  const std::size_t joined_piece = 48;  // without the `\`, the line break and the indent
  const auto wrapped_value = [&](std::size_t pieces) {
    std::string text = "[HKEY_LOCAL_MACHINE\\A]\r\n\"big\"=hex:";
    for (std::size_t i = 0; i < pieces; ++i) text += piece;
    return text + "00\r\n";
  };
  const std::string body = wrapped_value(kMaxRegLineBytes / joined_piece + 1);
  Registry r;
  std::string error = import_error(body, r);
  EXPECT_NE(error.find("bad.reg:4: line longer than the limit of " +
                       std::to_string(kMaxRegLineBytes) + " bytes (continuation lines joined)"),
            std::string::npos)
      << error.substr(0, 200);
  // Just under the limit reads.
  EXPECT_EQ(import_error(wrapped_value(kMaxRegLineBytes / joined_piece - 1), r), "");

  RegImportStats stats;
  const std::string huge = kHeader + std::string(kMaxRegFileBytes, ';');
  EXPECT_FALSE(import_reg(huge, "huge.reg", r, stats, error));
  EXPECT_NE(error.find("huge.reg: " + std::to_string(huge.size()) + " bytes, over the limit of " +
                       std::to_string(kMaxRegFileBytes)),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace hivewarden::host

namespace hivewarden::host {
namespace {

TEST(RegFile, EveryLineBreakSpellingIsALineBreak) {
  for (const std::string eol : {"\r\n", "\n", "\r"}) {
    Registry r;
    RegImportStats stats;
    std::string error;
    const std::string text = "Windows Registry Editor Version 5.00" + eol + eol +
                             "[HKEY_LOCAL_MACHINE\\A]" + eol + "\"b\"=hex:01,\\" + eol + "  02" +
                             eol + "\"c\"=\"\xff\"" + eol;
    EXPECT_FALSE(import_reg(text, "eol.reg", r, stats, error));
    EXPECT_NE(error.find("eol.reg:6: the string data"), std::string::npos) << error;
    Value v;
    ASSERT_EQ(r.query_value(u"\\REGISTRY\\MACHINE\\A", u"b", v), Status::kSuccess);
    EXPECT_EQ(v.data, "\x01\x02");
  }
}

TEST(RegFile, ReadingStopsAtTheFileLimit) {
  std::string bytes, error;
  EXPECT_FALSE(read_reg_file("/dev/zero", bytes, error));  // endless: refused, not held
  EXPECT_NE(error.find("/dev/zero: more than " + std::to_string(kMaxRegFileBytes) +
                       " bytes, over the limit of " + std::to_string(kMaxRegFileBytes) +
                       " bytes for a .reg file"),
            std::string::npos)
      << error;
  EXPECT_TRUE(bytes.empty());
  EXPECT_FALSE(read_reg_file("/nonexistent/x.reg", bytes, error));
  EXPECT_NE(error.find("cannot open /nonexistent/x.reg"), std::string::npos) << error;
  const std::string sample =
      std::string(HIVEWARDEN_SOURCE_DIR) + "/samples/start.reg";  // in the repository
  ASSERT_TRUE(read_reg_file(sample, bytes, error)) << error;
  Registry r;
  RegImportStats stats;
  EXPECT_TRUE(import_reg(bytes, sample, r, stats, error)) << error;
  EXPECT_GT(stats.keys, 0u);
}

}  // namespace

// Attack on the fixes: a value name of 20,000 units was imported (and every operation on it was
// then invalid-name); Windows' limit is 16,383 units.
TEST(RegFile, ValueNameOverWindowsLimitIsAnError) {
  Registry r;
  RegImportStats stats;
  std::string error;
  const std::string text =
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\"" +
      std::string(20000, 'v') + "\"=\"x\"\n";
  EXPECT_FALSE(import_reg(text, "long.reg", r, stats, error));
  EXPECT_NE(error.find("long.reg:4"), std::string::npos) << error.substr(0, 200);
  EXPECT_NE(error.find("16383"), std::string::npos) << error.substr(0, 200);
  const std::string ok =
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\"" +
      std::string(16383, 'v') + "\"=\"x\"\n";
  EXPECT_TRUE(import_reg(ok, "ok.reg", r, stats, error)) << error.substr(0, 200);
}

}  // namespace hivewarden::host
