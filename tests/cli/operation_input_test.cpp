// The one operation reader (SPEC §9): every field is read or refused, never silently defaulted,
// and no line can make it crash, recurse without bound or hold more than its bound.
#include "hivewarden/cli/operation_input.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "hivewarden/util/json_depth.hpp"
#include "hivewarden/util/line_reader.hpp"

namespace hivewarden::cli {
namespace {

std::string read_error(const std::string& line) {
  std::string error;
  const auto input = operation_from_line(line, error);
  EXPECT_FALSE(input.has_value()) << line.substr(0, 200);
  return error;
}

OperationInput read_ok(const std::string& line) {
  std::string error;
  auto input = operation_from_line(line, error);
  EXPECT_TRUE(input.has_value()) << error;
  return input ? std::move(*input) : OperationInput{};
}

const std::string kSet = R"({"op":"set-value","key":"HKLM\\SOFTWARE\\A","value":"v")";

// Adversarial item 2: flags nested 50,000 deep crashed the error message's dump().
TEST(OperationReader, DeeplyNestedFieldsAreAnErrorNotACrash) {
  for (const char* field : {"flags", "rules", "data", "key", "unknown"}) {
    const std::string deep =
        kSet + ",\"" + field + "\":" + std::string(50000, '[') + std::string(50000, ']') + "}";
    EXPECT_NE(read_error(deep).find("nested deeper than"), std::string::npos) << field;
    const std::string objects = kSet + ",\"" + field + "\":" + [] {
      std::string s;
      for (int i = 0; i < 50000; ++i) s += "{\"a\":";
      return s + "1" + std::string(50000, '}');
    }() + "}";
    EXPECT_NE(read_error(objects).find("nested deeper than"), std::string::npos) << field;
  }
  // Brackets inside strings are not nesting.
  read_ok(kSet + ",\"image\":\"" + std::string(100, '[') + "\"}");
}

TEST(OperationReader, AnOverlongLineIsRefusedBeforeParsing) {
  const std::string huge =
      kSet + ",\"image\":\"" + std::string(kMaxOperationLineBytes, 'a') + "\"}";
  EXPECT_NE(read_error(huge).find("longer than"), std::string::npos);
}

TEST(OperationReader, ErrorMessagesNeverEchoAWholeValue) {
  const std::string error = read_error(kSet + ",\"flags\":[\"" + std::string(100000, 'x') + "\"]}");
  EXPECT_LT(error.size(), 400u) << error.substr(0, 400);
  EXPECT_NE(error.find("unknown name in `flags`"), std::string::npos);
  EXPECT_NE(read_error(kSet + ",\"flags\":[[1,2]]}").find("a JSON array"), std::string::npos);
}

// Adversarial item 3: null and mistyped fields aborted demo and run.
TEST(OperationReader, NullMeansAbsentAndMistypedFieldsAreErrors) {
  const OperationInput in =
      read_ok(R"({"op":"create-key","key":"HKLM\\A","image":null,"new_name":null,"value":null})");
  EXPECT_TRUE(in.operation.request.process.image.empty());
  EXPECT_NE(read_error(R"({"op":"set-value","key":"HKLM\\A","value":null})")
                .find("missing field `value`"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"op":"create-key","key":"HKLM\\A","link":"yes"})")
                .find("`link` must be true or false"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"op":"create-key","key":"HKLM\\A","open_link":1})")
                .find("`open_link` must be true or false"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"op":"restore-key","key":"HKLM\\A","file":5})")
                .find("`file` must be a string"),
            std::string::npos);
  EXPECT_NE(
      read_error(R"({"op":"create-key","key":"HKLM\\A","key_exists":"true"})").find("`key_exists`"),
      std::string::npos);
  EXPECT_NE(read_error(R"({"op":"create-key","key":"HKLM\\A","pid":-1})").find("`pid`"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"op":"create-key","key":"HKLM\\A","pid":4294967296})").find("`pid`"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"op":"create-key","key":"HKLM\\A","pid":4.5})").find("`pid`"),
            std::string::npos);
  EXPECT_NE(read_error(R"({"op":"create-key","key":5})").find("`key` must be a string"),
            std::string::npos);
  EXPECT_NE(read_error(R"([1,2])").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(read_error(R"({"op":"fly","key":"HKLM\\A"})").find("unknown op"), std::string::npos);
}

TEST(OperationReader, FlagsRulesAndRunFieldsAreRead) {
  const OperationInput in = read_ok(
      R"({"op":"create-key","key":"HKLM\\A","flags":["friendly","excluded"],"rules":["notify-sync"],"link":true,"open_link":false,"file":"x.reg","thread":7,"user_sid":"S-1-5-21-1"})");
  EXPECT_EQ(in.operation.request.process.extra_flags,
            process_flag::kFriendly | process_flag::kExcluded);
  EXPECT_EQ(in.operation.request.process.extra_rules, process_rule::kNotifySync);
  EXPECT_TRUE(in.operation.request.creates_link);
  EXPECT_FALSE(in.operation.request.open_link);
  EXPECT_EQ(in.operation.request.file, u"x.reg");
  EXPECT_EQ(in.operation.request.thread_id, 7u);
  EXPECT_EQ(in.operation.request.process.user_sid, u"S-1-5-21-1");
}

// Adversarial item 17: DWORD 2^32+1 was stored as 1, type 2^32+4 as REG_DWORD.
TEST(OperationReader, ValueDataIsCheckedAgainstItsType) {
  EXPECT_NE(
      read_error(kSet + R"(,"type":"REG_DWORD","data":4294967297})").find("from 0 to 4294967295"),
      std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":4294967300,"data":1})").find("`type`"), std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_DWORD","data":-1})").find("`data`"),
            std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_DWORD","data":"1"})").find("`data`"),
            std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_QWORD","data":1.5})").find("`data`"),
            std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_BINARY","data":"abc"})").find("hex"),
            std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_BINARY","data":"zz"})").find("hex"),
            std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_MULTI_SZ","data":["a",1]})").find("list of strings"),
            std::string::npos);
  EXPECT_NE(read_error(kSet + R"(,"type":"REG_FANCY","data":1})").find("unknown value type"),
            std::string::npos);

  OperationInput in = read_ok(kSet + R"(,"type":"REG_DWORD","data":4294967295})");
  EXPECT_EQ(in.operation.request.type, 4u);
  EXPECT_EQ(in.operation.request.data, std::string("\xff\xff\xff\xff", 4));
  in = read_ok(kSet + R"(,"type":"qword","data":18446744073709551615})");
  EXPECT_EQ(in.operation.request.type, 11u);
  EXPECT_EQ(in.operation.request.data, std::string(8, '\xff'));
  in = read_ok(kSet + R"(,"type":"multi-sz","data":["a","b"]})");
  EXPECT_EQ(in.operation.request.type, 7u);
  EXPECT_EQ(in.operation.request.data, std::string("a\0\0\0b\0\0\0\0\0", 10));
  in = read_ok(kSet + R"(,"type":"expand_sz","data":"%x%"})");
  EXPECT_EQ(in.operation.request.type, 2u);
  EXPECT_EQ(in.operation.request.data, std::string("%\0x\0%\0\0\0", 8));
  in = read_ok(kSet + R"(,"type":3,"data":"00ff"})");
  EXPECT_EQ(in.operation.request.data, std::string("\x00\xff", 2));
  in = read_ok(kSet + R"(,"data":"hi"})");  // REG_SZ by default
  EXPECT_TRUE(in.operation.request.has_data);
  EXPECT_EQ(in.operation.request.data, std::string("h\0i\0\0\0", 6));
}

// Adversarial item 19 / SPEC §9: success is success, STATUS_SUCCESS or 0, in any spelling;
// any other NTSTATUS name or number is a failure; anything else is an error, not a guess.
TEST(OperationReader, StatusSpellings) {
  for (const char* ok :
       {R"("success")", R"("Success")", R"("STATUS_SUCCESS")", R"("status_success")", R"("0")",
        R"("0x0")", R"("0x00000000")", "0", "true"}) {
    bool valid = false;
    EXPECT_TRUE(status_is_success(nlohmann::json::parse(ok), valid)) << ok;
    EXPECT_TRUE(valid) << ok;
  }
  for (const char* failed : {R"("STATUS_ACCESS_DENIED")", R"("status_object_name_not_found")",
                             R"("access-denied")", R"("0xC0000022")", R"("3221225506")",
                             "3221225506", "-1073741790", R"("STATUS_REPARSE")", "260", "false"}) {
    bool valid = false;
    EXPECT_FALSE(status_is_success(nlohmann::json::parse(failed), valid)) << failed;
    EXPECT_TRUE(valid) << failed;
  }
  for (const char* bad : {R"("sucess")", R"("")", R"("0x")", R"("0x1FFFFFFFF")", "4294967296",
                          "-2147483649", "1.0", "[]", "{}", R"("STATUS_")", R"("STATUS_A B")"}) {
    bool valid = true;
    status_is_success(nlohmann::json::parse(bad), valid);
    EXPECT_FALSE(valid) << bad;
  }
}

// The edges of a `status` number written as text (parsed by util/number since issue 11): 32 bits
// unsigned in decimal or 0x hex, or a minus and a decimal within int32; at most 16 digits; no
// blanks, no plus, no hex after a minus.
TEST(OperationReader, StatusNumberTextEdges) {
  const auto check = [](const std::string& text, bool success, bool valid_expected) {
    bool valid = !valid_expected;
    EXPECT_EQ(status_is_success(nlohmann::json(text), valid), success) << text;
    EXPECT_EQ(valid, valid_expected) << text;
  };
  check("0X0", true, true);
  check("0x0000000000000000", true, true);  // 16 digits
  check("0000000000000000", true, true);
  check("0xFFFFFFFF", false, true);
  check("0xffffffff", false, true);
  check("4294967295", false, true);
  check("-2147483648", false, true);
  check("-0", true, true);
  for (const char* bad : {"0x100000000", "4294967296", "18446744073709551616", "-2147483649",
                          "-4294967296", "0x00000000000000000", "00000000000000000", "-0x1", "+0",
                          "+1", " 0", "0 ", "--1", "-", "- 1", "0x 0", "1e3", "0.0", "0x0g"}) {
    check(bad, false, false);
  }
}

// Attack on the fixes (F9, F3): a raw NUL byte ended the parser's input, so `{...}\0garbage` was
// one valid operation; -0 is the number 0, for `status` and for numbers.
TEST(OperationReader, RawNulBytesAreRefusedAndMinusZeroIsZero) {
  const std::string line =
      std::string(R"({"op":"create-key","key":"HKLM\\A"})") + '\0' + "garbage{{{";
  EXPECT_NE(read_error(line).find("NUL byte"), std::string::npos);
  bool valid = false;
  EXPECT_TRUE(status_is_success(nlohmann::json::parse("-0"), valid));
  EXPECT_TRUE(valid);
  EXPECT_TRUE(status_is_success(nlohmann::json("-0"), valid));
  EXPECT_TRUE(valid);
  EXPECT_FALSE(status_is_success(nlohmann::json("-1073741790"), valid));
  EXPECT_TRUE(valid);
  status_is_success(nlohmann::json("-2147483649"), valid);
  EXPECT_FALSE(valid);
  const OperationInput in = read_ok(kSet + R"(,"type":"REG_DWORD","data":-0,"pid":-0})");
  EXPECT_EQ(in.operation.request.data, std::string(4, '\0'));
  EXPECT_EQ(in.operation.request.process.pid, 0u);
}

// A field given twice took its last value silently ("op":"set-value",...,"op":"query-value").
TEST(OperationReader, AFieldGivenTwiceIsAnError) {
  EXPECT_NE(read_error(R"({"op":"set-value","key":"HKLM\\A","value":"v","op":"query-value"})")
                .find("'op' is given twice"),
            std::string::npos);
  EXPECT_NE(
      read_error(kSet + R"(,"flags":["friendly"],"flags":[]})").find("'flags' is given twice"),
      std::string::npos);
  read_ok(kSet + R"(,"x":{"a":1},"y":{"a":2}})");  // the same name in two objects is fine
}

TEST(LineReader, BoundsEachLineAndCountsEveryLine) {
  std::istringstream in("a\n" + std::string(100, 'x') + "\nb\r\n\nlast");
  LineReader lines(in, 10);
  std::string line;
  EXPECT_EQ(lines.next(line), LineReader::Result::kLine);
  EXPECT_EQ(line, "a");
  EXPECT_EQ(lines.next(line), LineReader::Result::kTooLong);
  EXPECT_EQ(lines.line_number(), 2u);
  EXPECT_EQ(lines.next(line), LineReader::Result::kLine);
  EXPECT_EQ(line, "b\r");
  EXPECT_EQ(lines.next(line), LineReader::Result::kLine);
  EXPECT_EQ(line, "");
  EXPECT_EQ(lines.next(line), LineReader::Result::kLine);
  EXPECT_EQ(line, "last");
  EXPECT_EQ(lines.line_number(), 5u);
  EXPECT_EQ(lines.next(line), LineReader::Result::kEnd);
}

TEST(LineReader, LinesAcrossChunkBoundaries) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + "\n";
  std::istringstream in(text);
  LineReader lines(in, 16);
  std::string line;
  int expected = 0;
  while (lines.next(line) == LineReader::Result::kLine) EXPECT_EQ(line, std::to_string(expected++));
  EXPECT_EQ(expected, 20000);
}

TEST(JsonDepth, CountsOnlyStructureOutsideStrings) {
  EXPECT_TRUE(json_depth_within(R"({"a":[1,{"b":2}]})", 3));
  EXPECT_FALSE(json_depth_within(R"({"a":[1,{"b":2}]})", 2));
  EXPECT_TRUE(json_depth_within(R"({"a":"[[[[\"[[["})", 1));
  EXPECT_FALSE(json_depth_within(R"({"a":"\\",[[]]})", 2));  // the escaped backslash ends
}

}  // namespace
}  // namespace hivewarden::cli
