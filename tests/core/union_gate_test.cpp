// SPEC §2/§4.2: the policy-wide rule union gates each operation. An operation whose bits no rule
// of the policy names skips matching entirely. These tests fail when the gate is gone: they look
// at the work the matcher did, and at a policy whose walk would fail closed (match-limit) if it
// ran.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../support/test_policy.hpp"
#include "hivewarden/core/decide.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/operation_request.hpp"

namespace hivewarden {
namespace {

struct Decided {
  Decision decision;
  std::uint64_t match_steps = 0;  // the matcher's work for this decision
};

// Decides on a fresh scratch, so the steps counted are this decision's only.
Decided decide(const test::CompiledPolicy& policy, Operation op, std::u16string_view key,
               std::u16string_view value = {}, std::u16string_view new_name = {}) {
  auto keys = std::make_unique<OperationKeys>();
  auto scratch = std::make_unique<DecisionScratch>();
  OperationRequest r;
  r.op = op;
  r.value = value;
  r.new_name = new_name;
  r.process.image = u"C:\\Users\\x\\evil.exe";
  r.process.pid = 1234;
  EXPECT_EQ(canonicalize_operation(key, {policy.view.control_set(), {}}, *keys, r),
            PathStatus::kOk);
  Decided d;
  d.decision = decide_on(policy.view, r, *scratch);
  d.match_steps = scratch->match.steps;
  return d;
}

TEST(UnionGate, OperationsNoRuleNamesNeverReachTheMatcher) {
  auto policy =
      test::compile_yaml("version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [create-key]\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->view.rule_union(), rule::kCreateKey);
  // The control: an operation the union names walks the tree.
  const Decided create = decide(*policy, Operation::kCreateKey, u"HKLM\\X");
  EXPECT_EQ(create.decision.reason, Reason::kNotify);
  EXPECT_GT(create.match_steps, 0u);
  // Operations whose bits the union lacks: no-match without a single step of matching.
  for (const Operation op : {Operation::kSetValue, Operation::kDeleteValue}) {
    const Decided d = decide(*policy, op, u"HKLM\\X", u"v");
    EXPECT_EQ(d.decision.reason, Reason::kNoMatch) << traits(op).name;
    EXPECT_EQ(d.match_steps, 0u) << traits(op).name << ": the gate did not skip matching";
  }
  const Decided del = decide(*policy, Operation::kDeleteKey, u"HKLM\\X");
  EXPECT_EQ(del.decision.reason, Reason::kNoMatch);
  EXPECT_EQ(del.match_steps, 0u);
}

TEST(UnionGate, ASkippedWalkCannotFailClosed) {
  // One entry whose `**` alternatives overflow the matcher on a deep path (match-limit, denied):
  // delete-key on that path walks and fails closed; set-value, which no rule names, is gated
  // before the walk and allowed. Without the gate set-value would be denied match-limit too.
  std::string key = "HKLM\\SOFTWARE\\Deep";
  for (int i = 0; i < 70; ++i) key += "\\**\\a";
  auto policy = test::compile_yaml("version: 1\nmonitored:\n  - key: '" + key +
                                   "\\Z'\n    rules: [delete-key]\n");
  ASSERT_TRUE(policy);
  std::u16string path = u"HKLM\\SOFTWARE\\Deep";
  for (int i = 0; i < 200; ++i) path += u"\\a";
  path += u"\\Z";
  const Decided walked = decide(*policy, Operation::kDeleteKey, path);
  ASSERT_EQ(walked.decision.reason, Reason::kMatchLimit)
      << "the policy no longer overflows the matcher";
  const Decided gated = decide(*policy, Operation::kSetValue, path, u"v");
  EXPECT_EQ(gated.decision.verdict, Verdict::kAllow);
  EXPECT_EQ(gated.decision.reason, Reason::kNoMatch);
  EXPECT_EQ(gated.match_steps, 0u);
}

TEST(UnionGate, OperationsThatTakeASubtreeAlongPassTheGateOnWhatTheyTake) {
  // Only a value rule: delete-key takes the key's values with it (SPEC §4.3), and rename,
  // restore and replace take everything below; none of them may be gated away.
  auto policy = test::compile_yaml(
      "version: 1\nmonitored:\n  - key: 'HKLM\\SOFTWARE\\P\\C'\n"
      "    values: [{name: Keep, rules: [set-value, set-value-deny]}]\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(decide(*policy, Operation::kDeleteKey, u"HKLM\\SOFTWARE\\P\\C").decision.reason,
            Reason::kSubtreeProtected);
  EXPECT_EQ(decide(*policy, Operation::kRenameKey, u"HKLM\\SOFTWARE\\P", {}, u"Q").decision.reason,
            Reason::kSubtreeProtected);
  EXPECT_EQ(decide(*policy, Operation::kReplaceKey, u"HKLM\\SOFTWARE\\P").decision.reason,
            Reason::kSubtreeProtected);
  EXPECT_EQ(decide(*policy, Operation::kRestoreKey, u"HKLM\\SOFTWARE\\P").decision.reason,
            Reason::kSubtreeProtected);
  // create-key takes nothing along: gated.
  const Decided create = decide(*policy, Operation::kCreateKey, u"HKLM\\SOFTWARE\\P\\C");
  EXPECT_EQ(create.decision.reason, Reason::kNoMatch);
  EXPECT_EQ(create.match_steps, 0u);
}

}  // namespace
}  // namespace hivewarden
