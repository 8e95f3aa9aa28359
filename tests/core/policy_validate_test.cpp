// The blob validator: every mutation of a real blob is either rejected with a message, or
// accepted and then safe to match against (AddressSanitizer watches the matcher in CI).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#include "../support/test_policy.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/policy_format.hpp"

namespace hivewarden {
namespace {

const char* const kPolicy = R"(version: 1
legacy_hardening: true
control_set: 2
hardened_keys: ['HKLM\SYSTEM\CurrentControlSet\Services\WinDefend', 'HKLM\SOFTWARE\Hard']
processes:
  - image: 'C:\Program Files\*\svc?.exe'
    flags: [av-service, friendly]
    rules: [notify-sync]
monitored:
  - key: 'HKLM\SOFTWARE\A\*\B'
    client: one
    rules: [create-key, delete-key, delete-deny]
    values:
      - name: 'V*'
        rules: [set-value, set-value-deny]
      - name: Exact
        rules: [delete-value, delete-value-capture]
  - key: 'HKU\*{2}\Run?'
    client: two
    rules: [rename-key, rename-key-deny, tamper-protection]
  - key: 'HKLM\SOFTWARE\**\Deep'
    client: three
    rules: [restore-key, replace-key, replace-key-deny]
)";

std::vector<unsigned char> compiled_bytes() {
  return test::compile_yaml_blob(kPolicy, "t.yaml");
}

void reseal(std::vector<unsigned char>& bytes) {
  if (bytes.size() < sizeof(blob::Header)) return;
  blob::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  h.checksum = checksum32(bytes.data() + sizeof h, bytes.size() - sizeof h);
  std::memcpy(bytes.data(), &h, sizeof h);
}

// Runs the matcher over a few paths: must not read out of bounds or loop.
void exercise(const PolicyView& view) {
  static const char16_t* const kPaths[] = {u"HKLM\\SOFTWARE\\A\\x\\B", u"HKU\\a\\b\\Run1", u"HKLM\\SOFTWARE\\x\\y\\Deep",
                                           u"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend\\x", u"HKLM"};
  auto path = std::make_unique<KeyPath>();
  auto scratch = std::make_unique<MatchScratch>();
  const std::u16string_view value(u"VALUE");
  for (const char16_t* p : kPaths) {
    ASSERT_EQ(canonicalize_key(p, {view.control_set(), {}}, *path), PathStatus::kOk);
    scratch->reset();
    match_entries(view, *path, path->count, rule::kAll, nullptr, *scratch);
    scratch->reset();
    match_entries(view, *path, path->count, rule::kAll, &value, *scratch);
    is_hardened(view, *path, path->count);
  }
}

TEST(PolicyValidate, CompiledBlobIsAccepted) {
  const auto bytes = compiled_bytes();
  PolicyError error;
  auto policy = test::load_blob(bytes, &error);
  ASSERT_TRUE(policy) << error.what;
  EXPECT_TRUE(policy->view.legacy_hardening());
  EXPECT_EQ(policy->view.control_set(), 2u);
  EXPECT_EQ(policy->view.hardened_keys().size, 2u);
  EXPECT_EQ(policy->view.clients().size, 3u);
  exercise(policy->view);
}

TEST(PolicyValidate, HeaderDamageIsNamed) {
  const auto good = compiled_bytes();
  PolicyError error;
  auto bytes = good;
  bytes[0] = 'X';
  EXPECT_FALSE(test::load_blob(bytes, &error));
  EXPECT_STREQ(error.what, "bad magic: not a hivewarden policy");

  bytes = good;
  bytes.resize(bytes.size() - 8);
  EXPECT_FALSE(test::load_blob(bytes, &error));
  EXPECT_NE(std::string(error.what).find("total size"), std::string::npos);

  bytes = good;
  bytes[bytes.size() - 1] ^= 0x40;
  EXPECT_FALSE(test::load_blob(bytes, &error));
  EXPECT_NE(std::string(error.what).find("checksum"), std::string::npos);

  bytes = good;
  bytes[offsetof(blob::Header, version)] = 99;
  EXPECT_FALSE(test::load_blob(bytes, &error));
  EXPECT_NE(std::string(error.what).find("version"), std::string::npos);

  EXPECT_FALSE(test::load_blob({}, &error));
  EXPECT_FALSE(test::load_blob(std::vector<unsigned char>(good.begin(), good.begin() + 100), &error));
}

TEST(PolicyValidate, EveryTruncationIsRejected) {
  const auto good = compiled_bytes();
  ASSERT_TRUE(test::load_blob(good));
  for (std::size_t n = 0; n < good.size(); n += 1) {
    auto bytes = std::vector<unsigned char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    reseal(bytes);
    EXPECT_FALSE(test::load_blob(bytes)) << "cut to " << n << " bytes was accepted";
    if (bytes.size() < sizeof(blob::Header)) continue;
    // Even with a matching size field and checksum the sections no longer fit.
    blob::Header h{};
    std::memcpy(&h, bytes.data(), sizeof h);
    h.total_size = bytes.size();
    std::memcpy(bytes.data(), &h, sizeof h);
    reseal(bytes);
    PolicyError error;
    EXPECT_FALSE(test::load_blob(bytes, &error)) << "cut to " << n << " bytes, size fixed, accepted";
    EXPECT_STRNE(error.what, "") << n;
  }
}

TEST(PolicyValidate, RandomMutationsWithValidChecksumNeverCrashTheMatcher) {
  const auto good = compiled_bytes();
  std::mt19937 rng(12345);
  int accepted = 0, rejected = 0;
  for (int round = 0; round < 20000; ++round) {
    auto bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[at] ^= static_cast<unsigned char>(1u << (rng() % 8)); break;
        case 1: bytes[at] = static_cast<unsigned char>(rng()); break;
        default: bytes[at] = (rng() % 2) ? 0xFF : 0x00; break;
      }
    }
    reseal(bytes);  // get past the checksum so the structure checks are what is tested
    if (auto p = test::load_blob(bytes)) {
      ++accepted;
      exercise(p->view);
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);  // the structural checks really run
  EXPECT_GT(accepted, 0);     // and padding/name bytes may change harmlessly
}

TEST(PolicyValidate, CycleOrBackwardEdgeIsRejected) {
  auto bytes = compiled_bytes();
  blob::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  ASSERT_GT(h.sections[blob::kLiteralEdges].count, 0u);
  // Point the first literal edge back at the root: a walk could loop.
  auto* edge = reinterpret_cast<blob::LiteralEdge*>(bytes.data() + h.sections[blob::kLiteralEdges].offset);
  blob::LiteralEdge e;
  std::memcpy(&e, edge, sizeof e);
  e.child = 0;
  std::memcpy(edge, &e, sizeof e);
  reseal(bytes);
  PolicyError error;
  EXPECT_FALSE(test::load_blob(bytes, &error));
  EXPECT_NE(std::string(error.what).find("child"), std::string::npos) << error.what;
}

// Format 4 changed the component hash (four units per step): every literal edge's stored hash is
// recomputed from its name, so an edge carrying the hash of format 3 (FNV-1a over units) is
// refused.
TEST(PolicyValidate, StoredEdgeHashIsRecomputedFromTheName) {
  auto bytes = compiled_bytes();
  blob::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  ASSERT_GT(h.sections[blob::kLiteralEdges].count, 0u);
  unsigned char* at = bytes.data() + h.sections[blob::kLiteralEdges].offset;
  blob::LiteralEdge e;
  std::memcpy(&e, at, sizeof e);
  std::u16string folded(e.length, u'\0');
  std::memcpy(folded.data(), bytes.data() + h.sections[blob::kStrings].offset + 2ull * e.folded,
              2ull * e.length);
  ASSERT_EQ(e.hash, static_cast<std::uint32_t>(component_hash(folded)));
  std::uint64_t fnv = 0xcbf29ce484222325ull;
  for (char16_t unit : folded) fnv = (fnv ^ unit) * 0x100000001b3ull;
  e.hash = static_cast<std::uint32_t>(fnv);
  std::memcpy(at, &e, sizeof e);
  reseal(bytes);
  PolicyError error;
  EXPECT_FALSE(test::load_blob(bytes, &error));
  EXPECT_NE(std::string(error.what).find("hash"), std::string::npos) << error.what;
}

TEST(PolicyValidate, StoredRuleUnionIsNotTrusted) {
  auto bytes = compiled_bytes();
  blob::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  const Rules real = h.rule_union;
  h.rule_union = 0;  // a hostile blob hiding its rules from the gate
  std::memcpy(bytes.data(), &h, sizeof h);
  reseal(bytes);
  auto p = test::load_blob(bytes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->view.rule_union(), real);
}

}  // namespace
}  // namespace hivewarden
