// What the driver does with a callback, end to end on Linux: translate it (translate_pre),
// decide it with the engine, and draft its record with the core's one report step; an allowed
// operation's record is drafted in the pre-operation and carried to the post in CallContext. The
// driver used to build its own records: denials without client hashes and completions without
// names. These tests pin what its records carry now.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "../support/fake_kernel.hpp"
#include "../support/test_policy.hpp"
#include "../support/test_record.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/notification.hpp"
#include "hivewarden/core/report.hpp"
#include "hivewarden/win/translate.hpp"

namespace hivewarden::win {
namespace {

const char* const kPolicy = R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Guarded'
    client: guard
    rules: [delete-key, delete-deny]
  - key: 'HKLM\SOFTWARE\*'
    client: guard
    rules: [delete-key, delete-deny]
  - key: 'HKLM\SOFTWARE\**'
    client: audit
    rules: [delete-key]
  - key: 'HKLM\SOFTWARE\Watched'
    client: watch
    values:
      - name: '*'
        rules: [set-value]
  - key: 'HKLM\SOFTWARE\Watched\**'
    client: watch
    rules: [rename-key]
)";

using test::field_text;

class DriverReport : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = test::compile_yaml(kPolicy);
    ASSERT_TRUE(policy_);
    ASSERT_TRUE(test::install(engine_, *policy_));
    kernel_.names[&guarded_] = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded";
    kernel_.names[&watched_] = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched";
  }
  // Encodes and decodes a draft, as the driver's queue and the service would.
  RecordView sent(RecordDraft& draft) {
    draft.input.sequence = 1;
    bytes_.assign(record_size(draft.input), 0);
    EXPECT_EQ(encode_record(draft.input, bytes_.data(), bytes_.size()), bytes_.size());
    RecordView view;
    RecordError error;
    EXPECT_TRUE(decode_record(bytes_.data(), bytes_.size(), view, error)) << error.what;
    return view;
  }
  std::unique_ptr<test::CompiledPolicy> policy_;
  Engine engine_;
  test::FakeKernel kernel_;
  int guarded_ = 0, watched_ = 0;
  std::unique_ptr<TranslateScratch> translate_ = std::make_unique<TranslateScratch>();
  std::unique_ptr<DecisionScratch> decision_ = std::make_unique<DecisionScratch>();
  std::unique_ptr<RecordDraft> draft_ = std::make_unique<RecordDraft>();
  std::vector<unsigned char> bytes_;
};

TEST_F(DriverReport, ADenialNamesTheKeyAndEachClientOnce) {
  RegDeleteKeyInformation del{&guarded_, nullptr, nullptr, nullptr};
  OperationRequest request;
  ASSERT_EQ(translate_pre(notify_class::kPreDeleteKey, &del, kernel_.names_only(),
                          CanonicalOptions{}, *translate_, request),
            TranslateStatus::kOk);
  request.process.pid = 1234;
  request.process.image = u"C:\\evil.exe";
  request.thread_id = 9;
  const Decision decision = engine_.decide(request, *decision_);
  ASSERT_EQ(decision.verdict, Verdict::kDeny);
  ASSERT_EQ(decision_->match.hit_count, 3u);  // guard twice, audit once
  ASSERT_TRUE(draft_denial(request, decision, decision_->match, ValueBefore{}, *draft_));
  const RecordView view = sent(*draft_);
  EXPECT_EQ(view.fixed.operation, notify_class::kPreDeleteKey);
  EXPECT_EQ(view.fixed.status, 0xC0000022u);
  EXPECT_NE(view.fixed.flags & record_flag::kDenied, 0u);
  EXPECT_EQ(view.fixed.process_id, 1234u);
  EXPECT_EQ(view.fixed.thread_id, 9u);
  EXPECT_EQ(field_text(view, kFieldKeyName), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded");
  EXPECT_EQ(view.fixed.hash_count, 2u);  // guard and audit, each once
  EXPECT_EQ(view.bytes(kFieldHashes).size(), 32u);
}

TEST_F(DriverReport, ACompletedOperationIsNamedAndCarriesItsClientsAndData) {
  EngineConfig config;
  config.keeps_call_contexts = false;  // as the driver runs it
  Engine engine(config);
  ASSERT_TRUE(test::install(engine, *policy_));
  std::u16string value = u"Run";
  UnicodeString name{6, 6, value.data()};
  std::uint32_t data = 7;
  RegSetValueKeyInformation set{&watched_, &name, 0, 4, &data, 4, nullptr, nullptr, nullptr};
  OperationRequest request;
  ASSERT_EQ(translate_pre(notify_class::kPreSetValueKey, &set, kernel_.names_only(),
                          CanonicalOptions{}, *translate_, request),
            TranslateStatus::kOk);
  request.process.pid = 1234;
  request.thread_id = 9;
  const Decision decision = engine.decide(request, *decision_);
  ASSERT_EQ(decision.verdict, Verdict::kAllow);
  ASSERT_FALSE(decision.context_kept);
  // Drafted in the pre, where the names and the new data are at hand; the post only numbers it.
  ASSERT_TRUE(draft_completion(request, pending_outcome(decision, decision_->match, request.op),
                               ValueBefore{}, *draft_));
  void** field = call_context_field(notify_class::kPreSetValueKey, &set);
  ASSERT_NE(field, nullptr);
  *field = draft_.get();
  RegPostOperationInformation info{&watched_, 0, &set, 0, set.CallContext, nullptr, nullptr};
  PostOperation post;
  ASSERT_EQ(translate_post(notify_class::kPostSetValueKey, &info, post), TranslateStatus::kOk);
  ASSERT_TRUE(post.success);
  ASSERT_EQ(post.call_context, draft_.get());
  const RecordView view = sent(*static_cast<RecordDraft*>(post.call_context));
  EXPECT_EQ(view.fixed.operation, notify_class::kPreSetValueKey);
  EXPECT_EQ(view.fixed.status, 0u);
  EXPECT_EQ(view.fixed.flags & record_flag::kDenied, 0u);
  EXPECT_NE(view.fixed.flags & record_flag::kHasDataAfter, 0u);
  EXPECT_EQ(view.bytes(kFieldDataAfter), std::string_view("\x07\0\0\0", 4));
  EXPECT_EQ(field_text(view, kFieldKeyName), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched");
  EXPECT_EQ(field_text(view, kFieldValueName), u"Run");
  EXPECT_EQ(view.fixed.hash_count, 1u);
}

// Drafted in the pre-operation, a rename's record names the key as it was and its target (the
// post-operation's key object already answers to the new name; drafting there lost the old one).
TEST_F(DriverReport, ACompletedRenameNamesTheKeyAndItsTarget) {
  EngineConfig config;
  config.keeps_call_contexts = false;
  Engine engine(config);
  ASSERT_TRUE(test::install(engine, *policy_));
  int child = 0;
  kernel_.names[&child] = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched\\Old";
  std::u16string target = u"New";
  UnicodeString new_name{6, 6, target.data()};
  RegRenameKeyInformation ren{&child, &new_name, nullptr, nullptr, nullptr};
  OperationRequest request;
  ASSERT_EQ(translate_pre(notify_class::kPreRenameKey, &ren, kernel_.names_only(),
                          CanonicalOptions{}, *translate_, request),
            TranslateStatus::kOk);
  const Decision decision = engine.decide(request, *decision_);
  ASSERT_EQ(decision.verdict, Verdict::kAllow);
  ASSERT_NE(decision.notify, NotifyMode::kNone);
  ASSERT_TRUE(draft_completion(request, pending_outcome(decision, decision_->match, request.op),
                               ValueBefore{}, *draft_));
  const RecordView view = sent(*draft_);
  EXPECT_EQ(field_text(view, kFieldKeyName), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched\\Old");
  EXPECT_EQ(field_text(view, kFieldNewKeyName), u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched\\New");
}

}  // namespace
}  // namespace hivewarden::win
