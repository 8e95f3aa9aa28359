// The one report step (SPEC §4.6-4.7, §7): what draft_denial and draft_completion put in a record.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/report.hpp"
#include "../support/test_policy.hpp"

namespace hivewarden {
namespace {

constexpr const char* kPolicy = R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Guarded'
    client: first
    rules: [delete-key, delete-deny, rename-key, rename-key-deny]
  - key: 'HKLM\SOFTWARE\Gu*'
    client: first
    rules: [delete-key, rename-key]
  - key: 'HKLM\SOFTWARE\*'
    client: second
    rules: [delete-key, rename-key]
  - key: 'HKLM\SOFTWARE\Watched'
    client: watcher
    values:
      - name: Run
        rules: [set-value, set-value-capture]
)";

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = test::compile_yaml(kPolicy);
    ASSERT_TRUE(policy_);
    ASSERT_TRUE(test::install(engine_, policy_->storage.data(), policy_->size));
  }
  OperationRequest request(Operation op, std::u16string_view key) {
    OperationRequest r;
    r.op = op;
    r.process.image = u"C:\\x.exe";
    r.process.pid = 77;
    r.thread_id = 5;
    r.new_name = u"Moved";
    EXPECT_EQ(canonicalize_operation(key, {1, {}}, *keys_, r), PathStatus::kOk);
    return r;
  }
  std::unique_ptr<test::CompiledPolicy> policy_;
  Engine engine_;
  std::unique_ptr<OperationKeys> keys_ = std::make_unique<OperationKeys>();
  std::unique_ptr<DecisionScratch> scratch_ = std::make_unique<DecisionScratch>();
};

TEST_F(Report, ADenialNamesEachClientOnceFromItsOwnPolicy) {
  const OperationRequest r = request(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Guarded");
  const Decision d = engine_.decide(r, *scratch_);
  ASSERT_EQ(d.verdict, Verdict::kDeny);
  ASSERT_GE(scratch_->match.hit_count,
            3u);  // two entries of `first` (two patterns), one of `second`
  RecordDraft draft;
  ASSERT_TRUE(draft_denial(r, d, scratch_->match, {}, draft));
  EXPECT_EQ(draft.input.hash_count, 2u);  // `first` once, `second` once
  EXPECT_EQ(draft.input.status, 0xC0000022u);
  EXPECT_EQ(draft.input.flags & record_flag::kDenied, record_flag::kDenied);
  EXPECT_EQ(draft.input.key_name, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded");
  EXPECT_EQ(draft.input.new_key_name, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Moved");
  EXPECT_EQ(draft.input.process_id, 77u);
  EXPECT_EQ(draft.input.thread_id, 5u);
}

TEST_F(Report, ACopiedDraftPointsAtItsOwnHashes) {
  const OperationRequest r = request(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded");
  const Decision d = engine_.decide(r, *scratch_);
  auto original = std::make_unique<RecordDraft>();
  ASSERT_TRUE(draft_denial(r, d, scratch_->match, {}, *original));
  ASSERT_GT(original->input.hash_count, 0u);
  const RecordDraft copy = *original;
  std::memset(original->hashes, 0xAB, sizeof original->hashes);
  original.reset();  // the copy must not read the original's array
  EXPECT_EQ(copy.input.hashes, copy.hashes);
  EXPECT_NE(copy.hashes[0], 0xAB);
}

TEST_F(Report, ACompletionCarriesTheValueBeforeAndAfter) {
  OperationRequest r = request(Operation::kSetValue, u"HKLM\\SOFTWARE\\Watched");
  r.value = u"Run";
  r.has_data = true;
  r.type = 1;
  r.data = std::string_view("n\0e\0w\0\0\0", 8);
  const Decision d = engine_.decide(r, *scratch_);
  ASSERT_TRUE(d.context_kept);
  ASSERT_TRUE(d.capture_old_value);
  RecordDraft draft;
  EXPECT_FALSE(draft_denial(r, d, scratch_->match, {}, draft));  // allowed: no denial record
  const PostOutcome post = engine_.complete(r.thread_id, r.op, true);
  ASSERT_TRUE(draft_completion(r, post, {true, 1, std::string_view("o\0l\0d\0\0\0", 8)}, draft));
  EXPECT_EQ(draft.input.status, 0u);
  EXPECT_EQ(draft.input.flags & (record_flag::kHasDataBefore | record_flag::kHasDataAfter),
            record_flag::kHasDataBefore | record_flag::kHasDataAfter);
  EXPECT_EQ(draft.input.data_after, r.data);
  EXPECT_EQ(draft.input.value_size_before, 8u);
  EXPECT_EQ(draft.input.value_name, u"Run");
  EXPECT_EQ(draft.input.hash_count, 1u);
}

TEST_F(Report, AFailedOperationSendsNothing) {
  OperationRequest r = request(Operation::kSetValue, u"HKLM\\SOFTWARE\\Watched");
  r.value = u"Run";
  ASSERT_TRUE(engine_.decide(r, *scratch_).context_kept);
  const PostOutcome post = engine_.complete(r.thread_id, r.op, false);
  RecordDraft draft;
  EXPECT_FALSE(draft_completion(r, post, {}, draft));
}

}  // namespace
}  // namespace hivewarden
