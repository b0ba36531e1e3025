// Copyright (c) Cairn authors.
#include "bench/serve/in_flight.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace cairn::bench::serve {
namespace {

// Long enough that only max_operations or an error ends a run.
constexpr double kLong = 3600;

struct SyncOutcome {
  int started = 0;
  uint64_t operations = 0;
  uint64_t events = 0;
  std::string error;
};

// Runs an InFlight whose operations complete inside their own start, each
// with `events_each` events; operation number `error_at` (from 1; 0 for
// none) fails.
SyncOutcome RunSynchronously(int limit, uint64_t max_operations,
                             uint64_t events_each, int error_at) {
  InFlight* run_ptr = nullptr;
  SyncOutcome outcome;
  InFlight run(
      limit, kLong,
      [&](int64_t start_ns) {
        ++outcome.started;
        run_ptr->Finish(start_ns, events_each,
                        outcome.started == error_at ? "boom" : "");
      },
      max_operations);
  run_ptr = &run;
  run.Run();
  outcome.operations = run.operations();
  outcome.events = run.events();
  outcome.error = run.error();
  return outcome;
}

TEST(InFlightTest, StopsAfterMaxOperationsAndCountsEvents) {
  const SyncOutcome outcome = RunSynchronously(4, 10, 3, 0);
  EXPECT_EQ(outcome.started, 10);
  EXPECT_EQ(outcome.operations, 10u);
  EXPECT_EQ(outcome.events, 30u);
  EXPECT_TRUE(outcome.error.empty());
}

TEST(InFlightTest, KeepsTheLimitInFlight) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<int64_t> pending;  // started, not finished
  size_t most_pending = 0;
  InFlight run(
      3, kLong,
      [&](int64_t start_ns) {
        std::lock_guard<std::mutex> lock(mu);
        pending.push_back(start_ns);
        most_pending = std::max(most_pending, pending.size());
        cv.notify_all();
      },
      5);
  std::thread runner([&run] { run.Run(); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return pending.size() == 3; });
  }
  // Finish operations one at a time, from this thread, as a server would
  // answer them; each finish starts the next until five were started.
  for (int finished = 0; finished < 5; ++finished) {
    int64_t start_ns = 0;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !pending.empty(); });
      start_ns = pending.front();
      pending.pop_front();
    }
    run.Finish(start_ns, 1, "");
  }
  runner.join();
  EXPECT_EQ(most_pending, 3u);
  EXPECT_EQ(run.operations(), 5u);
  EXPECT_TRUE(pending.empty());
}

TEST(InFlightTest, AnErrorStopsTheRunAndIsReported) {
  const SyncOutcome outcome = RunSynchronously(1, 100, 1, 3);
  EXPECT_EQ(outcome.started, 3);
  EXPECT_EQ(outcome.operations, 2u);
  EXPECT_EQ(outcome.events, 2u);
  EXPECT_EQ(outcome.error, "boom");
}

TEST(InFlightTest, FewerOperationsThanTheLimit) {
  const SyncOutcome outcome = RunSynchronously(8, 2, 1, 0);
  EXPECT_EQ(outcome.started, 2);
  EXPECT_EQ(outcome.operations, 2u);
}

}  // namespace
}  // namespace cairn::bench::serve
