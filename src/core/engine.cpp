#include "hivewarden/core/engine.hpp"

#include <cstring>
#include <new>

#include "hivewarden/core/decide.hpp"
#include "platform.hpp"

namespace hivewarden {

// A validated policy: the copied blob, its view, and who still uses it.
struct PolicyBox {
  std::atomic<std::uint32_t> refs{1};
  std::uint64_t generation = 0;
  Allocator allocator;
  void* bytes = nullptr;  // 8-byte aligned copy of the blob
  PolicyView view;
};

namespace {

void release_box(PolicyBox* box) {
  if (box == nullptr || box->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const Allocator allocator = box->allocator;
  allocator.release(box->bytes, allocator.user);
  box->~PolicyBox();
  allocator.release(box, allocator.user);
}

constexpr std::uint32_t kReaderSlotCount = 64;
constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
constexpr std::uint32_t kContextHits = 16;
static_assert(kContextHits == sizeof(PostOutcome::hits) / sizeof(MatchHit));

std::uint32_t slot_of(std::uint64_t thread_id) {
  std::uint64_t x = thread_id * 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint32_t>(x >> 58) % kReaderSlotCount;
}

// The hits a call context keeps: the first kContextHits, the rest only as a truncation mark.
void copy_first_hits(const MatchScratch& match, MatchHit* hits, std::uint32_t& count,
                     bool& truncated) {
  count = match.hit_count < kContextHits ? match.hit_count : kContextHits;
  truncated = match.hits_truncated || match.hit_count > kContextHits;
  for (std::uint32_t i = 0; i < count; ++i) hits[i] = match.hits[i];
}

class SpinGuard {
 public:
  explicit SpinGuard(std::atomic_flag& flag) : flag_(flag) {
    while (flag_.test_and_set(std::memory_order_acquire)) platform::yield_now();
  }
  ~SpinGuard() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag& flag_;
};

}  // namespace

// Readers count themselves in a slot under the current parity; a swap flips the parity and waits
// for the old parity's counts to drain (a grace period) before dropping the old policy. Slots
// sit on their own cache lines so that threads deciding at once do not share one.
struct Engine::ReaderSlot {
  alignas(64) std::atomic<std::uint32_t> count[2];
};

struct Engine::ContextSlot {
  std::uint64_t thread = 0;
  PolicyBox* box = nullptr;
  std::uint32_t next = kNoSlot;  // free list, or chain of the thread's bucket (newest first)
  bool used = false;
  Operation op = Operation::kCreateKey;
  NotifyMode notify = NotifyMode::kNone;
  bool hits_truncated = false;
  Rules rules = 0;
  std::uint32_t hit_count = 0;
  MatchHit hits[kContextHits];
};

PolicyRef::PolicyRef(const PolicyRef& other) : box_(other.box_) {
  if (box_ != nullptr) box_->refs.fetch_add(1, std::memory_order_relaxed);
}
PolicyRef& PolicyRef::operator=(const PolicyRef& other) {
  if (this != &other) {
    if (other.box_ != nullptr) other.box_->refs.fetch_add(1, std::memory_order_relaxed);
    reset();
    box_ = other.box_;
  }
  return *this;
}
PolicyRef& PolicyRef::operator=(PolicyRef&& other) noexcept {
  if (this != &other) {
    reset();
    box_ = other.box_;
    other.box_ = nullptr;
  }
  return *this;
}
const PolicyView& PolicyRef::view() const {
  return box_->view;
}
std::uint64_t PolicyRef::generation() const {
  return box_->generation;
}
void PolicyRef::reset() {
  release_box(box_);
  box_ = nullptr;
}

Engine::Engine(const EngineConfig& config)
    : allocator_(config.allocator), keeps_call_contexts_(config.keeps_call_contexts) {
  void* readers = allocator_.allocate(sizeof(ReaderSlot) * kReaderSlotCount + 64, allocator_.user);
  const std::uint32_t capacity =
      config.context_capacity == 0 || !keeps_call_contexts_ ? 1 : config.context_capacity;
  // Slots, then one bucket head per slot.
  void* contexts = allocator_.allocate((sizeof(ContextSlot) + sizeof(std::uint32_t)) * capacity,
                                       allocator_.user);
  if (readers == nullptr || contexts == nullptr) {
    if (readers) allocator_.release(readers, allocator_.user);
    if (contexts) allocator_.release(contexts, allocator_.user);
    return;
  }
  readers_raw_ = readers;
  auto aligned = (reinterpret_cast<std::uintptr_t>(readers) + 63) & ~std::uintptr_t{63};
  readers_ = reinterpret_cast<ReaderSlot*>(aligned);
  for (std::uint32_t i = 0; i < kReaderSlotCount; ++i) {
    new (&readers_[i]) ReaderSlot;
    readers_[i].count[0].store(0);
    readers_[i].count[1].store(0);
  }
  contexts_ = static_cast<ContextSlot*>(contexts);
  buckets_ = reinterpret_cast<std::uint32_t*>(contexts_ + capacity);
  context_capacity_ = capacity;
  for (std::uint32_t i = 0; i < capacity; ++i) {
    new (&contexts_[i]) ContextSlot;
    contexts_[i].next = i + 1 < capacity ? i + 1 : kNoSlot;
    buckets_[i] = kNoSlot;
  }
  free_head_ = 0;
}

Engine::~Engine() {
  if (contexts_ != nullptr) {
    for (std::uint32_t i = 0; i < context_capacity_; ++i) {
      if (contexts_[i].used) release_box(contexts_[i].box);
    }
    allocator_.release(contexts_, allocator_.user);
  }
  if (readers_raw_ != nullptr) allocator_.release(readers_raw_, allocator_.user);
  release_box(current_.load());
}

std::uint32_t Engine::enter_read(std::uint32_t slot) const {
  for (;;) {
    const std::uint32_t parity = parity_.load(std::memory_order_seq_cst);
    readers_[slot].count[parity].fetch_add(1, std::memory_order_seq_cst);
    if (parity_.load(std::memory_order_seq_cst) == parity) return parity;
    readers_[slot].count[parity].fetch_sub(1, std::memory_order_seq_cst);
  }
}

void Engine::leave_read(std::uint32_t slot, std::uint32_t parity) const {
  readers_[slot].count[parity].fetch_sub(1, std::memory_order_release);
}

PolicyRef Engine::prepare_policy(const void* data, std::uint64_t size, PolicyError& error) {
  PolicyRef ref;
  if (!ok()) {
    error = {"engine has no memory", 0};
    return ref;
  }
  void* raw_box = allocator_.allocate(sizeof(PolicyBox), allocator_.user);
  void* bytes = size > 0 && size < (std::uint64_t{1} << 40)
                    ? allocator_.allocate(static_cast<std::size_t>(size), allocator_.user)
                    : nullptr;
  if (raw_box == nullptr || bytes == nullptr) {
    if (raw_box) allocator_.release(raw_box, allocator_.user);
    if (bytes) allocator_.release(bytes, allocator_.user);
    error = {size == 0 ? "empty policy" : "out of memory for the policy", 0};
    stat_rejected_.fetch_add(1, std::memory_order_relaxed);
    return ref;
  }
  std::memcpy(bytes, data, static_cast<std::size_t>(size));
  auto* box = new (raw_box) PolicyBox;
  box->allocator = allocator_;
  box->bytes = bytes;
  if (!validate_policy(bytes, size, box->view, error)) {
    release_box(box);
    stat_rejected_.fetch_add(1, std::memory_order_relaxed);
    return ref;
  }
  box->generation =
      generation_.fetch_add(1, std::memory_order_relaxed) + 1;  // one per prepared policy
  ref.box_ = box;
  return ref;
}

bool Engine::install_prepared(const PolicyRef& policy) {
  if (!ok() || !policy) return false;
  PolicyBox* box = policy.box_;
  box->refs.fetch_add(1, std::memory_order_relaxed);  // the engine's own reference
  SpinGuard guard(swap_lock_);
  PolicyBox* old = current_.exchange(box, std::memory_order_seq_cst);
  // Grace period: once no reader of the old parity is left, nobody reads `old` but its holders.
  const std::uint32_t old_parity = parity_.load(std::memory_order_seq_cst);
  parity_.store(old_parity ^ 1u, std::memory_order_seq_cst);
  for (std::uint32_t i = 0; i < kReaderSlotCount; ++i) {
    while (readers_[i].count[old_parity].load(std::memory_order_seq_cst) != 0)
      platform::yield_now();
  }
  release_box(old);
  stat_swaps_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Engine::install_policy(const void* data, std::uint64_t size, PolicyError& error) {
  const PolicyRef prepared = prepare_policy(data, size, error);
  return prepared && install_prepared(prepared);
}

PolicyRef Engine::current_policy() const {
  PolicyRef ref;
  if (!ok()) return ref;
  const std::uint32_t parity = enter_read(0);
  PolicyBox* box = current_.load(std::memory_order_seq_cst);
  if (box != nullptr) box->refs.fetch_add(1, std::memory_order_relaxed);
  leave_read(0, parity);
  return PolicyRef(box);
}

Decision Engine::decide(const OperationRequest& request, DecisionScratch& scratch) {
  if (!ok()) return Decision{};
  const std::uint32_t slot = slot_of(request.thread_id);
  const std::uint32_t parity = enter_read(slot);
  PolicyBox* box = current_.load(std::memory_order_seq_cst);
  Decision d;
  if (box != nullptr) {
    d = decide_on(box->view, request, scratch);
    if (d.notify != NotifyMode::kNone) {
      box->refs.fetch_add(1, std::memory_order_relaxed);  // we are inside a read section
      d.policy = PolicyRef(box);
    }
    if (keeps_call_contexts_ && d.verdict == Verdict::kAllow && d.notify != NotifyMode::kNone) {
      d.context_kept = keep_context(d, request.thread_id, request.op, scratch.match, box);
      d.context_exhausted = !d.context_kept;
    }
  } else {
    scratch.match.reset();
  }
  leave_read(slot, parity);
  return d;
}

Decision Engine::decide_with(const PolicyView& policy, const OperationRequest& request,
                             DecisionScratch& scratch) const {
  return decide_on(policy, request, scratch);
}

void Engine::lock_contexts() const {
  while (context_lock_.test_and_set(std::memory_order_acquire)) platform::yield_now();
}
void Engine::unlock_contexts() const {
  context_lock_.clear(std::memory_order_release);
}

bool Engine::keep_context(const Decision& d, std::uint64_t thread_id, Operation op,
                          const MatchScratch& match, PolicyBox* box) {
  lock_contexts();
  if (free_head_ == kNoSlot) {
    unlock_contexts();
    stat_exhausted_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const std::uint32_t index = free_head_;
  ContextSlot& slot = contexts_[index];
  free_head_ = slot.next;
  slot.used = true;
  slot.thread = thread_id;
  slot.op = op;
  slot.notify = d.notify;
  slot.rules = d.rules;
  copy_first_hits(match, slot.hits, slot.hit_count, slot.hits_truncated);
  box->refs.fetch_add(1, std::memory_order_relaxed);  // we are inside a read section
  slot.box = box;
  std::uint32_t& head = buckets_[static_cast<std::uint32_t>(thread_id % context_capacity_)];
  slot.next = head;
  head = index;
  outstanding_.fetch_add(1, std::memory_order_release);
  unlock_contexts();
  stat_created_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Unlinks slot `index` (found at *link) and returns it to the free list; lock held.
void Engine::free_context_locked(std::uint32_t* link, std::uint32_t index) {
  ContextSlot& slot = contexts_[index];
  *link = slot.next;
  slot.used = false;
  slot.box = nullptr;
  slot.next = free_head_;
  free_head_ = index;
  outstanding_.fetch_sub(1, std::memory_order_release);
}

PostOutcome Engine::complete(std::uint64_t thread_id, Operation op, bool success) {
  PostOutcome out;
  if (!ok() || outstanding_.load(std::memory_order_acquire) == 0) return out;
  PolicyBox* box = nullptr;
  lock_contexts();
  std::uint32_t* link = &buckets_[static_cast<std::uint32_t>(thread_id % context_capacity_)];
  while (*link != kNoSlot) {
    ContextSlot& slot = contexts_[*link];
    if (slot.thread == thread_id && slot.op == op) {
      out.found = true;
      out.op = op;
      out.notify = success ? slot.notify : NotifyMode::kNone;
      out.rules = slot.rules;
      out.hit_count = slot.hit_count;
      out.hits_truncated = slot.hits_truncated;
      for (std::uint32_t i = 0; i < slot.hit_count; ++i) out.hits[i] = slot.hits[i];
      box = slot.box;
      free_context_locked(link, *link);
      break;
    }
    link = &slot.next;
  }
  unlock_contexts();
  if (!out.found) return out;
  (success ? stat_completed_ : stat_failed_).fetch_add(1, std::memory_order_relaxed);
  out.policy = PolicyRef(box);  // the context's reference moves to the outcome
  return out;
}

PostOutcome pending_outcome(const Decision& decision, const MatchScratch& match, Operation op) {
  PostOutcome out;
  if (decision.verdict != Verdict::kAllow || decision.notify == NotifyMode::kNone) return out;
  out.found = true;
  out.op = op;
  out.notify = decision.notify;
  out.rules = decision.rules;
  copy_first_hits(match, out.hits, out.hit_count, out.hits_truncated);
  out.policy = decision.policy;
  return out;
}

void Engine::thread_exited(std::uint64_t thread_id) {
  if (!ok() || outstanding_.load(std::memory_order_acquire) == 0) return;
  PolicyBox* freed[32];
  for (;;) {
    std::uint32_t n = 0;
    lock_contexts();
    std::uint32_t* link = &buckets_[static_cast<std::uint32_t>(thread_id % context_capacity_)];
    while (*link != kNoSlot && n < 32) {
      ContextSlot& slot = contexts_[*link];
      if (slot.thread == thread_id) {
        freed[n++] = slot.box;
        free_context_locked(link, *link);
      } else {
        link = &slot.next;
      }
    }
    const bool more = *link != kNoSlot && n == 32;
    unlock_contexts();
    // Policies are released outside the lock: the last release frees memory.
    for (std::uint32_t i = 0; i < n; ++i) release_box(freed[i]);
    stat_thread_exit_.fetch_add(n, std::memory_order_relaxed);
    if (!more) return;
  }
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.policy_swaps = stat_swaps_.load();
  s.policy_rejected = stat_rejected_.load();
  s.contexts_created = stat_created_.load();
  s.contexts_completed = stat_completed_.load();
  s.contexts_failed = stat_failed_.load();
  s.contexts_thread_exit = stat_thread_exit_.load();
  s.contexts_exhausted = stat_exhausted_.load();
  s.contexts_outstanding = outstanding_.load();
  return s;
}

}  // namespace hivewarden
