#include "hivewarden/consumer/record_json.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "hivewarden/consumer/value_text.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {
namespace {

std::string bytes16(std::u16string_view s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size() * 2);
}

TEST(ValueText, EachTypeAsTheRegistryShowsIt) {
  EXPECT_EQ(value_to_json(reg_type::kSz, bytes16(std::u16string(u"C:\\x.exe\0", 9))), "C:\\x.exe");
  EXPECT_EQ(value_to_json(reg_type::kExpandSz, bytes16(u"%SystemRoot%")), "%SystemRoot%");
  EXPECT_EQ(value_to_json(reg_type::kMultiSz, bytes16(std::u16string(u"a\0bc\0\0", 6))),
            nlohmann::ordered_json::array({"a", "bc"}));
  EXPECT_EQ(value_to_json(reg_type::kDword, std::string("\x01\x00\x00\x00", 4)), 1);
  EXPECT_EQ(value_to_json(reg_type::kDwordBigEndian, std::string("\x00\x00\x01\x00", 4)), 256);
  EXPECT_EQ(value_to_json(reg_type::kQword, std::string("\x00\x00\x00\x00\x01\x00\x00\x00", 8)),
            4294967296ull);
  EXPECT_EQ(value_to_json(reg_type::kBinary, std::string("\xde\xad", 2)), "dead");
  EXPECT_EQ(value_to_json(reg_type::kDword, std::string("\x01\x02", 2)),
            "0102");  // wrong size: raw
  EXPECT_EQ(reg_type_name(reg_type::kQword), "REG_QWORD");
  EXPECT_EQ(reg_type_name(0x99), "REG_0x99");
}

TEST(RecordJson, ReadableFields) {
  const ClientHash h = client_hash("defender-tamper");
  RecordInput in;
  in.type = MessageType::kRegistryEventSync;
  in.sequence = 9;
  in.operation = notify_class::kPreSetValueKey;
  in.status = 0xC0000022;
  in.flags = record_flag::kDenied | record_flag::kHasDataBefore | record_flag::kHasDataAfter;
  in.process_id = 4120;
  in.thread_id = 7;
  in.final_key_rules = rule::kSetValue | rule::kTamperProtection;
  in.key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender";
  in.value_name = u"DisableAntiSpyware";
  in.value_type_before = reg_type::kDword;
  in.value_size_before = 4;
  in.data_before = std::string_view("\0\0\0\0", 4);
  in.value_type_after = reg_type::kDword;
  in.value_size_after = 4;
  in.data_after = std::string_view("\1\0\0\0", 4);
  in.hashes = h.bytes;
  in.hash_count = 1;
  std::vector<unsigned char> bytes(record_size(in));
  ASSERT_GT(encode_record(in, bytes.data(), bytes.size()), 0u);
  RecordView view;
  RecordError error;
  ASSERT_TRUE(decode_record(bytes.data(), bytes.size(), view, error));
  std::string hex;
  char b[3];
  for (unsigned char c : h.bytes) {
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  const ClientNames names{{hex, "defender-tamper"}};
  const auto j = record_to_json(view, &names);
  EXPECT_EQ(j["operation"], "set-value");
  EXPECT_EQ(j["status"], "access-denied");
  EXPECT_EQ(j["denied"], true);
  EXPECT_EQ(j["sync"], true);
  EXPECT_EQ(j["key"], "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender");
  EXPECT_EQ(j["value"], "DisableAntiSpyware");
  EXPECT_EQ(j["before"]["data"], 0);
  EXPECT_EQ(j["after"]["data"], 1);
  EXPECT_EQ(j["after"]["type"], "REG_DWORD");
  EXPECT_EQ(j["rule_names"], "set-value|tamper-protection");
  EXPECT_EQ(j["clients"][0]["name"], "defender-tamper");
  EXPECT_EQ(j["process"]["pid"], 4120);
  const std::string text = record_to_text(view, &names);
  EXPECT_NE(text.find("DENIED"), std::string::npos);
  EXPECT_NE(text.find("defender-tamper"), std::string::npos);
}

// A record's status is named from util's one NTSTATUS table, the host's names: the consumer's own
// copy knew six of the nine (name-too-long, reparse-point-loop, unsuccessful came out as hex).
TEST(RecordJson, StatusNamesAreTheHostsNames) {
  const struct {
    std::uint32_t status;
    const char* name;
  } statuses[] = {{0x00000000, "success"},       {0xC0000022, "access-denied"},
                  {0xC0000106, "name-too-long"}, {0xC000026B, "reparse-point-loop"},
                  {0xC0000001, "unsuccessful"},  {0xC0000034, "object-name-not-found"},
                  {0x80000005, "0x80000005"}};
  for (const auto& s : statuses) {
    RecordInput in;
    in.operation = notify_class::kPreCreateKeyEx;
    in.status = s.status;
    in.key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\X";
    std::vector<unsigned char> bytes(record_size(in));
    ASSERT_GT(encode_record(in, bytes.data(), bytes.size()), 0u);
    RecordView view;
    RecordError error;
    ASSERT_TRUE(decode_record(bytes.data(), bytes.size(), view, error));
    EXPECT_EQ(record_to_json(view)["status"], s.name);
  }
}

}  // namespace
}  // namespace hivewarden
