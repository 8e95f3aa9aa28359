// The one report step (SPEC §4.6-4.7, §7): what draft_denial and draft_completion put in a record.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "../support/test_policy.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/report.hpp"

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

// The driver pairs pre and post through Windows' CallContext: its engine keeps no contexts, and
// the outcome it carries must be the one the engine's own context would have given.
TEST_F(Report, AHostCarriedOutcomeEqualsTheEnginesOwnContext) {
  OperationRequest r = request(Operation::kRenameKey, u"HKLM\\SOFTWARE\\Gux");
  const Decision kept = engine_.decide(r, *scratch_);
  ASSERT_TRUE(kept.context_kept);
  const PostOutcome from_engine = engine_.complete(r.thread_id, r.op, true);
  ASSERT_TRUE(from_engine.found);

  EngineConfig config;
  config.keeps_call_contexts = false;
  Engine carrier(config);
  ASSERT_TRUE(test::install(carrier, policy_->storage.data(), policy_->size));
  const Decision d = carrier.decide(r, *scratch_);
  EXPECT_FALSE(d.context_kept);
  EXPECT_FALSE(d.context_exhausted);
  EXPECT_EQ(carrier.stats().contexts_created, 0u);
  EXPECT_FALSE(carrier.complete(r.thread_id, r.op, true).found);  // nothing waits in the engine
  const PostOutcome carried = pending_outcome(d, scratch_->match, r.op);
  ASSERT_TRUE(carried.found);
  EXPECT_EQ(carried.notify, from_engine.notify);
  EXPECT_EQ(carried.rules, from_engine.rules);
  ASSERT_EQ(carried.hit_count, from_engine.hit_count);
  for (std::uint32_t i = 0; i < carried.hit_count; ++i) {
    EXPECT_EQ(carried.hits[i].client, from_engine.hits[i].client);
    EXPECT_EQ(carried.hits[i].entry, from_engine.hits[i].entry);
  }
  RecordDraft a, b;
  ASSERT_TRUE(draft_completion(r, carried, {}, a));
  ASSERT_TRUE(draft_completion(r, from_engine, {}, b));
  EXPECT_EQ(a.input.hash_count, b.input.hash_count);
  EXPECT_EQ(std::memcmp(a.hashes, b.hashes, sizeof a.hashes), 0);
  // A denial or an unwatched operation carries nothing.
  const Decision denied =
      carrier.decide(request(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded"), *scratch_);
  ASSERT_EQ(denied.verdict, Verdict::kDeny);
  EXPECT_FALSE(pending_outcome(denied, scratch_->match, Operation::kDeleteKey).found);
}

TEST_F(Report, ARecordEncodedEarlyIsNumberedWhenSent) {
  const OperationRequest r = request(Operation::kDeleteKey, u"HKLM\\SOFTWARE\\Guarded");
  const Decision d = engine_.decide(r, *scratch_);
  RecordDraft draft;
  ASSERT_TRUE(draft_denial(r, d, scratch_->match, {}, draft));
  std::string bytes(record_size(draft.input), '\0');
  auto* data = reinterpret_cast<unsigned char*>(bytes.data());
  ASSERT_EQ(encode_record(draft.input, data, bytes.size()), bytes.size());
  set_record_sequence(data, 0x1122334455667788ull);
  RecordView view;
  RecordError error;
  ASSERT_TRUE(decode_record(data, bytes.size(), view, error)) << error.what;
  EXPECT_EQ(view.fixed.sequence, 0x1122334455667788ull);
  EXPECT_EQ(view.fixed.status, 0xC0000022u);
}

}  // namespace
}  // namespace hivewarden
