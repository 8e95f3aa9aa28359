// Issue 14: a decision needs kilobytes of scratch whatever the policy (the driver keeps one per
// registry-call slot). These print what each piece costs, so a regression shows in the test log,
// and hold the decision's scratch to kMaxDecisionScratchBytes (decision.hpp also static_asserts
// it).
#include <gtest/gtest.h>

#include <cstdio>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/core/report.hpp"
#include "hivewarden/win/translate.hpp"

namespace hivewarden {
namespace {

TEST(ScratchSize, DecisionScratchIsAtMostEightKilobytes) {
  std::printf("sizeof(DecisionScratch) = %zu\n", sizeof(DecisionScratch));
  std::printf("sizeof(MatchScratch)    = %zu (states 2 x %zu, index %zu, hits %zu, misses %zu)\n",
              sizeof(MatchScratch), sizeof(MatchScratch::current),
              sizeof(MatchScratch::state_index), sizeof(MatchScratch::hits),
              sizeof(MatchScratch::condition_misses));
  std::printf("sizeof(KeyPath)         = %zu\n", sizeof(KeyPath));
  std::printf("sizeof(OperationKeys)   = %zu\n", sizeof(OperationKeys));
  // The Windows driver's slot holds the decision's and the translation's scratch and the draft.
  std::printf("sizeof(win::TranslateScratch) = %zu, sizeof(RecordDraft) = %zu\n",
              sizeof(win::TranslateScratch), sizeof(RecordDraft));
  EXPECT_LE(sizeof(DecisionScratch), 8192u);
  EXPECT_LE(sizeof(DecisionScratch), kMaxDecisionScratchBytes);
}

// A key path keeps its text as given and no folded copy (compares fold as they go): the text of
// the longest name (32,767 units) and 514 components, nothing more.
TEST(ScratchSize, KeyPathKeepsNoFoldedCopy) {
  EXPECT_LE(sizeof(KeyPath), sizeof(char16_t) * (kMaxPathUnits + 1) +
                                 sizeof(PathComponent) * (kMaxPathDepth + 2) + 64);
}

}  // namespace
}  // namespace hivewarden
