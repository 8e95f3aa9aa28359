#include "hivewarden/core/notification.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../support/test_record.hpp"

namespace hivewarden {
namespace {

std::vector<unsigned char> encode(const RecordInput& in) {
  std::vector<unsigned char> out(record_size(in));
  EXPECT_EQ(encode_record(in, out.data(), out.size()), out.size());
  return out;
}

RecordInput sample() {
  static const unsigned char hashes[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  RecordInput in;
  in.type = MessageType::kRegistryEventSync;
  in.sequence = 42;
  in.operation = 0x01;
  in.status = 0;
  in.process_id = 4120;
  in.process_creation_time = 133000000000000000ull;
  in.thread_id = 77;
  in.session_id = 1;
  in.final_key_rules = 0x400500;
  in.value_type_before = 4;
  in.value_size_before = 4;
  in.value_type_after = 4;
  in.value_size_after = 4;
  in.flags = record_flag::kHasDataBefore | record_flag::kHasDataAfter;
  in.key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender";
  in.value_name = u"DisableAntiSpyware";
  in.data_before = std::string_view("\0\0\0\0", 4);
  in.data_after = std::string_view("\1\0\0\0", 4);
  in.hashes = hashes;
  in.hash_count = 2;
  return in;
}

using test::field_text;

TEST(Notification, RoundTripsEveryField) {
  const RecordInput in = sample();
  const auto bytes = encode(in);
  RecordView v;
  RecordError e;
  ASSERT_TRUE(decode_record(bytes.data(), bytes.size(), v, e)) << e.what;
  EXPECT_EQ(v.fixed.message_type, 2);
  EXPECT_EQ(v.fixed.sequence, 42u);
  EXPECT_EQ(v.fixed.process_id, 4120u);
  EXPECT_EQ(v.fixed.thread_id, 77u);
  EXPECT_EQ(v.fixed.final_key_rules, 0x400500u);
  EXPECT_EQ(v.fixed.hash_count, 2u);
  EXPECT_EQ(field_text(v, kFieldKeyName), in.key_name);
  EXPECT_EQ(field_text(v, kFieldValueName), in.value_name);
  EXPECT_EQ(v.bytes(kFieldDataBefore), in.data_before);
  EXPECT_EQ(v.bytes(kFieldDataAfter), in.data_after);
  EXPECT_EQ(v.bytes(kFieldHashes).size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(v.bytes(kFieldHashes)[31]), 32);
  EXPECT_TRUE(v.bytes(kFieldNewKeyName).empty());
}

TEST(Notification, EncodeRefusesASmallBuffer) {
  const RecordInput in = sample();
  std::vector<unsigned char> out(record_size(in) - 1);
  EXPECT_EQ(encode_record(in, out.data(), out.size()), 0u);
}

TEST(Notification, DecodeNamesWhatIsWrong) {
  const auto good = encode(sample());
  RecordView v;
  RecordError e;
  auto bytes = good;
  bytes[0] ^= 1;
  EXPECT_FALSE(decode_record(bytes.data(), bytes.size(), v, e));
  EXPECT_NE(std::string(e.what).find("magic"), std::string::npos);
  EXPECT_FALSE(decode_record(good.data(), good.size() - 1, v, e));
  EXPECT_NE(std::string(e.what).find("size"), std::string::npos);
  EXPECT_FALSE(decode_record(good.data(), 10, v, e));
  EXPECT_FALSE(decode_record(nullptr, 0, v, e));
  bytes = good;
  RecordFixed f;
  std::memcpy(&f, bytes.data(), sizeof f);
  f.refs[kFieldKeyName].length = 0xFFFFFFF0u;
  std::memcpy(bytes.data(), &f, sizeof f);
  EXPECT_FALSE(decode_record(bytes.data(), bytes.size(), v, e));
  EXPECT_NE(std::string(e.what).find("outside"), std::string::npos);
  std::memcpy(&f, good.data(), sizeof f);
  f.hash_count = 3;
  bytes = good;
  std::memcpy(bytes.data(), &f, sizeof f);
  EXPECT_FALSE(decode_record(bytes.data(), bytes.size(), v, e));
}

TEST(Notification, RandomBytesNeverReadOutOfBounds) {
  const auto good = encode(sample());
  std::mt19937 rng(7);
  int accepted = 0;
  for (int round = 0; round < 50000; ++round) {
    auto bytes = good;
    for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<unsigned char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    // An exactly sized heap copy lets AddressSanitizer catch any read past the end.
    std::unique_ptr<unsigned char[]> exact(new unsigned char[bytes.size() + (bytes.empty() ? 1 : 0)]);
    std::memcpy(exact.get(), bytes.data(), bytes.size());
    RecordView v;
    RecordError e;
    if (!decode_record(exact.get(), bytes.size(), v, e)) continue;
    ++accepted;
    for (std::uint32_t f = 0; f < kRecordFieldCount; ++f) {
      const std::string_view b = v.bytes(static_cast<RecordField>(f));
      volatile unsigned char sink = 0;
      for (char c : b) sink = sink ^ static_cast<unsigned char>(c);
      (void)sink;
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace hivewarden
