// Copyright (c) Cairn authors.
//
// Helpers of the consumer group tests: a clock the test moves by hand,
// and receiving a known number of deliveries.
#ifndef CAIRN_TESTS_SUPPORT_GROUP_TEST_UTIL_H_
#define CAIRN_TESTS_SUPPORT_GROUP_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cairn/cairn.h"

namespace cairn::testing {

// Guards against hangs only.
inline constexpr std::chrono::seconds kGroupWait{60};

// A clock the test moves by hand; the group reads it on its own thread.
class FakeClock {
 public:
  std::function<std::chrono::steady_clock::time_point()> Fn() {
    return [this] {
      return std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(now_ns_.load()));
    };
  }
  void Advance(std::chrono::milliseconds by) {
    now_ns_ += std::chrono::nanoseconds(by).count();
  }

 private:
  std::atomic<int64_t> now_ns_{1'000'000'000};
};

// Receives until `n` deliveries arrived.
inline std::vector<GroupDelivery> ReceiveN(GroupMember& member, size_t n) {
  std::vector<GroupDelivery> out;
  while (out.size() < n) {
    auto got = member.ReceiveDeliveries(n - out.size(), kGroupWait);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || got->empty()) break;
    for (GroupDelivery& d : *got) out.push_back(std::move(d));
  }
  return out;
}

// "<stream>@<revision>".
inline std::string Key(const RecordedEvent& e) {
  std::string key = e.stream;
  key += '@';
  key += std::to_string(e.revision.value());
  return key;
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_GROUP_TEST_UTIL_H_
