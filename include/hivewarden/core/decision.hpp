// What the engine is asked (one registry operation) and what it answers (SPEC §4, §9).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/core/policy_ref.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {

// The work classify_process may spend matching image globs (their lengths times the image's, / 32).
inline constexpr std::uint64_t kMaxClassifyWork = 1u << 20;

// A process after the policy's image rules have been applied.
struct ProcessContext {
  ProcessFlags flags = 0;
  ProcessRules rules = 0;
  std::uint32_t matched_process_rule = blob::kNoIndex;  // which policy processes[] entry applied
  // The image globs would take more than kMaxClassifyWork: no rule of the policy applied, and
  // `seces` is assumed (fail closed both ways).
  bool unclassified = false;
};

enum class Verdict : std::uint8_t { kAllow, kDeny };

enum class Reason : std::uint8_t {
  kHardenedKey,
  kTamperProtection,
  kDenyRule,
  kExempt,
  kNotify,
  kNoMatch,
  kKeyExists,
  kLegacyHardening,
  kInvalidName,
  kMatchLimit,  // extension: too many wildcard alternatives alive at once; denied, fail closed
  kSubtreeProtected,  // extension: a rename / restore / replace would move or overwrite a protected
                      // key below, or a delete-key would delete protected values of the key
};

enum class NotifyMode : std::uint8_t { kNone, kAsync, kSync };

// Why an exempt process was let through a deny bit (SPEC §4.5).
enum class Exemption : std::uint8_t { kNone, kAllowAllRegistry, kExcluded, kFriendly, kServiceSid };

struct Decision {
  Verdict verdict = Verdict::kAllow;
  Reason reason = Reason::kNoMatch;
  NotifyMode notify = NotifyMode::kNone;
  Rules rules = 0;          // OR of the matched rules
  Rules subtree_rules = 0;  // rename / restore / replace: the rules of everything the key holds;
                            // delete-key: those of its own value entries (SPEC §4.3)
  Exemption exemption = Exemption::kNone;
  ProcessContext process;
  bool context_kept = false;       // a call context waits for the post-operation
  bool context_exhausted = false;  // it should have, but the pool was full (counted)
  bool capture_old_value = false;  // the host should read the old value for the notification
  // The policy the decision was made on, held while the decision reports (notify not none): its
  // record names that policy's clients even if another policy is swapped in meanwhile.
  PolicyRef policy;
};

const char* verdict_name(Verdict v);
const char* reason_name(Reason r);
const char* notify_name(NotifyMode n);
const char* exemption_name(Exemption e);

// Working memory of one decision, owned by the caller (one per thread or driver slot), so that
// deciding allocates nothing. After decide(), `match.hits` holds the matched pairs. At most
// kMaxDecisionScratchBytes whatever the policy and the names: what bounds it is the live wildcard
// states of a walk (kMaxActiveStates, `match-limit` beyond) and the hit lists; the path's depth
// and the key, value and image name lengths do not (names are folded as they are compared).
struct DecisionScratch {
  MatchScratch match;
};

inline constexpr std::size_t kMaxDecisionScratchBytes = 8192;
static_assert(sizeof(DecisionScratch) <= kMaxDecisionScratchBytes,
              "issue 14: a decision needs kilobytes of scratch, not hundreds");

}  // namespace hivewarden
