// Copyright (c) Cairn authors.
#include "engine/src/scavenge_pacer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cairn::engine {
namespace {

using Clock = ScavengePacer::Clock;
using std::chrono::hours;
using std::chrono::milliseconds;

TEST(ScavengePacerTest, RestsSoThatTheWorkIsItsShareOfTheTime) {
  EXPECT_EQ(ScavengePacer::RestFor(milliseconds(10), 50), milliseconds(10));
  EXPECT_EQ(ScavengePacer::RestFor(milliseconds(10), 25), milliseconds(30));
  EXPECT_EQ(ScavengePacer::RestFor(milliseconds(10), 1), milliseconds(990));
  EXPECT_EQ(ScavengePacer::RestFor(milliseconds(10), 100), milliseconds(0));
  EXPECT_EQ(ScavengePacer::RestFor(milliseconds(0), 1), milliseconds(0));
}

// A test clock that moves an hour whenever it is read: every piece of
// work took an hour, so at 1 percent each rest would be 99 hours.
class HourClock {
 public:
  Clock::time_point Now() {
    now_ += hours(1);
    return now_;
  }

 private:
  Clock::time_point now_{};
};

struct StopSignal {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> stop{false};
  void Stop() {
    std::lock_guard<std::mutex> lock(mu);
    stop.store(true);
    cv.notify_all();
  }
};

TEST(ScavengePacerTest, AtAHundredPercentItNeverRests) {
  StopSignal signal;
  HourClock clock;
  ScavengePacer pacer(100, &signal.mu, &signal.cv, &signal.stop,
                      [&clock] { return clock.Now(); });
  // Would wait 99 hours per call at 1 percent; returns at once here.
  for (int i = 0; i < 3; ++i) pacer.Rest();
  EXPECT_EQ(pacer.rested(), Clock::duration::zero());
}

TEST(ScavengePacerTest, AStopEndsARestAndLaterRestsAreSkipped) {
  StopSignal signal;
  HourClock clock;
  std::atomic<bool> resting{false};
  ScavengePacer pacer(1, &signal.mu, &signal.cv, &signal.stop, [&] {
    resting.store(true);
    return clock.Now();
  });
  resting.store(false);  // the constructor read the clock
  std::thread stopper([&] {
    // The pacer reads the clock as the piece of work ends, before it
    // rests: a stop from then on either comes before the wait (which then
    // does not start) or wakes it. Spinning here is not a timing
    // assumption: the pacer reads the clock without waiting for anything.
    while (!resting.load()) std::this_thread::yield();
    signal.Stop();
  });
  pacer.Rest();  // 99 hours unless the stop ends it
  stopper.join();
  // The test clock moved one hour while "resting".
  EXPECT_EQ(pacer.rested(), hours(1));
  pacer.Rest();  // stopped: returns at once (the test clock still moves)
  EXPECT_EQ(pacer.rested(), hours(2));
}

}  // namespace
}  // namespace cairn::engine
