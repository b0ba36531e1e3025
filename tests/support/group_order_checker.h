// Copyright (c) Cairn authors.
//
// For consumer-group tests: checks that each stream's events are
// acknowledged in revision order, each once, counts them, and lets a test
// wait for a count (instead of sleeping).
#ifndef CAIRN_TESTS_SUPPORT_GROUP_ORDER_CHECKER_H_
#define CAIRN_TESTS_SUPPORT_GROUP_ORDER_CHECKER_H_

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "cairn/event.h"

namespace cairn::testing {

class OrderChecker {
 public:
  void Acked(const RecordedEvent& e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      uint64_t& next = next_[e.stream];
      EXPECT_EQ(e.revision.value(), next) << e.stream << " out of order";
      next = e.revision.value() + 1;
      ++acked_;
    }
    cv_.notify_all();
  }
  uint64_t acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  // Waits until at least `n` were acknowledged; false if `limit` (a guard
  // against hangs, not a timing check) passed first.
  bool WaitFor(uint64_t n, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return acked_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, uint64_t> next_;
  uint64_t acked_ = 0;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_GROUP_ORDER_CHECKER_H_
