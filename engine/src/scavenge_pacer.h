// Copyright (c) Cairn authors.
//
// The scavenge's throttle (ScavengeOptions::throttle_percent, KurrentDB's
// throttlePercent): after each piece of work the scavenging thread rests
// in proportion to the time the piece took, so that it works that share
// of the wall time and leaves the disk and the CPUs to appends and reads
// for the rest. A stop (StopScavenge, Close) ends a rest at once.
#ifndef CAIRN_ENGINE_SRC_SCAVENGE_PACER_H_
#define CAIRN_ENGINE_SRC_SCAVENGE_PACER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace cairn::engine {

class ScavengePacer {
 public:
  using Clock = std::chrono::steady_clock;

  // The rest after `worked` that makes the work `percent` (1 to 100) of
  // the time: worked * (100 - percent) / percent.
  static Clock::duration RestFor(Clock::duration worked, uint32_t percent);

  // Rests wait on `cv` with `mu` until `stop` is set; whoever sets it does
  // so under `mu` and then notifies `cv`. `now` is the clock the work is
  // timed with (tests pass their own).
  ScavengePacer(uint32_t percent, std::mutex* mu, std::condition_variable* cv,
                const std::atomic<bool>* stop,
                std::function<Clock::time_point()> now = &Clock::now);

  // Ends a piece of work: rests RestFor(the time since the previous Rest,
  // or since construction) unless `stop` is set, and returns early when
  // it is set during the rest. At 100 percent returns at once.
  void Rest();

  // The time rested so far, by `now`'s clock.
  Clock::duration rested() const { return rested_; }

 private:
  const uint32_t percent_;
  std::mutex* const mu_;
  std::condition_variable* const cv_;
  const std::atomic<bool>* const stop_;
  const std::function<Clock::time_point()> now_;
  Clock::time_point work_started_;
  Clock::duration rested_{0};
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SCAVENGE_PACER_H_
