// The engine as a callback in the host: denials block the operation, watched operations are
// reported after they succeed, with the value before and after, and every context is freed.
#include "hivewarden/host/engine_filter.hpp"
#include "hivewarden/consumer/socket_consumer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "../support/eventually.hpp"
#include "../support/files.hpp"
#include "../support/test_policy.hpp"
#include "hivewarden/consumer/record_json.hpp"
#include "hivewarden/host/apply.hpp"
#include "hivewarden/producer/notifier.hpp"
#include "host_operation.hpp"

namespace hivewarden::host {
namespace {

using namespace std::chrono_literals;

const char* const kPolicy = R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Guarded'
    client: guard
    values: [{name: Locked, rules: [set-value, set-value-deny]}]
  - key: 'HKLM\SOFTWARE\Watched'
    client: watch
    values: [{name: '*', rules: [set-value, set-value-capture]}]
)";

// The engine as a filter of a callback chain, at its altitude.
struct FilteredChain {
  FilteredChain(Engine& engine, Reporter* reporter) : filter(engine, reporter) {
    chain.add(328010, filter.callback());
  }
  EngineFilter filter;
  CallbackChain chain;
};

class EngineFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    blob_ = test::compile_yaml_blob(kPolicy, "t.yaml");
    ASSERT_FALSE(blob_.empty());
    ASSERT_TRUE(test::install(engine_, blob_));
    bool c;
    for (const char16_t* k :
         {u"\\REGISTRY\\MACHINE\\SOFTWARE", u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded",
          u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched"}) {
      registry_.create_key(k, c);
    }
    registry_.set_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched", u"Run", 4,
                        std::string("\x00\0\0\0", 4));
  }
  // Applies a REG_DWORD 1 set-value.
  Applied set(std::u16string key, std::u16string value, const CallbackChain& chain,
              std::uint64_t thread = 1) {
    const auto op = test::set_value(std::move(key), std::move(value), thread);
    return apply(registry_, chain, op.request());
  }
  policy::Blob blob_;
  Engine engine_;
  Registry registry_;
  const test::TempDir dir_{"host"};
};

TEST_F(EngineFilterTest, DenialBlocksAndIsReportedWatchedChangeReportsBeforeAndAfter) {
  std::vector<nlohmann::ordered_json> records;
  std::mutex m;
  const std::string socket = (dir_ / "s").string();
  SocketConsumer consumer(socket, [&](const RecordView& r) {
    std::lock_guard<std::mutex> lock(m);
    records.push_back(record_to_json(r));
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  SocketProducer producer({socket});
  ASSERT_TRUE(test::eventually([&] { return producer.connected(); }, 2500ms));
  Notifier notifier(&producer, 100ms);
  FilteredChain filtered(engine_, &notifier);
  CallbackChain& chain = filtered.chain;

  EXPECT_EQ(set(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded", u"Locked", chain).status,
            Status::kAccessDenied);
  Value v;
  EXPECT_EQ(registry_.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded", u"Locked", v),
            Status::kObjectNameNotFound);
  EXPECT_EQ(set(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched", u"Run", chain).status, Status::kSuccess);
  EXPECT_EQ(set(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Other", u"X", chain).status,
            Status::kObjectNameNotFound);
  ASSERT_TRUE(producer.flush(2000ms));
  test::eventually(
      [&] {
        std::lock_guard<std::mutex> lock(m);
        return records.size() == 2;
      },
      2000ms);
  std::lock_guard<std::mutex> lock(m);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["denied"], true);
  EXPECT_EQ(records[0]["operation"], "set-value");
  EXPECT_EQ(records[0]["value"], "Locked");
  EXPECT_EQ(records[1]["denied"], false);
  EXPECT_EQ(records[1]["before"]["data"], 0);
  EXPECT_EQ(records[1]["after"]["data"], 1);
  EXPECT_EQ(engine_.stats().contexts_outstanding, 0u);
}

TEST_F(EngineFilterTest, FailedOperationSendsNothingAndFreesTheContext) {
  FilteredChain filtered(engine_, nullptr);
  CallbackChain& chain = filtered.chain;
  chain.add(100, [](std::uint32_t cls, OperationCall&) {  // a lower filter that refuses
    return cls == notify_class::kPreSetValueKey ? Status::kAccessDenied : Status::kSuccess;
  });
  EXPECT_EQ(set(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched", u"Run", chain).status,
            Status::kAccessDenied);
  const EngineStats s = engine_.stats();
  EXPECT_EQ(s.contexts_created, 1u);
  EXPECT_EQ(s.contexts_failed, 1u);
  EXPECT_EQ(s.contexts_outstanding, 0u);
}

TEST_F(EngineFilterTest, TwoThreadsHundredThousandPairsLeakNoContext) {
  FilteredChain filtered(engine_, nullptr);
  CallbackChain& chain = filtered.chain;
  constexpr int kOps = 100000;
  auto worker = [&](std::uint64_t thread) {
    const auto op = test::set_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched", u"Run", thread);
    for (int i = 0; i < kOps; ++i)
      ASSERT_EQ(apply(registry_, chain, op.request()).status, Status::kSuccess);
  };
  std::thread a(worker, 1), b(worker, 2);
  a.join();
  b.join();
  const EngineStats s = engine_.stats();
  EXPECT_EQ(s.contexts_created, 2u * kOps);
  EXPECT_EQ(s.contexts_completed, 2u * kOps);
  EXPECT_EQ(s.contexts_outstanding, 0u);
}

}  // namespace
}  // namespace hivewarden::host

namespace hivewarden::host {
namespace {

// docs/SECURITY.md "links": a REG_LINK key pointing into a protected key is decided on its target.
TEST_F(EngineFilterTest, SymbolicLinkIntoAProtectedKeyIsDecidedOnItsTarget) {
  FilteredChain filtered(engine_, nullptr);
  CallbackChain& chain = filtered.chain;
  bool c;
  ASSERT_EQ(registry_.create_key(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Alias", c, /*link=*/true),
            Status::kSuccess);
  const std::u16string target = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded";
  // Making the link is allowed (nothing protects Alias) ...
  auto make = test::set_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Alias", u"SymbolicLinkValue");
  make.request().open_link = true;
  make.data(6, std::string(reinterpret_cast<const char*>(target.data()), target.size() * 2));
  ASSERT_EQ(apply(registry_, chain, make.request()).status, Status::kSuccess);
  // ... but going through it reaches Guarded, and is denied there.
  const Applied through = set(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Alias", u"Locked", chain);
  EXPECT_EQ(through.status, Status::kAccessDenied);
  ASSERT_TRUE(through.decision.has_value());
  EXPECT_EQ(through.decision->reason, Reason::kDenyRule);
  Value v;
  EXPECT_EQ(registry_.query_value(target, u"Locked", v), Status::kObjectNameNotFound);
}

}  // namespace
}  // namespace hivewarden::host

namespace hivewarden::host {
namespace {

// SPEC 4.3 through the host (`hivewarden run`): deleting a key whose values are protected is
// refused before the registry deletes anything.
TEST_F(EngineFilterTest, DeleteKeyOfProtectedValuesIsRefusedAndTheValuesStay) {
  FilteredChain filtered(engine_, nullptr);
  CallbackChain& chain = filtered.chain;
  registry_.set_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded", u"Locked", 4,
                      std::string("\x01\0\0\0", 4));
  const auto op = test::operation(Operation::kDeleteKey, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded");
  const Applied denied = apply(registry_, chain, op.request());
  EXPECT_EQ(denied.status, Status::kAccessDenied);
  ASSERT_TRUE(denied.decision.has_value());
  EXPECT_EQ(denied.decision->reason, Reason::kSubtreeProtected);
  Value v;
  EXPECT_EQ(registry_.query_value(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Guarded", u"Locked", v),
            Status::kSuccess);
  // A key whose values are only watched is deleted as before.
  const auto watched =
      test::operation(Operation::kDeleteKey, u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched");
  EXPECT_EQ(apply(registry_, chain, watched.request()).status, Status::kSuccess);
  EXPECT_FALSE(registry_.key_exists(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Watched"));
}

}  // namespace
}  // namespace hivewarden::host
