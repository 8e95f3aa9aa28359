#include "hivewarden/core/decide.hpp"

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/glob.hpp"

namespace hivewarden {
namespace {

constexpr Rules kDenyBits = rule::kCreateKeyDeny | rule::kRenameKeyDeny | rule::kDeleteDeny |
                            rule::kSetValueDeny | rule::kReplaceKeyDeny | rule::kRestoreKeyDeny;

// Operations that move or overwrite a whole subtree: what lies below the key counts too.
constexpr bool moves_subtree(Operation op) {
  return op == Operation::kRenameKey || op == Operation::kRestoreKey ||
         op == Operation::kReplaceKey;
}

// What protects a value from going away with its key (SPEC §4.3): deleting a key deletes its
// values, so a value that may not be deleted or changed may not be deleted with its key; and a
// value that is watched is reported when it goes with its key.
constexpr Rules kValueGuardBits = rule::kDeleteDeny | rule::kSetValueDeny | rule::kTamperProtection;
constexpr Rules kValueWatchBits = rule::kSetValue | rule::kDeleteValue;

// Every "report this" bit: moving or overwriting a watched key or value is reported like
// changing it (a staged key renamed onto Run plants a value as surely as set-value does).
constexpr Rules kNotifyBits = rule::kCreateKey | rule::kRenameKey | rule::kDeleteKey |
                              rule::kSetValue | rule::kDeleteValue | rule::kRestoreKey |
                              rule::kReplaceKey;

// Making a key a symbolic link, or changing where a link points (its SymbolicLinkValue),
// redirects every name at and below the key: decided like moving a subtree there.
bool redirects_key(const OperationRequest& request) {
  if (request.op == Operation::kCreateKey) return request.creates_link;
  return (request.op == Operation::kSetValue || request.op == Operation::kDeleteValue) &&
         equal_folded(request.value, u"SymbolicLinkValue");
}

constexpr ProcessFlags kHardeningExempt = process_flag::kSystem | process_flag::kAvService |
                                          process_flag::kFriendly | process_flag::kServiceSid;

Decision deny(Decision d, Reason reason, NotifyMode notify) {
  d.verdict = Verdict::kDeny;
  d.reason = reason;
  d.notify = notify;
  return d;
}

Decision allow(Decision d, Reason reason) {
  d.verdict = Verdict::kAllow;
  d.reason = reason;
  return d;
}

Exemption exemption_of(const ProcessContext& p) {
  if (p.rules & process_rule::kAllowAllRegistry) return Exemption::kAllowAllRegistry;
  if (p.flags & process_flag::kExcluded) return Exemption::kExcluded;
  if (p.flags & process_flag::kFriendly) return Exemption::kFriendly;
  if (p.flags & process_flag::kServiceSid) return Exemption::kServiceSid;
  return Exemption::kNone;
}

}  // namespace

namespace {
// An image path with `.` or `..` components is not a normalized full path: a glob such as
// `Platform\*\MsMpEng.exe` could match `Platform\..\MsMpEng.exe` somewhere else entirely.
bool has_dot_components(std::u16string_view image) {
  std::size_t start = 0;
  while (start <= image.size()) {
    std::size_t end = image.find(u'\\', start);
    if (end == std::u16string_view::npos) end = image.size();
    const std::u16string_view part = image.substr(start, end - start);
    if (part == u"." || part == u"..") return true;
    start = end + 1;
  }
  return false;
}
}  // namespace

ProcessContext classify_process(const PolicyView& policy, const ProcessIdentity& process,
                                DecisionScratch&) {
  ProcessContext out;
  out.flags = process.extra_flags & process_flag::kAll;
  out.rules = process.extra_rules & process_rule::kAll;
  // SPEC §9: pid 4 alone is not enough (a host that lost the image must not grant System).
  if (process.pid == 4 && equal_ascii_folded(process.image, u"System")) {
    out.flags |= process_flag::kSystem;
  }
  // No privileges by name for a path that is not a normalized full path, or longer than any.
  if (policy.processes().size == 0 || has_dot_components(process.image) ||
      process.image.size() > kMaxPathUnits) {
    return out;
  }
  const std::size_t length = process.image.size();
  const std::u16string_view image = process.image;  // folded (ASCII) as the globs compare it
  std::uint64_t work = 0;
  for (std::uint32_t i = 0; i < policy.processes().size; ++i) {
    const blob::ProcessRule& rule = policy.processes()[i];
    // A glob costs at most its length times the image's: bounded per decision. Past the bound
    // the process is not classified, which fails closed both ways: no exemption by name, and
    // `seces` (the flag that makes legacy hardening deny more) is assumed.
    work += (static_cast<std::uint64_t>(rule.image.length) + 1) * (length + 1) / 32;
    if (work > kMaxClassifyWork) {
      out.flags = (process.extra_flags & process_flag::kAll) | process_flag::kSeces |
                  (out.flags & process_flag::kSystem);
      out.rules = process.extra_rules & process_rule::kAll;
      out.unclassified = true;
      return out;
    }
    if (glob_match_folding(
            policy.str(rule.image), image, [](char16_t u) { return fold_ascii_unit(u); }, u'\\')) {
      out.flags |= rule.flags;
      out.rules |= rule.rules;
      out.matched_process_rule = i;
      break;
    }
  }
  return out;
}

namespace {

// A name the registry would refuse, or one a Win32 caller could not have meant: fails closed.
bool invalid_names(const OperationRequest& request, const OperationTraits& op) {
  // The host canonicalised the key (and a rename's target); an invalid name fails closed.
  if (request.key == nullptr || (request.op == Operation::kRenameKey && request.new_key == nullptr))
    return true;
  const bool value_op = op.matches_values || request.op == Operation::kQueryValue;
  return value_op && (request.value.size() > kMaxValueNameUnits ||
                      ((!request.key->native_form || request.names_from_win32) &&
                       request.value.find(u'\0') != std::u16string_view::npos));
}

// §4.1: the key (or a rename's target) is hardened. Moving or overwriting an ancestor of a
// hardened key moves or overwrites the hardened key too (WdFilter's prefix match misses that).
bool touches_hardened_key(const PolicyView& policy, const OperationRequest& request,
                          bool subtree_op) {
  const KeyPath& key = *request.key;
  const bool rename = request.op == Operation::kRenameKey;
  return is_hardened(policy, key, key.count) ||
         (rename && is_hardened(policy, *request.new_key, request.new_key->count)) ||
         (subtree_op && is_hardened_below(policy, key, key.count)) ||
         (rename && is_hardened_below(policy, *request.new_key, request.new_key->count));
}

// §4.3: the entries the operation touches (d.rules) and, for an operation on a whole key, the
// rules of what the key holds (d.subtree_rules). One walk per path answers every question.
void match_rules(const PolicyView& policy, const OperationRequest& request,
                 const OperationTraits& op, Rules flag, bool subtree_op, DecisionScratch& scratch,
                 Decision& d) {
  const std::u16string_view* value = op.matches_values ? &request.value : nullptr;
  const KeyPath& key = *request.key;
  const MatchWalk at_key = walk_path(policy, key, key.count, scratch.match);
  d.rules = match_entries(policy, at_key, flag, value, scratch.match);
  if (subtree_op)  // what the key holds: its values and everything below it
    d.subtree_rules = subtree_rules_at(policy, at_key);
  if (request.op == Operation::kDeleteKey) {  // the key's own values go with it
    constexpr Rules kValueBits = kValueGuardBits | kValueWatchBits;
    d.subtree_rules = value_entry_rules(policy, at_key, kValueBits, scratch.match) & kValueBits;
  }
  if (request.op == Operation::kRenameKey) {  // the new name: the walk reuses the scratch
    const MatchWalk at_target =
        walk_path(policy, *request.new_key, request.new_key->count, scratch.match);
    d.rules |= match_entries(policy, at_target, flag, nullptr, scratch.match);
    d.subtree_rules |= subtree_rules_at(policy, at_target);
  }
  if (subtree_op) d.subtree_rules &= kDenyBits | rule::kTamperProtection | kNotifyBits;
}

// §4.4-4.6, once rules matched: tamper protection, then the deny bits, then the notify bits.
Decision apply_rules(Decision d, const OperationTraits& op) {
  const NotifyMode mode =
      (d.process.rules & process_rule::kNotifySync) != 0 ? NotifyMode::kSync : NotifyMode::kAsync;
  d.capture_old_value = (d.rules & op.capture_bit) != 0;

  // §4.4 tamper protection: every process. Also when the key holds a tamper-protected key.
  if ((d.rules | d.subtree_rules) & rule::kTamperProtection)
    return deny(d, Reason::kTamperProtection, mode);

  // §4.5 the deny bit, unless the process is exempt. Moving or overwriting a key that holds
  // protected keys or values is denied like changing them.
  if (d.rules & op.deny_bit) {
    d.exemption = exemption_of(d.process);
    if (d.exemption == Exemption::kNone) return deny(d, Reason::kDenyRule, mode);
  }
  if (d.subtree_rules & kDenyBits) {
    d.exemption = exemption_of(d.process);
    if (d.exemption == Exemption::kNone) return deny(d, Reason::kSubtreeProtected, mode);
  }

  // §4.6 the notify bit: reported after the operation.
  const bool exempt = d.exemption != Exemption::kNone;
  if ((d.rules & op.notify_bit) || (d.subtree_rules & kNotifyBits)) {
    d = allow(d, exempt ? Reason::kExempt : Reason::kNotify);
    d.notify = mode;
    return d;
  }
  d.capture_old_value = false;
  return allow(d, Reason::kExempt);
}

}  // namespace

Decision decide_on(const PolicyView& policy, const OperationRequest& request,
                   DecisionScratch& scratch) {
  Decision d;
  scratch.match.reset();
  scratch.match.request = &request;
  d.process = classify_process(policy, request.process, scratch);
  const OperationTraits& op = traits(request.op);
  if (invalid_names(request, op)) return deny(d, Reason::kInvalidName, NotifyMode::kNone);

  // SPEC §5: the legacy hardening callback only looks at query-value.
  if (request.op == Operation::kQueryValue) {
    if (policy.legacy_hardening() && equal_folded(request.value, u"LoadAppInit_DLLs") &&
        (d.process.flags & (process_flag::kSeces | process_flag::kServiceSid)) != 0) {
      return deny(d, Reason::kLegacyHardening, NotifyMode::kNone);
    }
    return allow(d, Reason::kNoMatch);
  }

  // §4.1 hardened keys: no notification.
  const bool subtree_op = moves_subtree(request.op) || redirects_key(request);
  if ((d.process.flags & kHardeningExempt) == 0 &&
      touches_hardened_key(policy, request, subtree_op)) {
    return deny(d, Reason::kHardenedKey, NotifyMode::kNone);
  }

  // §4.2 the rule-union gate, then create of an existing key (an open).
  const Rules flag = op.notify_bit | op.deny_bit;
  const Rules gate = subtree_op ? flag | kDenyBits | rule::kTamperProtection | kNotifyBits
                     : request.op == Operation::kDeleteKey
                         ? flag | kValueGuardBits | kValueWatchBits
                         : flag;
  if ((policy.rule_union() & gate) == 0) return allow(d, Reason::kNoMatch);
  if (request.op == Operation::kCreateKey && request.key_exists)
    return allow(d, Reason::kKeyExists);

  // §4.3 match.
  match_rules(policy, request, op, flag, subtree_op, scratch, d);
  if (scratch.match.state_overflow) return deny(d, Reason::kMatchLimit, NotifyMode::kNone);
  if (d.rules == 0 && d.subtree_rules == 0) return allow(d, Reason::kNoMatch);
  return apply_rules(d, op);
}

const char* verdict_name(Verdict v) {
  return v == Verdict::kDeny ? "deny" : "allow";
}

const char* reason_name(Reason r) {
  switch (r) {
    case Reason::kHardenedKey:
      return "hardened-key";
    case Reason::kTamperProtection:
      return "tamper-protection";
    case Reason::kDenyRule:
      return "deny-rule";
    case Reason::kExempt:
      return "exempt";
    case Reason::kNotify:
      return "notify";
    case Reason::kNoMatch:
      return "no-match";
    case Reason::kKeyExists:
      return "key-exists";
    case Reason::kLegacyHardening:
      return "legacy-hardening";
    case Reason::kInvalidName:
      return "invalid-name";
    case Reason::kMatchLimit:
      return "match-limit";
    case Reason::kSubtreeProtected:
      return "subtree-protected";
  }
  return "?";
}

const char* notify_name(NotifyMode n) {
  switch (n) {
    case NotifyMode::kNone:
      return "none";
    case NotifyMode::kAsync:
      return "async";
    case NotifyMode::kSync:
      return "sync";
  }
  return "?";
}

const char* exemption_name(Exemption e) {
  switch (e) {
    case Exemption::kNone:
      return "none";
    case Exemption::kAllowAllRegistry:
      return "allow-all-registry";
    case Exemption::kExcluded:
      return "excluded";
    case Exemption::kFriendly:
      return "friendly";
    case Exemption::kServiceSid:
      return "service-sid";
  }
  return "?";
}

}  // namespace hivewarden
