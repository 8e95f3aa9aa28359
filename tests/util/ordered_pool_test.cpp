// OrderedPool: results come back in the order of submission whatever order the tasks finish in,
// no more tasks are held than its bound, and a task's exception reaches the taker.
#include "hivewarden/util/ordered_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace hivewarden::util {
namespace {

TEST(OrderedPool, ResultsComeBackInTheOrderOfSubmission) {
  OrderedPool<int> pool(4, 8);
  std::vector<int> got;
  for (int i = 0; i < 200; ++i) {
    while (pool.full()) got.push_back(pool.take());
    pool.submit([i] {  // the earlier tasks take longer, so they finish later
      std::this_thread::sleep_for(std::chrono::microseconds((200 - i) % 7 * 100));
      return i;
    });
  }
  while (!pool.empty()) got.push_back(pool.take());
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

TEST(OrderedPool, HoldsNoMoreThanItsBound) {
  int alive = 0, most = 0;  // tasks submitted and not yet taken
  OrderedPool<int> pool(3, 5);
  for (int i = 0; i < 50; ++i) {
    while (pool.full()) {
      pool.take();
      --alive;
    }
    ++alive;
    most = std::max(most, alive);
    pool.submit([i] { return i; });
  }
  EXPECT_EQ(most, 5);
  EXPECT_TRUE(pool.full());
  while (!pool.empty()) pool.take();
}

TEST(OrderedPool, ATasksExceptionReachesTheTaker) {
  OrderedPool<int> pool(2, 4);
  pool.submit([] { return 1; });
  pool.submit([]() -> int { throw std::runtime_error("broken"); });
  pool.submit([] { return 3; });
  EXPECT_EQ(pool.take(), 1);
  EXPECT_THROW(pool.take(), std::runtime_error);
  EXPECT_EQ(pool.take(), 3);
  EXPECT_TRUE(pool.empty());
}

TEST(OrderedPool, LeavingWithTasksInFlightWaitsForTheRunningOnes) {
  std::atomic<int> finished{0};
  {
    OrderedPool<int> pool(2, 16);
    for (int i = 0; i < 16; ++i)
      pool.submit([&finished] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return ++finished;
      });
  }  // no take: the destructor must neither hang nor leave a thread touching `finished`
  EXPECT_LE(finished.load(), 16);
}

}  // namespace
}  // namespace hivewarden::util
