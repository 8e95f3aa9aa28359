// A fixed set of worker threads running tasks in parallel whose results are taken back in the order
// the tasks were submitted, with at most a fixed number of tasks in flight (submitted, not yet
// taken), so the memory they hold stays bounded however long the input.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace hivewarden::util {

template <typename Result>
class OrderedPool {
 public:
  OrderedPool(unsigned workers, std::size_t max_in_flight)
      : max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight) {
    try {
      for (unsigned i = 0; i < (workers == 0 ? 1 : workers); ++i)
        threads_.emplace_back([this] { work(); });
    } catch (...) {  // std::system_error when no thread can be started: stop those that were
      stop();
      throw;
    }
  }
  ~OrderedPool() { stop(); }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  // The submitter must take() the oldest result before submitting more once full().
  bool full() const {
    std::lock_guard lock(mutex_);
    return slots_.size() >= max_in_flight_;
  }
  bool empty() const {
    std::lock_guard lock(mutex_);
    return slots_.empty();
  }
  void submit(std::function<Result()> task) {
    {
      std::lock_guard lock(mutex_);
      slots_.emplace_back().task = std::move(task);
    }
    wake_workers_.notify_one();
  }
  // The result of the oldest task not yet taken, waiting for it; a task's exception is rethrown.
  Result take() {
    std::unique_lock lock(mutex_);
    result_ready_.wait(lock, [this] { return slots_.front().done; });
    Slot slot = std::move(slots_.front());
    slots_.pop_front();
    lock.unlock();
    if (slot.failure) std::rethrow_exception(slot.failure);
    return std::move(*slot.result);
  }

 private:
  struct Slot {
    std::function<Result()> task;
    std::optional<Result> result;
    std::exception_ptr failure;
    bool started = false, done = false;
  };

  // Lets the running tasks finish and drops the ones not started.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_workers_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  void work() {
    std::unique_lock lock(mutex_);
    while (true) {
      Slot* slot = nullptr;
      wake_workers_.wait(lock, [&] { return stopping_ || (slot = next_unstarted()) != nullptr; });
      if (slot == nullptr) return;  // stopping, nothing left to start
      slot->started = true;
      std::function<Result()> task = std::move(slot->task);
      lock.unlock();
      std::optional<Result> result;
      std::exception_ptr failure;
      try {
        result.emplace(task());
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      // A deque keeps references to its other elements across push_back and pop_front, and this
      // slot cannot be popped before it is done.
      slot->result = std::move(result);
      slot->failure = failure;
      slot->done = true;
      result_ready_.notify_all();
    }
  }
  Slot* next_unstarted() {
    for (Slot& s : slots_) {
      if (!s.started) return &s;
    }
    return nullptr;
  }

  const std::size_t max_in_flight_;
  mutable std::mutex mutex_;
  std::condition_variable wake_workers_, result_ready_;
  std::deque<Slot> slots_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hivewarden::util
