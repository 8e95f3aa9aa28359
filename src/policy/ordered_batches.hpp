// Batches prepared on several threads and consumed in order on the caller's: the compiler's way
// of using more cores while the result stays exactly that of one thread (the consumer sees the
// same batches in the same order, whoever prepared them).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace hivewarden::policy {

// Runs prepare(k, slot) for k = 0..count-1 on `threads` threads (the caller's among them) and
// consume(k, slot) on the caller's thread for k = 0, 1, ... in order. At most 2 * threads
// batches are prepared ahead, so memory stays bounded. `prepare` may only write to its slot.
// An exception from either is rethrown to the caller once the helpers have stopped.
template <class Slot, class Prepare, class Consume>
void run_ordered_batches(std::size_t count, unsigned threads, Prepare prepare, Consume consume) {
  if (threads <= 1) {
    Slot slot;
    for (std::size_t k = 0; k < count; ++k) {
      prepare(k, slot);
      consume(k, slot);
    }
    return;
  }
  const std::size_t window = 2 * static_cast<std::size_t>(threads);
  std::vector<Slot> slots(window);
  std::vector<char> ready(count, 0);
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t next_to_prepare = 0, consumed = 0;
  bool stop = false;
  std::exception_ptr failure;

  // Under the lock: claims the next batch when its slot is free.
  const auto claim = [&](std::size_t& k) {
    if (stop || next_to_prepare >= count || next_to_prepare >= consumed + window) return false;
    k = next_to_prepare++;
    return true;
  };
  // Prepares batch k without the lock, then marks it ready (or records the failure).
  const auto prepare_unlocked = [&](std::unique_lock<std::mutex>& lock, std::size_t k) {
    lock.unlock();
    std::exception_ptr error;
    try {
      prepare(k, slots[k % window]);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    ready[k] = 1;
    if (error && !failure) failure = error;
    if (error) stop = true;
    changed.notify_all();
  };
  const auto helper = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      std::size_t k = 0;
      bool claimed = false;
      changed.wait(lock, [&] {
        claimed = claim(k);
        return claimed || stop || next_to_prepare >= count;
      });
      if (!claimed) return;
      prepare_unlocked(lock, k);
    }
  };
  std::vector<std::thread> helpers;
  // Stops and joins the helpers however this function is left.
  struct Join {
    std::mutex& mutex;
    std::condition_variable& changed;
    bool& stop;
    std::vector<std::thread>& helpers;
    ~Join() {
      {
        std::lock_guard<std::mutex> lock(mutex);
        stop = true;
      }
      changed.notify_all();
      for (std::thread& t : helpers) t.join();
    }
  } join{mutex, changed, stop, helpers};
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(helper);

  std::unique_lock<std::mutex> lock(mutex);
  for (std::size_t k = 0; k < count; ++k) {
    while (ready[k] == 0 && !failure) {
      std::size_t j = 0;
      if (claim(j)) {
        prepare_unlocked(lock, j);  // nothing ready to consume: help prepare
      } else {
        changed.wait(lock);
      }
    }
    if (failure) {
      lock.unlock();
      std::rethrow_exception(failure);
    }
    lock.unlock();
    consume(k, slots[k % window]);
    lock.lock();
    consumed = k + 1;
    changed.notify_all();
  }
}

}  // namespace hivewarden::policy
