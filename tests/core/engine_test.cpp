// The engine: call contexts from pre to post, policy swaps under concurrent deciders.
#include "hivewarden/core/engine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <new>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support/decide_text.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/util/utf.hpp"

namespace hivewarden {
namespace {

const char* const kNotifyPolicy = R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Watched'
    client: watcher
    rules: [create-key, delete-key]
    values:
      - name: '*'
        rules: [set-value, set-value-capture]
)";

OperationRequest set_value(std::u16string_view key, std::uint64_t thread) {
  OperationRequest r;
  r.op = Operation::kSetValue;
  canonicalize_operation(key, {}, test::last_keys(), r);  // valid until this thread's next call
  r.value = u"Anything";
  r.process.image = u"C:\\x.exe";
  r.process.pid = 100;
  r.thread_id = thread;
  return r;
}

TEST(Engine, WithoutPolicyEverythingIsAllowed) {
  Engine engine;
  ASSERT_TRUE(engine.ok());
  auto scratch = std::make_unique<DecisionScratch>();
  const Decision d = engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 1), *scratch);
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_FALSE(d.context_kept);
  EXPECT_FALSE(engine.current_policy());
}

TEST(Engine, NotifyKeepsAContextThatTheSuccessfulPostTakes) {
  Engine engine;
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  auto scratch = std::make_unique<DecisionScratch>();
  const Decision d = engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 7), *scratch);
  EXPECT_EQ(d.reason, Reason::kNotify);
  EXPECT_TRUE(d.context_kept);
  EXPECT_TRUE(d.capture_old_value);
  EXPECT_EQ(engine.stats().contexts_outstanding, 1u);

  EXPECT_FALSE(engine.complete(8, Operation::kSetValue, true).found);       // another thread
  EXPECT_FALSE(engine.complete(7, Operation::kDeleteKey, true).found);      // another operation
  PostOutcome post = engine.complete(7, Operation::kSetValue, true);
  ASSERT_TRUE(post.found);
  EXPECT_EQ(post.notify, NotifyMode::kAsync);
  EXPECT_EQ(post.rules, rule::kSetValue | rule::kSetValueCapture);
  ASSERT_EQ(post.hit_count, 1u);
  ASSERT_TRUE(post.policy);
  EXPECT_EQ(utf16_to_utf8(post.policy.view().str(post.policy.view().clients()[post.hits[0].client].name)), "watcher");
  EXPECT_FALSE(engine.complete(7, Operation::kSetValue, true).found);  // taken once
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.contexts_created, 1u);
  EXPECT_EQ(s.contexts_completed, 1u);
  EXPECT_EQ(s.contexts_outstanding, 0u);
}

TEST(Engine, FailedOperationFreesTheContextAndSendsNothing) {
  Engine engine;
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  auto scratch = std::make_unique<DecisionScratch>();
  ASSERT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 3), *scratch).context_kept);
  const PostOutcome post = engine.complete(3, Operation::kSetValue, false);
  EXPECT_TRUE(post.found);
  EXPECT_EQ(post.notify, NotifyMode::kNone);
  EXPECT_EQ(engine.stats().contexts_failed, 1u);
  EXPECT_EQ(engine.stats().contexts_outstanding, 0u);
}

TEST(Engine, PostWithoutPreFindsNothing) {
  Engine engine;
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  EXPECT_FALSE(engine.complete(99, Operation::kSetValue, true).found);
  EXPECT_EQ(engine.stats().contexts_outstanding, 0u);
}

TEST(Engine, ThreadExitFreesItsContexts) {
  Engine engine;
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  auto scratch = std::make_unique<DecisionScratch>();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 5), *scratch).context_kept);
  ASSERT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 6), *scratch).context_kept);
  engine.thread_exited(5);
  EXPECT_EQ(engine.stats().contexts_thread_exit, 40u);
  EXPECT_EQ(engine.stats().contexts_outstanding, 1u);
  EXPECT_TRUE(engine.complete(6, Operation::kSetValue, true).found);
}

TEST(Engine, NestedOperationsOnOneThreadTakeTheNewestFirst) {
  Engine engine;
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  auto scratch = std::make_unique<DecisionScratch>();
  OperationRequest create = set_value(u"HKLM\\SOFTWARE\\Watched", 9);
  create.op = Operation::kCreateKey;
  ASSERT_TRUE(engine.decide(create, *scratch).context_kept);
  ASSERT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 9), *scratch).context_kept);
  EXPECT_TRUE(engine.complete(9, Operation::kSetValue, true).found);
  EXPECT_TRUE(engine.complete(9, Operation::kCreateKey, true).found);
  EXPECT_EQ(engine.stats().contexts_outstanding, 0u);
}

TEST(Engine, ExhaustedPoolIsCountedAndTheDecisionStands) {
  EngineConfig config;
  config.context_capacity = 4;
  Engine engine(config);
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  auto scratch = std::make_unique<DecisionScratch>();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 100 + i), *scratch).context_kept);
  const Decision d = engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 200), *scratch);
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_FALSE(d.context_kept);
  EXPECT_TRUE(d.context_exhausted);
  EXPECT_EQ(engine.stats().contexts_exhausted, 1u);
  EXPECT_TRUE(engine.complete(101, Operation::kSetValue, true).found);
  EXPECT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 201), *scratch).context_kept);  // slot reused
}

TEST(Engine, RejectedPolicyLeavesTheOldOneInForce) {
  Engine engine;
  const policy::Blob good = test::compile_yaml_blob(kNotifyPolicy);
  test::install(engine, good);
  const std::uint64_t generation = engine.current_policy().generation();
  policy::Blob bad = good;
  bad[bad.size() / 2] ^= 0xFF;
  PolicyError error;
  EXPECT_FALSE(engine.install_policy(bad.data(), bad.size(), error));
  EXPECT_NE(std::string(error.what), "");
  EXPECT_EQ(engine.current_policy().generation(), generation);
  EXPECT_EQ(engine.stats().policy_rejected, 1u);
  auto scratch = std::make_unique<DecisionScratch>();
  EXPECT_EQ(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 1), *scratch).reason, Reason::kNotify);
  engine.complete(1, Operation::kSetValue, true);
}

TEST(Engine, ContextKeepsItsPolicyAliveAcrossASwap) {
  Engine engine;
  test::install(engine, test::compile_yaml_blob(kNotifyPolicy));
  auto scratch = std::make_unique<DecisionScratch>();
  ASSERT_TRUE(engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 11), *scratch).context_kept);
  const std::uint64_t old_generation = engine.current_policy().generation();
  test::install(engine, test::compile_yaml_blob("version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    "
                                                "client: other\n    rules: [create-key]\n"));
  const PostOutcome post = engine.complete(11, Operation::kSetValue, true);
  ASSERT_TRUE(post.found);
  EXPECT_EQ(post.policy.generation(), old_generation);
  // The old policy is still readable through the outcome's reference.
  EXPECT_EQ(utf16_to_utf8(post.policy.view().str(post.policy.view().clients()[post.hits[0].client].name)), "watcher");
}

// Two deciding threads and a swapping thread: every decision comes from one whole policy, and
// every context is taken or freed.
TEST(Engine, ConcurrentDecisionsDuringSwapsSeeWholePolicies) {
  const policy::Blob deny_a = test::compile_yaml_blob(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Target'
    client: policy-a
    values: [{name: '*', rules: [set-value, set-value-deny]}]
)");
  const policy::Blob notify_b = test::compile_yaml_blob(R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Target'
    client: policy-b
    values: [{name: '*', rules: [set-value]}]
  - key: 'HKLM\SOFTWARE\Other'
    client: policy-b
    rules: [create-key]
)");
  Engine engine;
  test::install(engine, deny_a);
  // The swapper waits for a batch of decisions between swaps, and the deciders run until the
  // swapper is done: both policies are in force many times while decisions are being made,
  // however the threads are scheduled.
  constexpr int kSwaps = 200;
  constexpr std::uint64_t kDecisionsBetweenSwaps = 200;
  constexpr std::uint64_t kMinOpsPerThread = 50000;
  std::atomic<bool> swapper_done{false};
  std::atomic<std::uint64_t> decisions{0}, mixed{0}, seen_a{0}, seen_b{0};

  auto decider = [&](std::uint64_t thread) {
    auto scratch = std::make_unique<DecisionScratch>();
    for (std::uint64_t i = 0; i < kMinOpsPerThread || !swapper_done.load(); ++i) {
      const Decision d = engine.decide(set_value(u"HKLM\\SOFTWARE\\Target", thread), *scratch);
      const bool is_a = d.verdict == Verdict::kDeny && d.reason == Reason::kDenyRule && d.rules == (rule::kSetValue | rule::kSetValueDeny);
      const bool is_b = d.verdict == Verdict::kAllow && d.reason == Reason::kNotify && d.rules == rule::kSetValue && d.context_kept;
      if (is_a) ++seen_a;
      if (is_b) ++seen_b;
      if (!is_a && !is_b) ++mixed;
      if (d.context_kept) engine.complete(thread, Operation::kSetValue, (i % 3) != 0);
      ++decisions;
    }
    engine.thread_exited(thread);
  };
  std::thread swapper([&] {
    for (int i = 0; i < kSwaps; ++i) {
      const std::uint64_t target = decisions.load() + kDecisionsBetweenSwaps;
      while (decisions.load() < target) std::this_thread::yield();
      PolicyError error;
      const policy::Blob& next = i % 2 == 0 ? notify_b : deny_a;
      if (!engine.install_policy(next.data(), next.size(), error)) ++mixed;
    }
    swapper_done = true;
  });
  std::thread t1(decider, 1), t2(decider, 2);
  t1.join();
  t2.join();
  swapper.join();

  EXPECT_EQ(mixed.load(), 0u);
  EXPECT_EQ(seen_a + seen_b, decisions.load());
  EXPECT_GT(seen_a.load(), kSwaps / 2 * kDecisionsBetweenSwaps / 2);
  EXPECT_GT(seen_b.load(), kSwaps / 2 * kDecisionsBetweenSwaps / 2);
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.policy_swaps, kSwaps + 1u);
  EXPECT_EQ(s.contexts_outstanding, 0u);
  EXPECT_EQ(s.contexts_created, s.contexts_completed + s.contexts_failed + s.contexts_thread_exit);
  EXPECT_EQ(s.contexts_created, seen_b.load());
}

}  // namespace
}  // namespace hivewarden

namespace hivewarden {
namespace {

// SPEC §1: the write-up's bitmasks are exactly the classes of the operation table.
TEST(Operations, NotifyClassMasksMatchTheOperationTable) {
  std::uint64_t pre = 0, post = 0;
  for (const OperationTraits& t : kOperationTraits) {
    if (t.notify_bit == 0) continue;  // query-value: only the legacy callback
    pre |= std::uint64_t{1} << t.pre_class;
    if (t.post_class != kNoPostClass) post |= std::uint64_t{1} << t.post_class;
  }
  // The pre mask leaves out RegNtPreCreateKeyEx, which WdFilter tests on its own.
  EXPECT_EQ(pre & ~(std::uint64_t{1} << notify_class::kPreCreateKeyEx), notify_class::kPreMask);
  EXPECT_EQ(post, notify_class::kPostMask);
  EXPECT_EQ(pre | post, notify_class::kAllHandledMask | (std::uint64_t{1} << notify_class::kPreCreateKeyEx));
  Operation op;
  ASSERT_TRUE(operation_by_pre_class(0x29, op));
  EXPECT_EQ(op, Operation::kRestoreKey);  // the bitmask's 0x29, not the write-up's "PostRestoreKey"
  ASSERT_TRUE(operation_by_post_class(0x2A, op));
  EXPECT_EQ(op, Operation::kRestoreKey);
  EXPECT_FALSE(operation_by_pre_class(0x03, op));
}

// Memory for the engine's fixed parts and for policies comes from an injected allocator; when it
// fails, the engine says so and the policy in force stays.
struct FailingAllocator {
  static int budget;
  static void* allocate(std::size_t size, void*) { return budget-- > 0 ? ::operator new(size, std::nothrow) : nullptr; }
  static void release(void* p, void*) { ::operator delete(p); }
};
int FailingAllocator::budget = 0;

TEST(Engine, AllocationFailureKeepsThePolicyInForce) {
  EngineConfig config;
  config.allocator = {&FailingAllocator::allocate, &FailingAllocator::release, nullptr};
  FailingAllocator::budget = 0;
  {
    Engine starved(config);
    EXPECT_FALSE(starved.ok());
    PolicyError error;
    const policy::Blob blob = test::compile_yaml_blob(kNotifyPolicy);
    EXPECT_FALSE(starved.install_policy(blob.data(), blob.size(), error));
    auto scratch = std::make_unique<DecisionScratch>();
    EXPECT_EQ(starved.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 1), *scratch).verdict, Verdict::kAllow);
  }
  FailingAllocator::budget = 4;  // the engine's parts and one policy
  Engine engine(config);
  ASSERT_TRUE(engine.ok());
  const policy::Blob blob = test::compile_yaml_blob(kNotifyPolicy);
  PolicyError error;
  ASSERT_TRUE(engine.install_policy(blob.data(), blob.size(), error)) << error.what;
  const std::uint64_t generation = engine.current_policy().generation();
  EXPECT_FALSE(engine.install_policy(blob.data(), blob.size(), error));  // no memory for a second
  EXPECT_STREQ(error.what, "out of memory for the policy");
  EXPECT_EQ(engine.current_policy().generation(), generation);
  auto scratch = std::make_unique<DecisionScratch>();
  const Decision d = engine.decide(set_value(u"HKLM\\SOFTWARE\\Watched", 2), *scratch);
  EXPECT_EQ(d.reason, Reason::kNotify);
  engine.complete(2, Operation::kSetValue, true);
}

}  // namespace
}  // namespace hivewarden
