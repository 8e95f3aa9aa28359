// The host's work on one operation (host::apply): the decision it returns is the one of the
// operation it applied, a missing path is created level by level, a link is decided on its
// target, the value before reaches the post record, and nothing of one operation stays behind
// for the next. Records go through the Reporter interface (here a recording one).
#include "hivewarden/host/apply.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../support/test_policy.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/host/engine_filter.hpp"
#include "host_operation.hpp"

namespace hivewarden::host {
namespace {

using test::operation;
using test::set_value;

const char* const kPolicy = R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Box'
    client: box-values
    values:
      - {name: Locked, rules: [set-value, set-value-deny]}
      - {name: Watched, rules: [set-value, set-value-capture, delete-value, delete-value-capture]}
  - key: 'HKLM\SOFTWARE\Box\New'
    client: box-new
    rules: [create-key]
  - key: 'HKLM\SOFTWARE\Box\Ren'
    client: box-ren
    rules: [rename-key-deny]
  - key: 'HKLM\SOFTWARE\Box\Del'
    client: box-del
    rules: [delete-key]
  - key: 'HKLM\SOFTWARE\Box\Res'
    client: box-res
    rules: [restore-key-deny]
  - key: 'HKLM\SOFTWARE\Box\Rep'
    client: box-rep
    rules: [replace-key]
  - key: 'HKLM\SOFTWARE\Box\Stop'
    client: box-stop
    rules: [create-key-deny]
  - key: 'HKLM\SOFTWARE\Box\Stop\Deeper'
    client: box-stop
    rules: [create-key-deny]
  - key: 'HKLM\SOFTWARE\Box\Made\A\B'
    client: box-made
    rules: [create-key]
)";

constexpr const char16_t* kBox = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Box";

std::u16string box(std::u16string_view below) {
  return std::u16string(kBox) + u"\\" + std::u16string(below);
}

// A record as the reporter got it, copied out of the draft.
struct SentRecord {
  std::uint64_t sequence = 0;
  bool denied = false;
  std::u16string key;
  bool has_before = false;
  std::string before, after;
  std::vector<std::array<unsigned char, 16>> hashes;
};

class RecordingReporter : public Reporter {
 public:
  bool accepts(NotifyMode) override {
    if (on_accept) on_accept();
    return true;
  }
  std::uint64_t send(RecordDraft& draft) override {
    const RecordInput& in = draft.input;
    SentRecord r;
    r.sequence = draft.input.sequence = records.size() + 1;
    r.denied = (in.flags & record_flag::kDenied) != 0;
    r.key = in.key_name;
    r.has_before = (in.flags & record_flag::kHasDataBefore) != 0;
    r.before = in.data_before;
    r.after = in.data_after;
    for (std::uint32_t i = 0; i < in.hash_count; ++i) {
      std::array<unsigned char, 16> h;
      std::memcpy(h.data(), in.hashes + 16 * i, 16);
      r.hashes.push_back(h);
    }
    records.push_back(r);
    return r.sequence;
  }
  std::function<void()> on_accept;  // runs between a decision and its record's draft
  std::vector<SentRecord> records;
};

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install(kPolicy);
    for (const char16_t* k : {u"Ren", u"Del", u"Res", u"Rep"}) make(box(k));
    registry_.set_value(kBox, u"Watched", 4, test::dword(7));
    chain_.add(328010, filter_.callback());
  }
  void install(const char* yaml) {
    blobs_.push_back(test::compile_yaml_blob(yaml, "t.yaml"));
    ASSERT_FALSE(blobs_.back().empty());
    ASSERT_TRUE(test::install(engine_, blobs_.back()));
  }
  void make(const std::u16string& key) {
    std::size_t created = 0;
    ASSERT_EQ(registry_.create_key_path(key, created), Status::kSuccess);
  }
  void link(const std::u16string& alias, const std::u16string& target) {
    bool created = false;
    ASSERT_EQ(registry_.create_key(alias, created, /*link=*/true), Status::kSuccess);
    registry_.set_value(
        alias, u"SymbolicLinkValue", 6,
        std::string(reinterpret_cast<const char*>(target.data()), target.size() * 2));
  }
  Applied run(const test::TestOperation& op, const HostInputs& inputs = {}) {
    return apply(registry_, chain_, op.request(), inputs);
  }

  std::vector<policy::Blob> blobs_;
  Engine engine_;
  Registry registry_;
  RecordingReporter reporter_;
  EngineFilter filter_{engine_, &reporter_};
  CallbackChain chain_;
};

::testing::AssertionResult decided(const Applied& a, Verdict verdict, Reason reason) {
  if (!a.decision) return ::testing::AssertionFailure() << "no decision";
  if (a.decision->verdict != verdict || a.decision->reason != reason)
    return ::testing::AssertionFailure() << "decision " << verdict_name(a.decision->verdict) << " "
                                         << reason_name(a.decision->reason);
  return ::testing::AssertionSuccess();
}

TEST_F(ApplyTest, ReturnsTheDecisionOfEachOperationItApplied) {
  Subtree saved;
  ASSERT_EQ(registry_.save_key(box(u"Del"), saved), Status::kSuccess);
  const HostInputs with_saved{saved.get()};

  Applied a = run(operation(Operation::kCreateKey, box(u"New")));
  EXPECT_EQ(a.status, Status::kSuccess);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  a = run(set_value(kBox, u"Locked"));
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  a = run(operation(Operation::kDeleteValue, kBox).value(u"Watched"));
  EXPECT_EQ(a.status, Status::kSuccess);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  a = run(operation(Operation::kQueryValue, kBox).value(u"Locked"));
  EXPECT_EQ(a.status, Status::kObjectNameNotFound);  // the registry's answer; the engine allowed
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNoMatch));
  a = run(operation(Operation::kRenameKey, box(u"Ren"), 1, u"Ren2"));
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  a = run(operation(Operation::kDeleteKey, box(u"Del")));
  EXPECT_EQ(a.status, Status::kSuccess);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  a = run(operation(Operation::kRestoreKey, box(u"Res")), with_saved);
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  a = run(operation(Operation::kReplaceKey, box(u"Rep")), with_saved);
  EXPECT_EQ(a.status, Status::kSuccess);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  // Failed before its pre-operation: no decision, not the previous one.
  a = run(set_value(box(u"Missing"), u"Locked"));
  EXPECT_EQ(a.status, Status::kObjectNameNotFound);
  EXPECT_FALSE(a.decision.has_value());
  // An invalid name reaches no registry; the engine decides it.
  auto invalid = operation(Operation::kCreateKey, std::u16string(u"HKLM\\SOFTWARE\\Nul\0Name", 22));
  ASSERT_EQ(invalid.request().key, nullptr);
  a = run(invalid);
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kInvalidName));
  EXPECT_EQ(engine_.stats().contexts_outstanding, 0u);
}

TEST_F(ApplyTest, CreateOfAMissingPathCreatesEachLevelAndReturnsTheFirstDeniedLevelsDecision) {
  std::vector<std::u16string> levels;  // as the callbacks see them, above the engine
  std::vector<bool> links;
  chain_.add(400000, [&](std::uint32_t cls, OperationCall& call) {
    if (cls == notify_class::kPreCreateKeyEx) {
      levels.emplace_back(call.request.key->text());
      links.push_back(call.request.creates_link);
    }
    return Status::kSuccess;
  });
  // Box\Stop is denied: the walk stops there, Deeper (denied too) is never tried.
  Applied a = run(operation(Operation::kCreateKey, box(u"Stop\\Deeper\\Leaf")));
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  EXPECT_EQ(levels, std::vector<std::u16string>{box(u"Stop")});
  EXPECT_FALSE(registry_.key_exists(box(u"Stop")));
  // Made, Made\A (no-match) then Made\A\B (watched): the last level's decision; only it is a link.
  levels.clear();
  links.clear();
  auto create = operation(Operation::kCreateKey, box(u"Made\\A\\B"));
  create.request().creates_link = true;
  a = run(create);
  EXPECT_EQ(a.status, Status::kSuccess);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  EXPECT_EQ(levels,
            (std::vector<std::u16string>{box(u"Made"), box(u"Made\\A"), box(u"Made\\A\\B")}));
  EXPECT_EQ(links, (std::vector<bool>{false, false, true}));
  ASSERT_EQ(reporter_.records.size(), 2u);  // the denied level, then only the watched level
  EXPECT_EQ(reporter_.records[0].key, box(u"Stop"));
  EXPECT_TRUE(reporter_.records[0].denied);
  EXPECT_EQ(reporter_.records[1].key, box(u"Made\\A\\B"));
  // An existing key is one open: decided once, key-exists.
  levels.clear();
  a = run(operation(Operation::kCreateKey, box(u"Made\\A")));
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kKeyExists));
  EXPECT_EQ(levels.size(), 1u);
  // A level that fails after its pre-operation stops the walk with that level's decision.
  levels.clear();
  a = run(operation(Operation::kCreateKey, box(u"Fails\\Below")), HostInputs{nullptr, true});
  EXPECT_EQ(a.status, Status::kUnsuccessful);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNoMatch));
  EXPECT_EQ(levels, std::vector<std::u16string>{box(u"Fails")});
  EXPECT_EQ(engine_.stats().contexts_outstanding, 0u);
}

TEST_F(ApplyTest, ALinkIsDecidedAndReportedOnItsTarget) {
  link(box(u"ToRen"), box(u"Ren"));
  link(box(u"ToBox"), kBox);
  // Renaming through the link renames the target: decided there.
  Applied a = run(operation(Operation::kRenameKey, box(u"ToRen"), 1, u"Other"));
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  // The link itself (open_link) is not protected.
  auto itself = operation(Operation::kRenameKey, box(u"ToRen"), 1, u"Other");
  itself.request().open_link = true;
  a = run(itself);
  EXPECT_EQ(a.status, Status::kSuccess);
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNoMatch));
  // A value through a link to Box: decided and reported on Box.
  a = run(set_value(box(u"ToBox"), u"Locked"));
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  // A missing path below a link: its levels are created at the target, and decided there.
  a = run(operation(Operation::kCreateKey, box(u"ToBox\\Stop\\X")));
  EXPECT_EQ(a.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  ASSERT_EQ(reporter_.records.size(), 3u);  // the denials, each named by its target
  EXPECT_EQ(reporter_.records[0].key, box(u"Ren"));
  EXPECT_EQ(reporter_.records[1].key, std::u16string(kBox));
  EXPECT_EQ(reporter_.records[2].key, box(u"Stop"));
}

TEST_F(ApplyTest, TheValueCapturedAtPreReachesThePostRecord) {
  Applied a = run(set_value(kBox, u"Watched", 1, 9));
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  a = run(operation(Operation::kDeleteValue, kBox).value(u"Watched"));
  EXPECT_TRUE(decided(a, Verdict::kAllow, Reason::kNotify));
  a = run(set_value(kBox, u"Watched", 1, 3));  // no value before now
  ASSERT_EQ(reporter_.records.size(), 3u);
  EXPECT_FALSE(reporter_.records[0].denied);
  EXPECT_TRUE(reporter_.records[0].has_before);
  EXPECT_EQ(reporter_.records[0].before, test::dword(7));
  EXPECT_EQ(reporter_.records[0].after, test::dword(9));
  EXPECT_TRUE(reporter_.records[1].has_before);
  EXPECT_EQ(reporter_.records[1].before, test::dword(9));
  EXPECT_FALSE(reporter_.records[2].has_before);  // nothing of the earlier operations
  EXPECT_EQ(reporter_.records[2].after, test::dword(3));
}

// Two operations on one thread, one inside the other (a callback below the engine applies its
// own): each gets its own decision and its own value before. A decision or a capture kept per
// thread would give the outer operation the inner one's.
TEST_F(ApplyTest, NothingOfOneOperationLeaksIntoAnotherOnTheSameThread) {
  bool nested = false;
  Applied inner;
  chain_.add(100, [&](std::uint32_t cls, OperationCall&) {
    if (cls == notify_class::kPreSetValueKey && !nested) {
      nested = true;
      inner = run(set_value(kBox, u"Locked"));
    }
    return Status::kSuccess;
  });
  const Applied outer = run(set_value(kBox, u"Watched", 1, 5));
  EXPECT_EQ(outer.status, Status::kSuccess);
  EXPECT_TRUE(decided(outer, Verdict::kAllow, Reason::kNotify));
  EXPECT_EQ(inner.status, Status::kAccessDenied);
  EXPECT_TRUE(decided(inner, Verdict::kDeny, Reason::kDenyRule));
  ASSERT_EQ(reporter_.records.size(), 2u);
  EXPECT_TRUE(reporter_.records[0].denied);  // the inner denial, at once
  EXPECT_FALSE(reporter_.records[0].has_before);
  EXPECT_FALSE(reporter_.records[1].denied);  // the outer change, after it happened
  EXPECT_EQ(reporter_.records[1].before, test::dword(7));
  EXPECT_EQ(reporter_.records[1].after, test::dword(5));
  // Then one that fails before any callback: no decision from either.
  EXPECT_FALSE(run(set_value(box(u"Missing"), u"Watched")).decision.has_value());
  EXPECT_EQ(engine_.stats().contexts_outstanding, 0u);
}

// The decision carries the policy it was made on: a policy swapped in between the decision and
// its record must not rename its clients (hit indices are only meaningful in that policy).
TEST_F(ApplyTest, ADenialsRecordNamesTheClientsOfThePolicyItWasDecidedOn) {
  install(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Box'
    client: guard-one
    values: [{name: Locked, rules: [set-value, set-value-deny]}]
)");
  bool swapped = false;
  reporter_.on_accept = [&] {
    if (swapped) return;
    swapped = true;
    install(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Elsewhere'
    client: other-first
    rules: [create-key]
  - key: 'HKLM\SOFTWARE\Box'
    client: guard-two
    values: [{name: Locked, rules: [set-value, set-value-deny]}]
)");
  };
  const std::uint64_t before_swap = engine_.current_policy().generation();
  const Applied a = run(set_value(kBox, u"Locked"));
  ASSERT_TRUE(swapped);
  ASSERT_NE(engine_.current_policy().generation(), before_swap);
  EXPECT_TRUE(decided(a, Verdict::kDeny, Reason::kDenyRule));
  ASSERT_EQ(reporter_.records.size(), 1u);
  ASSERT_EQ(reporter_.records[0].hashes.size(), 1u);
  const ClientHash one = client_hash("guard-one");
  EXPECT_EQ(std::memcmp(reporter_.records[0].hashes[0].data(), one.bytes, 16), 0)
      << "the record names a client of the policy swapped in after the decision";
  // The next denial is decided on the new policy, and named from it.
  run(set_value(kBox, u"Locked"));
  ASSERT_EQ(reporter_.records.size(), 2u);
  const ClientHash two = client_hash("guard-two");
  ASSERT_EQ(reporter_.records[1].hashes.size(), 1u);
  EXPECT_EQ(std::memcmp(reporter_.records[1].hashes[0].data(), two.bytes, 16), 0);
}

}  // namespace
}  // namespace hivewarden::host
