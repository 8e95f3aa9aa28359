#include "hivewarden/host/callback_chain.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "hivewarden/host/apply.hpp"
#include "host_operation.hpp"

namespace hivewarden::host {
namespace {

using test::set_value;

TEST(CallbackChain, PreByAltitudeDownPostBackUp) {
  Registry r;
  CallbackChain chain;
  std::vector<std::string> calls;
  auto recorder = [&](std::string name) {
    return [&calls, name](std::uint32_t cls, OperationCall&) {
      calls.push_back(name + (cls == notify_class::kPreSetValueKey ? ":pre" : ":post"));
      return Status::kSuccess;
    };
  };
  chain.add(100, recorder("low"));
  chain.add(300, recorder("high"));
  chain.add(200, recorder("mid"));
  EXPECT_EQ(apply(r, chain, set_value(u"\\REGISTRY\\MACHINE", u"V").request()).status,
            Status::kSuccess);
  EXPECT_EQ(calls, (std::vector<std::string>{"high:pre", "mid:pre", "low:pre", "low:post",
                                             "mid:post", "high:post"}));
}

TEST(CallbackChain, AFailingPreBlocksTheOperationAndPostSeesIt) {
  Registry r;
  CallbackChain chain;
  std::vector<std::string> calls;
  Status seen = Status::kSuccess;
  chain.add(300, [&](std::uint32_t cls, OperationCall& call) {
    if (cls == notify_class::kPostSetValueKey) seen = call.status;
    calls.push_back("high");
    return Status::kSuccess;
  });
  chain.add(200, [&](std::uint32_t cls, OperationCall&) {
    calls.push_back("blocker");
    return cls == notify_class::kPreSetValueKey ? Status::kAccessDenied : Status::kSuccess;
  });
  chain.add(100, [&](std::uint32_t, OperationCall&) {
    calls.push_back("low");  // never called: below the blocker
    return Status::kSuccess;
  });
  const Applied applied = apply(r, chain, set_value(u"\\REGISTRY\\MACHINE", u"V").request());
  EXPECT_EQ(applied.status, Status::kAccessDenied);
  EXPECT_FALSE(applied.decision.has_value());  // no callback decided
  Value v;
  EXPECT_EQ(r.query_value(u"\\REGISTRY\\MACHINE", u"V", v),
            Status::kObjectNameNotFound);  // not changed
  EXPECT_EQ(seen, Status::kAccessDenied);
  EXPECT_EQ(calls, (std::vector<std::string>{"high", "blocker", "blocker", "high"}));
}

TEST(CallbackChain, OperationsSeeResolvedLinksAndOldValues) {
  Registry r;
  bool c;
  r.create_key(u"\\REGISTRY\\MACHINE\\Real", c);
  r.set_value(u"\\REGISTRY\\MACHINE\\Real", u"V", 4, std::string("\x07\0\0\0", 4));
  r.create_key(u"\\REGISTRY\\MACHINE\\Alias", c, true);
  const std::u16string target = u"\\REGISTRY\\MACHINE\\Real";
  r.set_value(u"\\REGISTRY\\MACHINE\\Alias", u"SymbolicLinkValue", 6,
              std::string(reinterpret_cast<const char*>(target.data()), target.size() * 2));
  CallbackChain chain;
  std::u16string seen_key;
  std::string old;
  bool existed = false;
  chain.add(1, [&](std::uint32_t cls, OperationCall& call) {
    if (cls == notify_class::kPreSetValueKey) {
      seen_key = std::u16string(call.request.key->text());
      old = call.old_value ? call.old_value->data : "";
      existed = call.request.key_exists;
    }
    return Status::kSuccess;
  });
  EXPECT_EQ(apply(r, chain, set_value(u"\\REGISTRY\\MACHINE\\Alias", u"V").request()).status,
            Status::kSuccess);
  EXPECT_EQ(seen_key, u"\\REGISTRY\\MACHINE\\Real");
  EXPECT_EQ(old, std::string("\x07\0\0\0", 4));
  EXPECT_TRUE(existed);
}

TEST(CallbackChain, ManyThreadsLoseNoUpdateAndCallbacksComeAndGo) {
  Registry r;
  bool c;
  r.create_key(u"\\REGISTRY\\MACHINE\\T", c);
  CallbackChain chain;
  std::atomic<std::uint64_t> pre_calls{0};
  chain.add(5, [&](std::uint32_t cls, OperationCall&) {
    if (cls == notify_class::kPreSetValueKey) ++pre_calls;
    return Status::kSuccess;
  });
  constexpr int kOps = 20000;
  auto worker = [&](int t) {
    std::vector<test::TestOperation> ops;  // 26 values per thread
    for (int i = 0; i < 26; ++i) {
      ops.push_back(set_value(u"\\REGISTRY\\MACHINE\\T",
                              u"V" + std::u16string(1, static_cast<char16_t>(u'a' + t)) +
                                  std::u16string(1, static_cast<char16_t>(u'A' + i)),
                              static_cast<std::uint64_t>(t)));
    }
    for (int i = 0; i < kOps; ++i)
      ASSERT_EQ(apply(r, chain, ops[i % 26].request()).status, Status::kSuccess);
  };
  std::thread churn([&] {
    for (int i = 0; i < 200; ++i)
      chain.remove(chain.add(1, [](std::uint32_t, OperationCall&) { return Status::kSuccess; }));
  });
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  churn.join();
  EXPECT_EQ(pre_calls.load(), 2u * kOps);
  EXPECT_EQ(r.value_count(), 2u * 26u);
}

}  // namespace
}  // namespace hivewarden::host
