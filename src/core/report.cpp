#include "hivewarden/core/report.hpp"

namespace hivewarden {
namespace {

constexpr std::uint32_t kAccessDenied = 0xC0000022u;

bool same_hash(const unsigned char* a, const unsigned char* b) {
  for (int i = 0; i < 16; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// What differs between a denial and a completion; everything else comes from the request.
struct ReportFacts {
  NotifyMode mode;
  bool denied;
  Rules rules;
  const PolicyView* policy;
  const MatchHit* hits;
  std::uint32_t hit_count;
  bool hits_truncated;
};

bool draft(const OperationRequest& r, const ReportFacts& facts, const ValueBefore& before,
           RecordDraft& out) {
  if (facts.mode == NotifyMode::kNone) return false;
  out.mode = facts.mode;
  RecordInput& in = out.input;
  in = RecordInput{};
  in.type = facts.mode == NotifyMode::kSync ? MessageType::kRegistryEventSync
                                            : MessageType::kRegistryEventAsync;
  in.operation = traits(r.op).pre_class;
  in.status = facts.denied ? kAccessDenied : 0;
  in.process_id = r.process.pid;
  in.process_creation_time = r.process.creation_time;
  in.thread_id = r.thread_id;
  in.session_id = r.process.session_id;
  in.final_key_rules = facts.rules;
  in.key_name = r.key != nullptr ? r.key->text() : std::u16string_view();
  in.value_name = r.value;
  if (r.op == Operation::kRenameKey && r.new_key != nullptr) in.new_key_name = r.new_key->text();
  if (r.op == Operation::kRestoreKey) in.old_file_name = r.file;
  if (r.op == Operation::kReplaceKey) in.new_file_name = r.file;
  in.flags = facts.denied ? record_flag::kDenied : 0;
  if (before.known) {
    in.flags |= record_flag::kHasDataBefore;
    in.value_type_before = before.type;
    in.value_size_before = static_cast<std::uint32_t>(before.data.size());
    in.data_before = before.data;
  }
  if (r.op == Operation::kSetValue && r.has_data) {
    in.flags |= record_flag::kHasDataAfter;
    in.value_type_after = r.type;
    in.value_size_after = static_cast<std::uint32_t>(r.data.size());
    in.data_after = r.data;
  }
  // Client hashes, distinct, in hit order: several entries of one client name it once.
  bool truncated = facts.hits_truncated;
  std::uint32_t count = 0;
  for (std::uint32_t i = 0; facts.policy != nullptr && i < facts.hit_count; ++i) {
    const unsigned char* hash = facts.policy->clients()[facts.hits[i].client].hash;
    bool seen = false;
    for (std::uint32_t k = 0; k < count && !seen; ++k) seen = same_hash(out.hashes + 16 * k, hash);
    if (seen) continue;
    if (count == kMaxRecordClients) {
      truncated = true;
      break;
    }
    for (int b = 0; b < 16; ++b) out.hashes[16 * count + b] = hash[b];
    ++count;
  }
  if (truncated) in.flags |= record_flag::kHashesTruncated;
  in.hashes = out.hashes;
  in.hash_count = count;
  return true;
}

}  // namespace

bool draft_denial(const OperationRequest& request, const Decision& decision,
                  const MatchScratch& match, const ValueBefore& before, RecordDraft& out) {
  if (decision.verdict != Verdict::kDeny) return false;
  const ReportFacts facts{decision.notify,
                          true,
                          decision.rules | decision.subtree_rules,
                          decision.policy ? &decision.policy.view() : nullptr,
                          match.hits,
                          match.hit_count,
                          match.hits_truncated};
  return draft(request, facts, before, out);
}

bool draft_completion(const OperationRequest& request, const PostOutcome& outcome,
                      const ValueBefore& before, RecordDraft& out) {
  if (!outcome.found) return false;
  const ReportFacts facts{outcome.notify,        false,
                          outcome.rules,         outcome.policy ? &outcome.policy.view() : nullptr,
                          outcome.hits,          outcome.hit_count,
                          outcome.hits_truncated};
  return draft(request, facts, before, out);
}

}  // namespace hivewarden
