// Waiting in tests for something another thread or process brings about (a connection, records
// received): polled, never longer than a stated limit.
#pragma once

#include <chrono>
#include <thread>

namespace hivewarden::test {

// True as soon as `condition()` is; false when it still is not after `limit` (asked once more at
// the end, so that a slow machine's last chance counts).
template <class Condition>
bool eventually(Condition condition,
                std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace hivewarden::test
