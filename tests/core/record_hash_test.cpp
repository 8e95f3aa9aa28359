// The hashes of hash.hpp against values computed independently (Python's arithmetic on the FNV
// definitions, and the published FNV test vectors), and the notification record of SPEC §7 field
// by field: layout, alignment, and every way a byte string can fail to be a record.
//
// Expected values were computed with:
//   def fnv1a(units, basis, prime, bits):
//       h = basis
//       for u in units: h = ((h ^ u) * prime) % (1 << bits)
//       return h
// with the FNV-1a parameters (32: 0x811c9dc5 / 0x01000193,
// 128: 0x6c62272e07bb014262b821756295c58d / 2**88 + 0x13b), and for the client hash
// h.to_bytes(16, 'little'). The component hash is no longer FNV-1a (format 4): see its test.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../support/test_record.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/notification.hpp"

namespace hivewarden {
namespace {

std::string hex(const unsigned char* bytes, std::size_t n) {
  static const char* const kHex = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 15];
  }
  return s;
}

std::string client_hex(std::string_view name) {
  const ClientHash h = client_hash(name);
  return hex(h.bytes, sizeof h.bytes);
}

TEST(ClientHash, IsFnv1a128OfTheUtf8NameLittleEndian) {
  // Offset basis, and the published FNV-1a 128 vector for "a" (d228cb696f1a8caf78912b704e4a8964).
  EXPECT_EQ(client_hex(""), "8dc595627521b8624201bb072e27626c");
  EXPECT_EQ(client_hex("a"), "64894a4e702b9178af8c1a6f69cb28d2");
  EXPECT_EQ(client_hex("defender-policy"), "c74a6b13e654b47ff45d683a901e737a");
  EXPECT_EQ(client_hex("\xc3\xbc-client"), "e6d46d75cce47165041902cd8c0c5210");  // "ü-client"
  // Bytes with the high bit set are taken as unsigned (no sign extension of char).
  EXPECT_EQ(client_hex("\xff\xff\xff"), "34fda29578bc6d8322588b9e0a3a8ba6");
  EXPECT_NE(client_hex("Defender-Policy"), client_hex("defender-policy"));  // names are exact
}

TEST(ClientHash, LongNamesMatchTheIndependentValue) {
  // Many rounds run every carry of the 128-bit multiplication.
  EXPECT_EQ(client_hex(std::string(1000, 'x')), "2d7df159b09b2411519970251c53e200");
  std::string every_byte;
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  EXPECT_EQ(client_hex(every_byte), "8dc6aadbc44663e48477394784d9cece");
}

// Format 4: four units per step, then the length and fmix64 (hash.hpp). Values from Python:
//   def component_hash(units):
//     h = 0x243f6a8885a308d3
//     for i in range(0, len(units), 4):
//       w = sum(u << (16 * k) for k, u in enumerate(units[i:i + 4]))
//       h = ((h ^ w) * 0x9fb21c651e98df25) % 2**64; h = ((h << 32) | (h >> 32)) % 2**64
//     h ^= len(units)
//     h ^= h >> 33; h = h * 0xff51afd7ed558ccd % 2**64; h ^= h >> 33
//     h = h * 0xc4ceb9fe1a85ec53 % 2**64; return h ^ (h >> 33)
TEST(ComponentHash, FourUnitsPerStepThenLengthAndFinalMix) {
  EXPECT_EQ(component_hash(u""), 0x7acdbb98b1344213ull);
  EXPECT_EQ(component_hash(u"a"), 0x711d514f85808820ull);
  EXPECT_EQ(component_hash(u"foobar"), 0x512aa660028223b9ull);
  EXPECT_EQ(component_hash(u"SOFTWARE"), 0xb8ea66f330ea7aa2ull);  // exactly two words
  // Whole units, not bytes: a unit above 0xFF, a lone surrogate and NUL each count once.
  const char16_t units[] = {0x00C9, 0xFFFF, 0xD800, 0x0000, 0x0041};
  EXPECT_EQ(component_hash(std::u16string_view(units, 5)), 0x0e4d3f3ba933d503ull);
  // The length counts: a trailing NUL (kernel names may hold one) is another name.
  const char16_t a_nul[] = {u'A', 0};
  EXPECT_EQ(component_hash(std::u16string_view(a_nul, 2)), 0x748eb09c13746c4full);
  EXPECT_EQ(component_hash(u"A"), 0xc2f9621759590263ull);
  static_assert(component_hash(u"a") == 0x711d514f85808820ull, "usable at compile time");
}

TEST(ComponentHash, WordsAndUnitsGiveTheSameHash) {
  ComponentHasher by_word, by_unit;
  by_word.add_word(0x0044004300420041ull);  // "ABCD"
  by_word.add_unit(u'E');
  for (char16_t unit : std::u16string_view(u"ABCDE")) by_unit.add_unit(unit);
  EXPECT_EQ(by_word.finish(), by_unit.finish());
  EXPECT_EQ(by_word.finish(), component_hash(u"ABCDE"));
}

// The decision hashes raw names folding unit by unit (no folded copy); the compiler hashes folded
// names: both must agree for every kind of unit, or a CurrentControlSet path or a value name
// would stop matching its entry.
TEST(ComponentHash, FoldingAsItGoesEqualsHashingTheFoldedName) {
  const std::u16string names[] = {u"",
                                  u"a",
                                  u"CurrentControlSet",
                                  u"controlset001",
                                  u"Run",
                                  std::u16string(u"\u00e9t\u00c9\uffff\xd800z", 6)};
  for (const std::u16string& raw : names) {
    std::u16string folded;
    for (char16_t unit : raw) folded.push_back(fold_unit(unit));
    EXPECT_EQ(folded_component_hash(raw), component_hash(folded));
  }
}

TEST(Checksum32, IsFnv1a32OverBytes) {
  const auto sum = [](std::string_view s) {
    return checksum32(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  EXPECT_EQ(sum(""), 0x811c9dc5u);
  EXPECT_EQ(sum("a"), 0xe40c292cu);       // published FNV-1a 32 vector
  EXPECT_EQ(sum("foobar"), 0xbf9cf968u);  // published FNV-1a 32 vector
  unsigned char all[256];
  for (int i = 0; i < 256; ++i) all[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(checksum32(all, sizeof all), 0x90a458c5u);
}

// ---- The record ----

std::vector<unsigned char> encode(const RecordInput& in) {
  std::vector<unsigned char> out(record_size(in));
  EXPECT_EQ(encode_record(in, out.data(), out.size()), out.size());
  return out;
}

// Every fixed field a distinct value, every variable field present with a length that is not a
// multiple of 8 (so padding shows), odd-length data included.
struct FullRecord {
  unsigned char hashes[48];
  RecordInput in;
  FullRecord() {
    for (int i = 0; i < 48; ++i) hashes[i] = static_cast<unsigned char>(0xA0 + i);
    in.type = MessageType::kRegistryEventSync;
    in.sequence = 0x1122334455667788ull;
    in.operation = 0x04;
    in.status = 0xC0000022u;
    in.process_id = 0x0102030405060708ull;
    in.process_creation_time = 0x1111222233334444ull;
    in.thread_id = 0x5555666677778888ull;
    in.session_id = 0x99AABBCCu;
    in.final_key_rules = 0x00420004u;
    in.value_type_before = 4;
    in.value_size_before = 0x10000;  // may exceed what was captured
    in.value_type_after = 1;
    in.value_size_after = 3;
    in.restore_flags = 0x8;
    for (int i = 0; i < 16; ++i) in.transaction_id[i] = static_cast<unsigned char>(0x10 + i);
    in.flags = record_flag::kDenied | record_flag::kHasDataBefore | record_flag::kHasDataAfter |
               record_flag::kHashesTruncated;
    in.key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\K";  // 28 units
    in.value_name = u"V\u00e9";                         // 2 units, non-ASCII
    in.new_key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\New";
    in.old_file_name = u"C:\\old.hiv";
    in.new_file_name = u"C:\\new.hive";
    in.data_before = std::string_view("\x01\x02\x03\x04\x05", 5);
    in.data_after = std::string_view("abc", 3);
    in.hashes = hashes;
    in.hash_count = 3;
  }
};

using test::field_text;

std::uint32_t le32(const std::vector<unsigned char>& b, std::size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24);
}
std::uint64_t le64(const std::vector<unsigned char>& b, std::size_t at) {
  return le32(b, at) | (static_cast<std::uint64_t>(le32(b, at + 4)) << 32);
}

TEST(RecordFields, EveryFixedAndVariableFieldRoundTrips) {
  const FullRecord full;
  const RecordInput& in = full.in;
  const auto bytes = encode(in);
  RecordView v;
  RecordError e;
  ASSERT_TRUE(decode_record(bytes.data(), bytes.size(), v, e)) << e.what;
  const RecordFixed& f = v.fixed;
  EXPECT_EQ(f.magic, kNotificationMagic);
  EXPECT_EQ(f.version, kNotificationVersion);
  EXPECT_EQ(f.message_type, 2);
  EXPECT_EQ(f.size, bytes.size());
  EXPECT_EQ(f.fixed_size, sizeof(RecordFixed));
  EXPECT_EQ(f.sequence, in.sequence);
  EXPECT_EQ(f.operation, in.operation);
  EXPECT_EQ(f.status, in.status);
  EXPECT_EQ(f.process_id, in.process_id);
  EXPECT_EQ(f.process_creation_time, in.process_creation_time);
  EXPECT_EQ(f.thread_id, in.thread_id);
  EXPECT_EQ(f.session_id, in.session_id);
  EXPECT_EQ(f.final_key_rules, in.final_key_rules);
  EXPECT_EQ(f.value_type_before, in.value_type_before);
  EXPECT_EQ(f.value_size_before, in.value_size_before);
  EXPECT_EQ(f.value_type_after, in.value_type_after);
  EXPECT_EQ(f.value_size_after, in.value_size_after);
  EXPECT_EQ(f.restore_flags, in.restore_flags);
  EXPECT_EQ(f.hash_count, 3u);
  EXPECT_EQ(std::memcmp(f.transaction_id, in.transaction_id, 16), 0);
  EXPECT_EQ(f.flags, in.flags);
  EXPECT_EQ(f.reserved, 0u);
  EXPECT_EQ(field_text(v, kFieldKeyName), in.key_name);
  EXPECT_EQ(field_text(v, kFieldValueName), in.value_name);
  EXPECT_EQ(field_text(v, kFieldNewKeyName), in.new_key_name);
  EXPECT_EQ(field_text(v, kFieldOldFileName), in.old_file_name);
  EXPECT_EQ(field_text(v, kFieldNewFileName), in.new_file_name);
  EXPECT_EQ(v.bytes(kFieldDataBefore), in.data_before);
  EXPECT_EQ(v.bytes(kFieldDataAfter), in.data_after);
  EXPECT_EQ(v.bytes(kFieldHashes),
            std::string_view(reinterpret_cast<const char*>(full.hashes), 48));
}

TEST(RecordFields, LayoutIsLittleEndianAtFixedOffsets) {
  const FullRecord full;
  const auto b = encode(full.in);
  // "HWRN", version 1, type 2, size, fixed size, sequence: the bytes a consumer in any language
  // reads.
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "HWRN");
  EXPECT_EQ(b[4], 1);
  EXPECT_EQ(b[5], 0);
  EXPECT_EQ(b[6], 2);
  EXPECT_EQ(b[7], 0);
  EXPECT_EQ(le32(b, 8), b.size());
  EXPECT_EQ(le32(b, 12), 176u);
  EXPECT_EQ(le64(b, 16), 0x1122334455667788ull);
  EXPECT_EQ(le32(b, 24), 0x04u);        // operation
  EXPECT_EQ(le32(b, 28), 0xC0000022u);  // status
  EXPECT_EQ(le64(b, 32), 0x0102030405060708ull);
  EXPECT_EQ(le64(b, 40), 0x1111222233334444ull);
  EXPECT_EQ(le64(b, 48), 0x5555666677778888ull);
  EXPECT_EQ(le32(b, 56), 0x99AABBCCu);  // session
  EXPECT_EQ(le32(b, 60), 0x00420004u);  // final key rules
  EXPECT_EQ(le32(b, 64), 4u);
  EXPECT_EQ(le32(b, 68), 0x10000u);
  EXPECT_EQ(le32(b, 72), 1u);
  EXPECT_EQ(le32(b, 76), 3u);
  EXPECT_EQ(le32(b, 80), 0x8u);  // restore flags
  EXPECT_EQ(le32(b, 84), 3u);    // hash count
  EXPECT_EQ(b[88], 0x10);        // transaction id
  EXPECT_EQ(b[103], 0x1F);
  EXPECT_EQ(le32(b, 104), 0xFu);  // flags
  EXPECT_EQ(le32(b, 108), 0u);    // reserved
  EXPECT_EQ(offsetof(RecordFixed, refs), 112u);
  // The refs: (offset, length) pairs in field order.
  EXPECT_EQ(le32(b, 112), 176u);  // the key name starts right after the fixed part
  EXPECT_EQ(le32(b, 116), 28u * 2);
}

TEST(RecordFields, VariableFieldsAreInOrderEightByteAlignedAndZeroPadded) {
  const FullRecord full;
  const auto b = encode(full.in);
  RecordView v;
  RecordError e;
  ASSERT_TRUE(decode_record(b.data(), b.size(), v, e)) << e.what;
  std::uint32_t expect_at = sizeof(RecordFixed);
  for (std::uint32_t i = 0; i < kRecordFieldCount; ++i) {
    const RecordRef r = v.fixed.refs[i];
    EXPECT_EQ(r.offset, expect_at) << "field " << i;
    EXPECT_EQ(r.offset % 8, 0u) << "field " << i;
    const std::uint32_t end = r.offset + r.length;
    const std::uint32_t padded = (end + 7) & ~7u;
    for (std::uint32_t p = end; p < padded; ++p) EXPECT_EQ(b[p], 0) << "padding after field " << i;
    expect_at = padded;
  }
  EXPECT_EQ(expect_at, b.size());
  EXPECT_EQ(b.size() % 8, 0u);
  EXPECT_EQ(record_size(full.in), b.size());
}

TEST(RecordFields, EmptyFieldsAreValidZeroLengthRuns) {
  RecordInput in;  // nothing but defaults
  const auto b = encode(in);
  EXPECT_EQ(b.size(), sizeof(RecordFixed));
  RecordView v;
  RecordError e;
  ASSERT_TRUE(decode_record(b.data(), b.size(), v, e)) << e.what;
  EXPECT_EQ(v.fixed.message_type, 1);  // async by default
  for (std::uint32_t i = 0; i < kRecordFieldCount; ++i) {
    EXPECT_TRUE(v.bytes(static_cast<RecordField>(i)).empty());
    EXPECT_EQ(v.fixed.refs[i].offset, sizeof(RecordFixed));
  }
}

TEST(RecordFields, DecodesFromUnalignedBytes) {
  const FullRecord full;
  const auto b = encode(full.in);
  std::vector<unsigned char> shifted(b.size() + 3);
  std::memcpy(shifted.data() + 3, b.data(), b.size());
  RecordView v;
  RecordError e;
  ASSERT_TRUE(decode_record(shifted.data() + 3, b.size(), v, e)) << e.what;
  EXPECT_EQ(v.fixed.thread_id, full.in.thread_id);
  EXPECT_EQ(field_text(v, kFieldNewFileName), full.in.new_file_name);
}

TEST(RecordEncode, RefusesWhatDoesNotFit) {
  const FullRecord full;
  const std::uint64_t size = record_size(full.in);
  std::vector<unsigned char> out(size + 16, 0xEE);
  EXPECT_EQ(encode_record(full.in, out.data(), size - 1), 0u);
  EXPECT_EQ(encode_record(full.in, nullptr, size), 0u);
  EXPECT_EQ(encode_record(full.in, out.data(), size + 16), size);  // a larger buffer is fine
  EXPECT_EQ(out[size], 0xEE);  // and nothing is written past the record
  // Over 4 GiB cannot be described by 32-bit offsets: refused, not wrapped (nothing is read).
  RecordInput huge;
  static const unsigned char one_hash[16] = {};
  huge.hashes = one_hash;
  huge.hash_count = 0x10000000u;  // 4 GiB of hashes
  EXPECT_EQ(record_size(huge), 0u);
  EXPECT_EQ(encode_record(huge, out.data(), out.size()), 0u);
}

// One damaged copy of a good record per check of decode_record, each named by its error.
struct Damage {
  const char* expect;  // a word of the error
  void (*apply)(RecordFixed& f, std::uint64_t size);
};

TEST(RecordDecode, EachDamageIsRejectedWithItsOwnError) {
  const FullRecord full;
  const auto good = encode(full.in);
  const Damage damages[] = {
      {"magic", [](RecordFixed& f, std::uint64_t) { f.magic = 0x4E525749; }},
      {"version", [](RecordFixed& f, std::uint64_t) { f.version = 2; }},
      {"version", [](RecordFixed& f, std::uint64_t) { f.version = 0; }},
      {"message type", [](RecordFixed& f, std::uint64_t) { f.message_type = 0; }},
      {"message type", [](RecordFixed& f, std::uint64_t) { f.message_type = 3; }},
      {"size", [](RecordFixed& f, std::uint64_t) { f.size += 8; }},
      {"size", [](RecordFixed& f, std::uint64_t) { f.size -= 8; }},
      {"fixed-part size", [](RecordFixed& f, std::uint64_t) { f.fixed_size = 175; }},
      {"fixed-part size",
       [](RecordFixed& f, std::uint64_t s) { f.fixed_size = static_cast<std::uint32_t>(s) + 1; }},
      {"flags", [](RecordFixed& f, std::uint64_t) { f.flags |= 0x10; }},
      {"flags", [](RecordFixed& f, std::uint64_t) { f.flags = 0x80000000u; }},
      // A field pointing into the fixed part, past the end, or running past it.
      {"outside", [](RecordFixed& f, std::uint64_t) { f.refs[kFieldKeyName].offset = 0; }},
      {"outside", [](RecordFixed& f, std::uint64_t) { f.refs[kFieldValueName].offset = 100; }},
      {"outside",
       [](RecordFixed& f, std::uint64_t s) {
         f.refs[kFieldHashes].offset = static_cast<std::uint32_t>(s) + 8;
       }},
      {"outside",
       [](RecordFixed& f, std::uint64_t s) {
         f.refs[kFieldDataAfter].offset = static_cast<std::uint32_t>(s);
         f.refs[kFieldDataAfter].length = 1;
       }},
      {"outside",
       [](RecordFixed& f, std::uint64_t) { f.refs[kFieldNewFileName].length = 0xFFFFFFFFu; }},
      {"outside",
       [](RecordFixed& f, std::uint64_t) {  // offset + length wraps around 32 bits
         f.refs[kFieldOldFileName].offset = 0xFFFFFFF8u;
         f.refs[kFieldOldFileName].length = 16;
       }},
      // Text is UTF-16: whole units only. Data may be any length.
      {"odd length", [](RecordFixed& f, std::uint64_t) { f.refs[kFieldKeyName].length -= 1; }},
      {"odd length", [](RecordFixed& f, std::uint64_t) { f.refs[kFieldNewKeyName].length += 1; }},
      {"hash count", [](RecordFixed& f, std::uint64_t) { f.hash_count = 2; }},
      {"hash count",
       [](RecordFixed& f, std::uint64_t) { f.hash_count = 0x10000001u; }},  // *16 wraps in 32 bits
      {"hash count", [](RecordFixed& f, std::uint64_t) { f.refs[kFieldHashes].length = 47; }},
  };
  for (std::size_t i = 0; i < std::size(damages); ++i) {
    auto bytes = good;
    RecordFixed f;
    std::memcpy(&f, bytes.data(), sizeof f);
    damages[i].apply(f, bytes.size());
    std::memcpy(bytes.data(), &f, sizeof f);
    RecordView v;
    RecordError e;
    EXPECT_FALSE(decode_record(bytes.data(), bytes.size(), v, e)) << "damage " << i;
    EXPECT_NE(std::string(e.what).find(damages[i].expect), std::string::npos)
        << "damage " << i << ": " << e.what;
  }
  // Data fields may have odd lengths (checked above: the good record has 5 and 3 bytes).
  RecordView v;
  RecordError e;
  EXPECT_TRUE(decode_record(good.data(), good.size(), v, e)) << e.what;
}

TEST(RecordDecode, EveryTruncationAndExtensionIsRejected) {
  const FullRecord full;
  const auto good = encode(full.in);
  for (std::size_t n = 0; n < good.size(); ++n) {
    // An exactly sized copy: AddressSanitizer would see a read past the end.
    std::unique_ptr<unsigned char[]> exact(new unsigned char[n + 1]);
    std::memcpy(exact.get(), good.data(), n);
    RecordView v;
    RecordError e;
    EXPECT_FALSE(decode_record(exact.get(), n, v, e)) << n;
    EXPECT_NE(std::string(e.what).find(n < sizeof(RecordFixed) ? "shorter" : "size"),
              std::string::npos)
        << n << ": " << e.what;
  }
  // Trailing bytes after a record are not part of it: the record must fill the bytes exactly.
  auto longer = good;
  longer.resize(good.size() + 8);
  RecordView v;
  RecordError e;
  EXPECT_FALSE(decode_record(longer.data(), longer.size(), v, e));
}

TEST(RecordDecode, ALaterWritersLargerFixedPartIsAccepted) {
  // fixed_size says how big the writer's fixed part was; a reader skips what it does not know.
  const FullRecord full;
  const auto good = encode(full.in);
  std::vector<unsigned char> grown(good.size() + 8, 0);
  std::memcpy(grown.data(), good.data(), sizeof(RecordFixed));
  std::memcpy(grown.data() + sizeof(RecordFixed) + 8, good.data() + sizeof(RecordFixed),
              good.size() - sizeof(RecordFixed));
  RecordFixed f;
  std::memcpy(&f, grown.data(), sizeof f);
  f.fixed_size += 8;
  f.size += 8;
  for (RecordRef& r : f.refs) r.offset += 8;
  std::memcpy(grown.data(), &f, sizeof f);
  RecordView v;
  RecordError e;
  ASSERT_TRUE(decode_record(grown.data(), grown.size(), v, e)) << e.what;
  EXPECT_EQ(field_text(v, kFieldKeyName), full.in.key_name);
  // But no field may start inside it.
  f.refs[kFieldKeyName].offset = sizeof(RecordFixed);
  std::memcpy(grown.data(), &f, sizeof f);
  EXPECT_FALSE(decode_record(grown.data(), grown.size(), v, e));
}

TEST(RecordDecode, GarbageNeverDecodes) {
  RecordView v;
  RecordError e;
  EXPECT_FALSE(decode_record(nullptr, 176, v, e));
  std::vector<unsigned char> zeros(4096, 0);
  EXPECT_FALSE(decode_record(zeros.data(), zeros.size(), v, e));
  EXPECT_NE(std::string(e.what).find("magic"), std::string::npos);
  std::vector<unsigned char> ones(4096, 0xFF);
  EXPECT_FALSE(decode_record(ones.data(), ones.size(), v, e));
  // Right magic, the rest garbage.
  std::vector<unsigned char> text(512, 'A');
  std::memcpy(text.data(), "HWRN", 4);
  EXPECT_FALSE(decode_record(text.data(), text.size(), v, e));
}

}  // namespace
}  // namespace hivewarden
