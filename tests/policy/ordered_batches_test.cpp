// run_ordered_batches (src/policy/ordered_batches.hpp): batches prepared on any thread are
// consumed in order on the caller's; a failure on either side reaches the caller, with no hang.
#include "ordered_batches.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hivewarden::policy {
namespace {

struct Slot {
  std::size_t batch = 0;
  std::vector<std::size_t> items;
};

void prepare(std::size_t k, Slot& slot) {
  if (k % 7 == 3) std::this_thread::sleep_for(std::chrono::microseconds(300));  // out of step
  slot.batch = k;
  slot.items.assign(k % 5 + 1, k);
}

TEST(OrderedBatches, ConsumedInOrderWithAnyNumberOfThreads) {
  for (const unsigned threads : {1u, 2u, 3u, 8u}) {
    std::vector<std::size_t> seen;
    run_ordered_batches<Slot>(200, threads, prepare, [&](std::size_t k, const Slot& slot) {
      EXPECT_EQ(slot.batch, k);
      EXPECT_EQ(slot.items, std::vector<std::size_t>(k % 5 + 1, k));
      seen.push_back(k);
    });
    ASSERT_EQ(seen.size(), 200u) << threads;
    for (std::size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], k) << threads;
  }
}

TEST(OrderedBatches, NoBatchesAndOneBatch) {
  for (const unsigned threads : {1u, 2u}) {
    std::size_t consumed = 0;
    run_ordered_batches<Slot>(0, threads, prepare, [&](std::size_t, const Slot&) { ++consumed; });
    EXPECT_EQ(consumed, 0u);
    run_ordered_batches<Slot>(1, threads, prepare, [&](std::size_t, const Slot&) { ++consumed; });
    EXPECT_EQ(consumed, 1u);
  }
}

TEST(OrderedBatches, AFailureWhilePreparingReachesTheCaller) {
  for (const unsigned threads : {1u, 2u, 4u}) {
    std::size_t consumed = 0;
    EXPECT_THROW(run_ordered_batches<Slot>(
                     100, threads,
                     [](std::size_t k, Slot& slot) {
                       if (k == 37) throw std::runtime_error("prepare");
                       prepare(k, slot);
                     },
                     [&](std::size_t, const Slot&) { ++consumed; }),
                 std::runtime_error);
    EXPECT_LE(consumed, 37u) << "no batch after the failed one is consumed";
  }
}

TEST(OrderedBatches, AFailureWhileConsumingStopsTheHelpers) {
  for (const unsigned threads : {1u, 2u, 4u}) {
    EXPECT_THROW(run_ordered_batches<Slot>(100, threads, prepare,
                                           [](std::size_t k, const Slot&) {
                                             if (k == 5) throw std::runtime_error("consume");
                                           }),
                 std::runtime_error);
  }
}

}  // namespace
}  // namespace hivewarden::policy
