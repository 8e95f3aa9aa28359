// What the engine is asked (one registry operation) and what it answers (SPEC §4, §9).
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/key_path.hpp"
#include "hivewarden/core/matcher.hpp"
#include "hivewarden/core/operation.hpp"
#include "hivewarden/core/rules.hpp"

namespace hivewarden {

// The process performing an operation, as the host knows it. Flags and rules given here are
// added to what the policy assigns by image path.
struct ProcessIdentity {
  std::u16string_view image;  // full image path, or "System"
  std::uint32_t pid = 0;
  std::uint64_t creation_time = 0;
  std::uint32_t session_id = 0;
  ProcessFlags extra_flags = 0;
  ProcessRules extra_rules = 0;
  std::u16string_view user_sid;  // for HKCU paths
};

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

struct OperationRequest {
  Operation op = Operation::kCreateKey;
  std::u16string_view key;       // any form canonicalize_key accepts
  std::u16string_view value;     // value operations
  std::u16string_view new_name;  // rename: the new last component
  bool key_exists = false;       // create-key: the key is already there (an open)
  // The caller named the key in Win32 form and a host rewrote it to the kernel form: Win32 names
  // end at NUL, so a NUL in the value or new name is still malformed (SPEC §9).
  bool names_from_win32 = false;
  // create-key: the new key is a symbolic link (REG_OPTION_CREATE_LINK). A link redirects
  // everything at and below its name, so it is decided like moving a subtree there.
  bool creates_link = false;
  ProcessIdentity process;
  std::uint64_t thread_id = 0;
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
  PathStatus path_status = PathStatus::kOk;  // not kOk: the request was not decided (input error)
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
};

const char* verdict_name(Verdict v);
const char* reason_name(Reason r);
const char* notify_name(NotifyMode n);
const char* exemption_name(Exemption e);

// Working memory of one decision, owned by the caller (one per thread, about 200 KiB), so that
// deciding allocates nothing. After decide(), `path` holds the canonical key (and, for a rename,
// `new_path` the target) and `match.hits` the matched pairs.
struct DecisionScratch {
  KeyPath path;
  KeyPath new_path;
  MatchScratch match;
  char16_t image_folded[kMaxPathUnits + 1];
};

}  // namespace hivewarden
