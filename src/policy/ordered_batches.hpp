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

template <class Slot, class Prepare>
class OrderedBatches {
 public:
  OrderedBatches(std::size_t count, unsigned threads, Prepare& prepare)
      : count_(count),
        window_(2 * static_cast<std::size_t>(threads)),
        prepare_(prepare),
        slots_(window_),
        ready_(count, 0) {}

  // Consumes every batch in order on this thread while `threads - 1` helpers prepare ahead.
  template <class Consume>
  void run(unsigned threads, Consume& consume) {
    // However run is left (a thread that fails to start included), the helpers are told to
    // stop in the destructor's body and joined after it, as the vector goes.
    struct Helpers {
      OrderedBatches& self;
      std::vector<std::jthread> threads;
      ~Helpers() { self.stop(); }
    } helpers{*this, {}};
    for (unsigned t = 1; t < threads; ++t) helpers.threads.emplace_back([this] { help(); });
    for (std::size_t k = 0; k < count_; ++k) {
      wait_until_ready(k);
      consume(k, slots_[k % window_]);
      const std::lock_guard<std::mutex> lock(mutex_);
      consumed_ = k + 1;
      changed_.notify_all();
    }
  }

 private:
  // Under the lock: claims the next batch when its slot is free.
  bool claim(std::size_t& k) {
    if (stop_ || next_ >= count_ || next_ >= consumed_ + window_) return false;
    k = next_++;
    return true;
  }

  // Prepares batch k without the lock, then marks it ready (or keeps the failure).
  void prepare(std::unique_lock<std::mutex>& lock, std::size_t k) {
    lock.unlock();
    std::exception_ptr error;
    try {
      prepare_(k, slots_[k % window_]);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    ready_[k] = 1;
    if (error && !failure_) failure_ = error;
    if (error) stop_ = true;
    changed_.notify_all();
  }

  void help() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      std::size_t k = 0;
      bool claimed = false;
      changed_.wait(lock, [&] {
        claimed = claim(k);
        return claimed || stop_ || next_ >= count_;
      });
      if (!claimed) return;
      prepare(lock, k);
    }
  }

  // Helps prepare while batch k is not ready; rethrows a failure from any thread.
  void wait_until_ready(std::size_t k) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (ready_[k] == 0 && !failure_) {
      std::size_t j = 0;
      if (claim(j)) {
        prepare(lock, j);
      } else {
        changed_.wait(lock);
      }
    }
    if (failure_) std::rethrow_exception(failure_);
  }

  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
  }

  const std::size_t count_, window_;
  Prepare& prepare_;
  std::vector<Slot> slots_;
  std::vector<char> ready_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t next_ = 0, consumed_ = 0;  // the next batch to prepare; batches consumed
  bool stop_ = false;
  std::exception_ptr failure_;
};

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
  OrderedBatches<Slot, Prepare> batches(count, threads, prepare);
  batches.run(threads, consume);
}

}  // namespace hivewarden::policy
