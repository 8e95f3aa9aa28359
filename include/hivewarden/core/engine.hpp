// The decision engine (SPEC §4): holds the policy in force, decides pre-operations, carries their
// matches to post-operations through per-thread call contexts. Many threads decide at once while
// the policy is swapped: readers never block, and a policy is freed when its last user leaves.
#pragma once

#include <atomic>
#include <cstdint>

#include "hivewarden/core/allocator.hpp"
#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/policy_ref.hpp"
#include "hivewarden/core/policy_view.hpp"

namespace hivewarden {

// What a post-operation learns from its pre-operation's call context.
struct PostOutcome {
  bool found = false;                     // a context of this thread and operation was waiting
  NotifyMode notify = NotifyMode::kNone;  // kNone when the operation failed
  Operation op = Operation::kCreateKey;
  Rules rules = 0;
  std::uint32_t hit_count = 0;
  MatchHit hits[16];  // the first hits (entries and clients of `policy`)
  bool hits_truncated = false;
  PolicyRef policy;  // the policy the pre-operation matched against
};

struct EngineStats {
  std::uint64_t policy_swaps = 0;
  std::uint64_t policy_rejected = 0;
  std::uint64_t contexts_created = 0;
  std::uint64_t contexts_completed = 0;    // taken by a successful post-operation
  std::uint64_t contexts_failed = 0;       // freed because the operation failed
  std::uint64_t contexts_thread_exit = 0;  // freed because the thread ended first
  std::uint64_t contexts_exhausted = 0;    // not created: the pool was full
  std::uint64_t contexts_outstanding = 0;
};

struct EngineConfig {
  std::uint32_t context_capacity = 4096;
  Allocator allocator = default_allocator();
  // True: a reporting pre-operation's context waits in the engine for complete() on the same
  // thread. False: the host carries it itself (the driver, in Windows' CallContext, which pairs
  // pre and post exactly): decide() keeps nothing and the host takes pending_outcome().
  bool keeps_call_contexts = true;
};

// What complete() would return for an allowed, reporting decision whose operation succeeded,
// made from the decision itself (its hits in `match`): for hosts that keep their own call context.
// The same hits as the engine's own context keeps (the first 16), the same policy reference.
PostOutcome pending_outcome(const Decision& decision, const MatchScratch& match, Operation op);

class Engine {
 public:
  explicit Engine(const EngineConfig& config = EngineConfig());
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // False when the engine could not get its fixed memory; it then denies nothing and keeps nothing.
  bool ok() const { return contexts_ != nullptr; }

  // Validates a compiled policy blob (copied) and makes it the one in force. On failure the
  // policy in force stays, and `error` says why.
  bool install_policy(const void* data, std::uint64_t size, PolicyError& error);

  // Validates a blob (copied) into a policy that can be installed later without checking it
  // again; empty on failure, with `error` saying why.
  PolicyRef prepare_policy(const void* data, std::uint64_t size, PolicyError& error);

  // Makes a prepared policy the one in force (the engine keeps its own reference).
  bool install_prepared(const PolicyRef& policy);

  // The policy in force (empty before the first install).
  PolicyRef current_policy() const;

  // Decides one pre-operation (SPEC §4). Without a policy everything is allowed. When the
  // decision says context_kept, the post-operation on the same thread must call complete() (or
  // thread_exited()) to free it.
  Decision decide(const OperationRequest& request, DecisionScratch& scratch);

  // Decides with the policy held by `policy` (used to explain a decision against a known policy).
  Decision decide_with(const PolicyView& policy, const OperationRequest& request,
                       DecisionScratch& scratch) const;

  // Post-operation: takes the newest call context of this thread for this operation. On success
  // the outcome says which notification to send; on failure the context is freed and counted.
  PostOutcome complete(std::uint64_t thread_id, Operation op, bool success);

  // Frees every call context left by a thread that ended between pre and post.
  void thread_exited(std::uint64_t thread_id);

  EngineStats stats() const;

 private:
  struct ReaderSlot;
  struct ContextSlot;

  std::uint32_t enter_read(std::uint32_t slot) const;
  void leave_read(std::uint32_t slot, std::uint32_t parity) const;
  bool keep_context(const Decision& d, std::uint64_t thread_id, Operation op,
                    const MatchScratch& match, PolicyBox* box);
  void free_context_locked(std::uint32_t* link, std::uint32_t index);
  void lock_contexts() const;
  void unlock_contexts() const;

  Allocator allocator_;
  std::atomic<PolicyBox*> current_{nullptr};
  std::atomic<std::uint32_t> parity_{0};
  ReaderSlot* readers_ = nullptr;
  void* readers_raw_ = nullptr;
  std::atomic_flag swap_lock_ = ATOMIC_FLAG_INIT;  // one swap at a time
  std::atomic<std::uint64_t> generation_{0};

  ContextSlot* contexts_ = nullptr;
  std::uint32_t* buckets_ = nullptr;  // per thread-hash: newest context first
  std::uint32_t context_capacity_ = 0;
  std::uint32_t free_head_ = 0;
  bool keeps_call_contexts_ = true;
  mutable std::atomic_flag context_lock_ = ATOMIC_FLAG_INIT;
  std::atomic<std::uint32_t> outstanding_{0};

  std::atomic<std::uint64_t> stat_swaps_{0}, stat_rejected_{0}, stat_created_{0},
      stat_completed_{0}, stat_failed_{0}, stat_thread_exit_{0}, stat_exhausted_{0};
};

}  // namespace hivewarden
