// The one step from a decided operation to its notification record (SPEC §4.6-4.7, §7): a denial
// is reported before the operation with the decision's clients, an allowed and watched operation
// after it succeeded with its call context's clients. Every host (the in-memory registry, replay,
// the driver) drafts its records here, so that they carry the same fields; the host only numbers
// and sends them. Allocates nothing.
#pragma once

#include <cstdint>
#include <string_view>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/engine.hpp"
#include "hivewarden/core/notification.hpp"

namespace hivewarden {

// At most this many distinct client hashes go into a record; more set kHashesTruncated.
inline constexpr std::uint32_t kMaxRecordClients = 16;

// The value before the operation, when the host read it (the decision's capture_old_value).
struct ValueBefore {
  bool known = false;
  std::uint32_t type = 0;
  std::string_view data;
};

// A record ready to encode: its fields (views into the request, the value before, and `hashes`).
// The sender sets input.sequence, then record_size / encode_record.
struct RecordDraft {
  RecordDraft() = default;
  // input.hashes points into this draft's own `hashes`: a copy points into its own.
  RecordDraft(const RecordDraft& other) { *this = other; }
  RecordDraft& operator=(const RecordDraft& other) {
    input = other.input;
    mode = other.mode;
    for (std::uint32_t i = 0; i < sizeof hashes; ++i) hashes[i] = other.hashes[i];
    if (other.input.hashes == other.hashes) input.hashes = hashes;
    return *this;
  }

  RecordInput input;
  NotifyMode mode = NotifyMode::kNone;
  unsigned char hashes[kMaxRecordClients * 16] = {};
};

// Drafts the record a denial sends: status access-denied, the clients of `match` (the decision's
// hits) named from decision.policy, the policy the decision was made on. False when the decision
// sends nothing (allowed, or notify none).
bool draft_denial(const OperationRequest& request, const Decision& decision,
                  const MatchScratch& match, const ValueBefore& before, RecordDraft& out);

// Drafts the record of an operation that happened: the clients its call context kept, named from
// the policy it was matched against. False when nothing is sent (no context, or it failed).
bool draft_completion(const OperationRequest& request, const PostOutcome& outcome,
                      const ValueBefore& before, RecordDraft& out);

}  // namespace hivewarden
