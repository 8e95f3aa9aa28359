// The pool, as strict as Driver Verifier's special pool: every block the driver gets is tracked
// (tag, size, paged or not, who gave it), so that a leak is named by tag at unload; the n-th
// allocation can be made to fail; executable pool is counted. Checked as Windows and Driver
// Verifier check (each a bugcheck): the IRQL of an allocation or free, zero-byte allocations,
// a free with another tag, of a block freed already, of memory the pool did not give, or by the
// wrong routine (a key name from CmCallbackGetKeyObjectIDEx is released only by
// CmCallbackReleaseKeyObjectIDEx); a write past either end of a block (red zones, checked at
// free); a write after free (freed blocks are poisoned and kept a while, the poison checked when
// they leave and at unload). Paged blocks have pages of their own, "paged out" (no access)
// whenever a thread raises the IRQL to DISPATCH_LEVEL and paged back in on a fault below it, so
// that touching paged pool at DISPATCH_LEVEL bugchecks, as it can on Windows; a freed paged block
// stays unaccessible while kept, so any use after its free faults.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.hpp"

namespace box::kernel {
namespace {

constexpr SIZE_T kRedZone = 16;  // keeps the caller's memory 16-byte aligned, as the pool's is
constexpr unsigned char kRedZoneByte = 0xAB, kFreshByte = 0xCD, kFreedByte = 0xF7;
constexpr SIZE_T kPage = 4096;
constexpr std::uint64_t kQuarantineBytes = 8u << 20, kQuarantineBlocks = 4096;

struct Block {
  Block* previous;  // on the live list or the freed (quarantine) list
  Block* next;
  Block* hash_next;
  Block* paged_next;  // paged blocks, live or freed, for the fault hook
  unsigned char* memory;
  SIZE_T size;
  ULONG tag;
  Owner owner;
  bool paged, resident, freed;
  bool user;            // a user-mode caller's buffer (user_buffer_make), not pool
  const void* origin;   // user: where the case's data was (the address a case names it by)
  unsigned char* base;  // red zone, memory, red zone
  SIZE_T base_size;
};

struct List {
  Block head{};
  List() { head.previous = head.next = &head; }
  void push(Block* b) {
    b->previous = &head;
    b->next = head.next;
    head.next->previous = b;
    head.next = b;
  }
  static void remove(Block* b) {
    b->previous->next = b->next;
    b->next->previous = b->previous;
  }
  bool empty() const { return head.next == &head; }
  Block* oldest() { return head.previous; }
};

List g_live, g_freed;
std::uint64_t g_freed_bytes = 0, g_freed_count = 0;
Block* g_buckets[4096];    // by address; live and freed blocks
Block* g_paged = nullptr;  // guarded by host::paged_lock
PoolStats g_stats;
std::uint64_t g_fail_at = 0;  // attempt number that fails; 0: none
bool g_injected = false;
ULONG g_failed_tag = 0;
SIZE_T g_failed_size = 0;

Block*& bucket(const void* p) {
  return g_buckets[(reinterpret_cast<ULONG_PTR>(p) >> 4) % (sizeof g_buckets / sizeof(Block*))];
}

Block* find_locked(const void* p) {
  for (Block* b = bucket(p); b != nullptr; b = b->hash_next) {
    if (b->memory == p) return b;
  }
  return nullptr;
}

void unhash_locked(Block* gone) {
  for (Block** b = &bucket(gone->memory); *b != nullptr; b = &(*b)->hash_next) {
    if (*b == gone) {
      *b = gone->hash_next;
      return;
    }
  }
}

void paged_add(Block* b) {
  host::paged_lock();
  b->paged_next = g_paged;
  g_paged = b;
  host::paged_unlock();
}

void paged_remove(Block* gone) {
  host::paged_lock();
  for (Block** b = &g_paged; *b != nullptr; b = &(*b)->paged_next) {
    if (*b == gone) {
      *b = gone->paged_next;
      break;
    }
  }
  host::paged_unlock();
}

void tag_text(ULONG t, char (&out)[5]) {
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>(t >> (8 * i));
    out[i] = c >= 32 && c < 127 ? c : '?';
  }
  out[4] = 0;
}

bool all_bytes(const unsigned char* p, SIZE_T n, unsigned char value) {
  for (SIZE_T i = 0; i < n; ++i) {
    if (p[i] != value) return false;
  }
  return true;
}

// Host memory for a block: its own pages when paged.
Block* new_block(Owner owner, bool paged, SIZE_T size, ULONG tag) {
  auto* b = static_cast<Block*>(std::calloc(1, sizeof(Block)));
  b->base_size = size + 2 * kRedZone;
  if (paged) b->base_size = (b->base_size + kPage - 1) / kPage * kPage;
  b->base = static_cast<unsigned char*>(paged ? host::pages_allocate(b->base_size)
                                              : std::malloc(b->base_size));
  if (b->base == nullptr) {
    std::free(b);
    return nullptr;
  }
  b->memory = b->base + kRedZone;
  b->size = size;
  b->tag = tag;
  b->owner = owner;
  b->paged = paged;
  b->resident = true;
  std::memset(b->base, kRedZoneByte, b->base_size);
  std::memset(b->memory, kFreshByte, size);  // pool memory is not zeroed
  return b;
}

void delete_block(Block* b) {
  if (b->paged) {
    paged_remove(b);
    host::pages_free(b->base);
  } else {
    std::free(b->base);
  }
  std::free(b);
}

// A freed non-paged block leaves the quarantine: its poison must be intact.
void check_poison(Block* b) {
  if (b->paged || all_bytes(b->memory, b->size, kFreedByte)) return;
  char tag[5];
  tag_text(b->tag, tag);
  violation(0xC1 /* SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION */,
            reinterpret_cast<ULONG_PTR>(b->memory),
            "pool block '%s' (%llu bytes) written after it was freed", tag,
            static_cast<unsigned long long>(b->size));
}

// Called with the monitor held; returns the block to check outside it (null: none left).
Block* evict_one_locked() {
  if (g_freed.empty()) return nullptr;
  Block* b = g_freed.oldest();
  List::remove(b);
  unhash_locked(b);
  g_freed_bytes -= b->size;
  --g_freed_count;
  return b;
}

void evict_while_over() {
  for (;;) {
    Block* b;
    {
      Locked lock;
      if (g_freed_bytes <= kQuarantineBytes && g_freed_count <= kQuarantineBlocks) return;
      b = evict_one_locked();
    }
    if (b == nullptr) return;
    check_poison(b);
    delete_block(b);
  }
}

// A fault in a paged block: paged back in below DISPATCH_LEVEL; a bugcheck at DISPATCH_LEVEL or
// when the block was freed. Any other fault is not the pool's.
bool on_fault(const void* address) {
  const auto* a = static_cast<const unsigned char*>(address);
  host::paged_lock();
  Block* hit = nullptr;
  for (Block* b = g_paged; b != nullptr && hit == nullptr; b = b->paged_next) {
    if (a >= b->base && a < b->base + b->base_size) hit = b;
  }
  if (hit == nullptr) {
    host::paged_unlock();
    return false;
  }
  if (hit->user) {
    host::paged_unlock();
    violation(kVerifierViolation, reinterpret_cast<ULONG_PTR>(address),
              "a user-mode buffer read directly by the kernel (not through MmCopyMemory)");
  }
  const bool freed = hit->freed;
  const KIRQL irql = current_thread().irql;
  const ULONG tag = hit->tag;
  if (!freed && irql < DISPATCH_LEVEL) {
    host::pages_protect(hit->base, hit->base_size, true);
    hit->resident = true;
  }
  host::paged_unlock();
  if (!freed && irql < DISPATCH_LEVEL) return true;
  char text[5];
  tag_text(tag, text);
  if (freed) {
    violation(0xCC /* PAGE_FAULT_IN_FREED_SPECIAL_POOL */, reinterpret_cast<ULONG_PTR>(address),
              "paged pool block '%s' touched after it was freed", text);
  }
  violation(kIrqlNotLessOrEqual, reinterpret_cast<ULONG_PTR>(address),
            "paged pool block '%s' touched at DISPATCH_LEVEL (it may be paged out)", text);
}

void* allocate(Owner owner, bool paged, SIZE_T size, ULONG tag) {
  require_irql(paged ? APC_LEVEL : DISPATCH_LEVEL,
               paged ? "a paged pool allocation" : "a non-paged pool allocation");
  if (size == 0) {
    violation(kVerifierViolation, 0, "a pool allocation of zero bytes (tag %08lx)", tag);
  }
  {
    Locked lock;
    ++g_stats.attempts;
    if (g_fail_at != 0 && g_stats.attempts == g_fail_at) {
      g_injected = true;
      g_failed_tag = tag;
      g_failed_size = size;
      return nullptr;
    }
  }
  Block* b = new_block(owner, paged, size, tag);
  if (b == nullptr) return nullptr;
  if (paged) paged_add(b);
  Locked lock;
  g_live.push(b);
  b->hash_next = bucket(b->memory);
  bucket(b->memory) = b;
  ++g_stats.allocations;
  ++g_stats.live_blocks;
  g_stats.live_bytes += size;
  return b->memory;
}

const char* owner_routine(Owner owner) {
  switch (owner) {
    case Owner::kKeyName:
      return "CmCallbackReleaseKeyObjectIDEx";
    case Owner::kImageName:
      return "ExFreePool (SeLocateProcessImageName's name)";
    case Owner::kDriver:
      break;
  }
  return "ExFreePool or ExFreePoolWithTag";
}

// The checks of a free that can be made before touching the block; bugchecks on a bad one.
Block* checked_block(PVOID p, Owner how, ULONG tag, bool check_tag, const char* routine) {
  if (p == nullptr) violation(kBadPoolCaller, 0x46, "%s(NULL)", routine);
  Block* b;
  {
    Locked lock;
    b = find_locked(p);
  }
  if (b == nullptr) {
    violation(kBadPoolCaller, 0x46, "%s of %p, which the pool did not give", routine, p);
  }
  char text[5];
  tag_text(b->tag, text);
  if (b->freed) violation(kBadPoolCaller, 0x07, "%s of block '%s' freed already", routine, text);
  require_irql(b->paged ? APC_LEVEL : DISPATCH_LEVEL,
               b->paged ? "freeing a paged pool block" : "freeing a non-paged pool block");
  if (how != b->owner && !(how == Owner::kDriver && b->owner == Owner::kImageName)) {
    violation(kBadPoolCaller, 0x07, "%s of block '%s', which only %s may free", routine, text,
              owner_routine(b->owner));
  }
  if (check_tag && tag != b->tag) {
    char asked[5];
    tag_text(tag, asked);
    violation(kBadPoolCaller, 0x0A, "%s with tag '%s' of a block tagged '%s'", routine, asked,
              text);
  }
  if (!all_bytes(b->base, kRedZone, kRedZoneByte) ||
      !all_bytes(b->memory + b->size, b->base_size - kRedZone - b->size, kRedZoneByte)) {
    violation(0xC1, reinterpret_cast<ULONG_PTR>(p),
              "pool block '%s' (%llu bytes) written outside its bounds", text,
              static_cast<unsigned long long>(b->size));
  }
  return b;
}

}  // namespace

void* pool_allocate_for(Owner owner, bool paged, SIZE_T size, ULONG tag) {
  return allocate(owner, paged, size, tag);
}

void pool_release(PVOID p, Owner how, ULONG tag, bool check_tag, const char* routine) {
  Block* b = checked_block(p, how, tag, check_tag, routine);
  std::memset(b->memory, kFreedByte, b->size);  // use after free reads garbage
  if (b->paged) {
    host::paged_lock();
    host::pages_protect(b->base, b->base_size, false);
    b->resident = false;
    b->freed = true;
    host::paged_unlock();
  }
  {
    Locked lock;
    b->freed = true;
    List::remove(b);
    g_freed.push(b);
    g_freed_bytes += b->size;
    ++g_freed_count;
    --g_stats.live_blocks;
    g_stats.live_bytes -= b->size;
  }
  evict_while_over();
}

bool pool_is_paged(const void* p) {
  const auto* a = static_cast<const unsigned char*>(p);
  host::paged_lock();
  bool paged = false;
  for (Block* b = g_paged; b != nullptr && !paged; b = b->paged_next) {
    paged = !b->freed && !b->user && a >= b->memory && a < b->memory + b->size;
  }
  host::paged_unlock();
  return paged;
}

void* user_buffer_make(const void* data, SIZE_T size) {
  auto* b = static_cast<Block*>(std::calloc(1, sizeof(Block)));
  b->base_size = (size + kPage - 1) / kPage * kPage;
  b->base = static_cast<unsigned char*>(host::pages_allocate(b->base_size));
  b->memory = b->base + (b->base_size - size);  // ends at the end of its pages
  b->size = size;
  b->paged = b->user = true;
  b->origin = data;
  std::memcpy(b->memory, data, size);
  host::pages_protect(b->base, b->base_size, false);
  paged_add(b);
  return b->memory;
}

void user_buffer_free(void* buffer) {
  if (buffer == nullptr) return;
  Block* found = nullptr;
  host::paged_lock();
  for (Block* b = g_paged; b != nullptr && found == nullptr; b = b->paged_next) {
    if (b->user && b->memory == buffer) found = b;
  }
  host::paged_unlock();
  if (found != nullptr) delete_block(found);
}

const void* user_buffer_origin(const void* source) {
  const void* origin = source;
  host::paged_lock();
  for (Block* b = g_paged; b != nullptr; b = b->paged_next) {
    if (b->user && source == b->memory) origin = b->origin;
  }
  host::paged_unlock();
  return origin;
}

bool user_buffer_copy(void* target, const void* source, SIZE_T size) {
  const auto* s = static_cast<const unsigned char*>(source);
  host::paged_lock();
  Block* hit = nullptr;
  for (Block* b = g_paged; b != nullptr && hit == nullptr; b = b->paged_next) {
    if (b->user && s >= b->memory && s + size <= b->memory + b->size) hit = b;
  }
  host::paged_unlock();
  if (hit == nullptr) return false;
  // The one access allowed; outside the lock, since `target` may be paged pool that faults in.
  host::pages_protect(hit->base, hit->base_size, true);
  std::memcpy(target, source, size);
  host::pages_protect(hit->base, hit->base_size, false);
  return true;
}

void pool_trim_paged() {
  host::paged_lock();
  for (Block* b = g_paged; b != nullptr; b = b->paged_next) {
    if (b->resident && !b->user) {
      host::pages_protect(b->base, b->base_size, false);
      b->resident = false;
    }
  }
  host::paged_unlock();
}

void pool_check_freed() {
  for (;;) {
    Block* b;
    {
      Locked lock;
      b = evict_one_locked();
    }
    if (b == nullptr) return;
    check_poison(b);
    delete_block(b);
  }
}

// Live blocks by tag, as Driver Verifier names a driver's leaks when it unloads.
void pool_check_unload() {
  pool_check_freed();
  std::uint64_t blocks = 0;
  {
    Locked lock;
    blocks = g_stats.live_blocks;
  }
  if (blocks == 0) return;
  pool_print_live();
  violation(kVerifierViolation, 0x62, "the driver unloads with %llu pool block(s) not freed",
            static_cast<unsigned long long>(blocks));
}

void pool_reset() {
  pool_check_freed();
  for (;;) {
    Block* b;
    {
      Locked lock;
      if (g_live.empty()) break;
      b = g_live.oldest();
      List::remove(b);
      unhash_locked(b);
    }
    delete_block(b);
  }
  Locked lock;
  g_stats.live_blocks = g_stats.live_bytes = 0;
}

}  // namespace box::kernel

using namespace box::kernel;

namespace {
bool executable(POOL_TYPE type) {
  return type == NonPagedPool || type == NonPagedPoolMustSucceed ||
         type == NonPagedPoolCacheAligned;
}
}  // namespace

extern "C" {

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE type, SIZE_T size, ULONG tag) {
  if (executable(type)) {
    Locked lock;
    ++g_stats.executable_requests;
  }
  return allocate(Owner::kDriver, (type & 1) != 0, size, tag);
}

// ExAllocatePool2 (Windows 10 2004+), looked up by name: zeroed memory (unless
// POOL_FLAG_UNINITIALIZED), flags instead of a type, exactly one pool flag, a tag that is not 0.
PVOID NTAPI ExAllocatePool2(ULONG64 flags, SIZE_T size, ULONG tag) {
  constexpr ULONG64 kUninitialized = 0x2, kRaiseOnFailure = 0x20;
  constexpr ULONG64 kNonPaged = 0x40, kNonPagedExecute = 0x80, kPaged = 0x100;
  if ((flags & kRaiseOnFailure) != 0) KeBugCheckEx(BAD_POOL_CALLER, 0x9B, flags, 0, 0);
  const ULONG64 pool = flags & (kNonPaged | kNonPagedExecute | kPaged);
  if (pool != kNonPaged && pool != kNonPagedExecute && pool != kPaged) {
    violation(kBadPoolCaller, 0x9B, "ExAllocatePool2 with flags %llx: not one pool type",
              static_cast<unsigned long long>(flags));
  }
  if (tag == 0) violation(kBadPoolCaller, 0x9B, "ExAllocatePool2 with tag 0");
  if ((flags & kNonPagedExecute) != 0) {
    Locked lock;
    ++g_stats.executable_requests;
  }
  void* p = allocate(Owner::kDriver, pool == kPaged, size, tag);
  if (p != nullptr && (flags & kUninitialized) == 0) std::memset(p, 0, size);
  return p;
}

VOID NTAPI ExFreePoolWithTag(PVOID p, ULONG tag) {
  pool_release(p, Owner::kDriver, tag, true, "ExFreePoolWithTag");
}
VOID NTAPI ExFreePool(PVOID p) {
  pool_release(p, Owner::kDriver, 0, false, "ExFreePool");
}

}  // extern "C"

namespace box {

PoolStats pool_stats() {
  kernel::Locked lock;
  return kernel::g_stats;
}

void pool_reset_counts() {
  kernel::Locked lock;
  kernel::g_stats.allocations = kernel::g_stats.attempts = 0;
  kernel::g_stats.executable_requests = kernel::g_stats.bad_frees = 0;
  kernel::g_fail_at = 0;
  kernel::g_injected = false;
}

void pool_fail_nth(std::uint64_t n) {
  kernel::Locked lock;
  kernel::g_fail_at = n == 0 ? 0 : kernel::g_stats.attempts + n;
  kernel::g_injected = false;
}

bool pool_failure_injected() {
  kernel::Locked lock;
  return kernel::g_injected;
}

const char* pool_failed_allocation() {
  static char text[64];
  kernel::Locked lock;
  char tag[5];
  kernel::tag_text(kernel::g_failed_tag, tag);
  std::snprintf(text, sizeof text, "tag '%s', %llu bytes", tag,
                static_cast<unsigned long long>(kernel::g_failed_size));
  return text;
}

// Leaked blocks by tag: count and bytes per tag.
void pool_print_live() {
  struct ByTag {
    ULONG tag;
    std::uint64_t blocks, bytes;
  } tags[64] = {};
  int count = 0;
  {
    kernel::Locked lock;
    for (auto* b = kernel::g_live.head.next; b != &kernel::g_live.head; b = b->next) {
      int i = 0;
      while (i < count && tags[i].tag != b->tag) ++i;
      if (i == count && count < 64) tags[count++] = ByTag{b->tag, 0, 0};
      if (i < 64) ++tags[i].blocks, tags[i].bytes += b->size;
    }
  }
  for (int i = 0; i < count; ++i) {
    char tag[5];
    kernel::tag_text(tags[i].tag, tag);
    std::printf("    leaked: tag '%s': %llu block(s), %llu bytes\n", tag,
                static_cast<unsigned long long>(tags[i].blocks),
                static_cast<unsigned long long>(tags[i].bytes));
  }
}

void pool_watch_faults() {
  host::set_fault_hook(kernel::on_fault);
}

}  // namespace box
