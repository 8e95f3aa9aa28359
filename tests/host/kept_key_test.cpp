// The key a resolve finds is kept for the operation that follows it (no second walk of the path),
// but only while the registry's tree is unchanged: a key deleted, renamed, replaced or restored
// away between the resolve and the operation (here by a pre-callback, as another thread could) is
// never used; the operation walks the path again and sees what is there now, as before.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/host/apply.hpp"
#include "host_operation.hpp"

namespace hivewarden::host {
namespace {

constexpr const char16_t* kParent = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Kept";
constexpr const char16_t* kKey = u"\\REGISTRY\\MACHINE\\SOFTWARE\\Kept\\Target";

class KeptKey : public ::testing::Test {
 protected:
  void SetUp() override {
    std::size_t created = 0;
    ASSERT_EQ(registry_.create_key_path(kKey, created), Status::kSuccess);
  }
  // Runs `meddle` in the set-value's pre-operation: after the resolve, before the operation.
  Status set_value_while(const std::function<void()>& meddle, std::u16string_view name = u"V") {
    CallbackChain chain;
    chain.add(100, [&](std::uint32_t cls, OperationCall&) {
      Operation op;
      if (operation_by_pre_class(cls, op)) meddle();
      return Status::kSuccess;
    });
    auto op = test::set_value(kKey, std::u16string(name));
    return apply(registry_, chain, op.request()).status;
  }
  bool has_value(std::u16string_view key, std::u16string_view name) {
    Value v;
    return registry_.query_value(std::u16string(key), name, v) == Status::kSuccess;
  }
  Registry registry_;
};

TEST_F(KeptKey, ADeleteBetweenResolveAndOperationMakesItNotFound) {
  EXPECT_EQ(set_value_while([&] { ASSERT_EQ(registry_.delete_key(kKey), Status::kSuccess); }),
            Status::kObjectNameNotFound);
  EXPECT_FALSE(registry_.key_exists(kKey));
}

TEST_F(KeptKey, AKeyMadeAgainAtThePathIsTheOneWritten) {
  EXPECT_EQ(set_value_while([&] {
              bool created = false;
              ASSERT_EQ(registry_.delete_key(kKey), Status::kSuccess);
              ASSERT_EQ(registry_.create_key(kKey, created), Status::kSuccess);
            }),
            Status::kSuccess);
  EXPECT_TRUE(has_value(kKey, u"V"));
}

TEST_F(KeptKey, ARenamedKeyIsNotWrittenUnderItsNewName) {
  EXPECT_EQ(
      set_value_while([&] { ASSERT_EQ(registry_.rename_key(kKey, u"Moved"), Status::kSuccess); }),
      Status::kObjectNameNotFound);
  EXPECT_FALSE(has_value(std::u16string(kParent) + u"\\Moved", u"V"));
}

TEST_F(KeptKey, ARestoreOfAnAncestorFreesTheKeptKeyAndTheOperationSeesTheRestoredOne) {
  Subtree saved;
  ASSERT_EQ(registry_.save_key(kParent, saved), Status::kSuccess);  // Kept with its Target
  EXPECT_EQ(
      set_value_while([&] { ASSERT_EQ(registry_.restore_key(kParent, *saved), Status::kSuccess); }),
      Status::kSuccess);
  EXPECT_TRUE(has_value(kKey, u"V"));  // the Target the restore made, not the one it freed
}

TEST_F(KeptKey, AnUnrelatedChangeStillWritesTheKeyAndAValueChangeIsSeen) {
  Registry& r = registry_;
  EXPECT_EQ(set_value_while([&] {
              bool created = false;
              ASSERT_EQ(r.create_key(std::u16string(kParent) + u"\\Sibling", created),
                        Status::kSuccess);
            }),
            Status::kSuccess);
  EXPECT_TRUE(has_value(kKey, u"V"));
  // A value set by someone else in between is overwritten by the operation, as before.
  EXPECT_EQ(set_value_while([&] {
              ASSERT_EQ(r.set_value(kKey, u"V", 1, std::string("x\0", 2)), Status::kSuccess);
            }),
            Status::kSuccess);
  Value v;
  ASSERT_EQ(r.query_value(kKey, u"V", v), Status::kSuccess);
  EXPECT_EQ(v.type, 4u);  // the set-value's REG_DWORD, not the meddler's REG_SZ
}

// Another thread deletes and makes the key again while this one sets values on it: every
// set-value either finds the key or not, and none touches a freed one (ASan, TSan).
TEST_F(KeptKey, ConcurrentDeletesNeverLeaveASetValueWithAFreedKey) {
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    bool created = false;
    while (!stop.load()) {
      registry_.delete_key(kKey);
      registry_.create_key(kKey, created);
    }
  });
  CallbackChain empty;
  auto op = test::set_value(kKey, u"V");
  int succeeded = 0, not_found = 0;
  for (int i = 0; i < 20000; ++i) {
    const Status st = apply(registry_, empty, op.request()).status;
    ASSERT_TRUE(st == Status::kSuccess || st == Status::kObjectNameNotFound) << status_name(st);
    (st == Status::kSuccess ? succeeded : not_found)++;
  }
  stop = true;
  churn.join();
  EXPECT_GT(succeeded + not_found, 0);
}

}  // namespace
}  // namespace hivewarden::host
