// Copyright (c) Cairn authors.
#include "engine/src/scavenge_pacer.h"

#include <utility>

namespace cairn::engine {

ScavengePacer::Clock::duration ScavengePacer::RestFor(Clock::duration worked,
                                                      uint32_t percent) {
  if (percent == 0 || percent >= 100 || worked <= Clock::duration::zero()) {
    return Clock::duration::zero();
  }
  return worked * (100 - percent) / percent;
}

ScavengePacer::ScavengePacer(uint32_t percent, std::mutex* mu,
                             std::condition_variable* cv,
                             const std::atomic<bool>* stop,
                             std::function<Clock::time_point()> now)
    : percent_(percent),
      mu_(mu),
      cv_(cv),
      stop_(stop),
      now_(std::move(now)),
      work_started_(now_()) {}

void ScavengePacer::Rest() {
  if (percent_ >= 100) return;
  const Clock::time_point worked_until = now_();
  const Clock::duration rest = RestFor(worked_until - work_started_, percent_);
  if (rest > Clock::duration::zero()) {
    // The wait runs on the real clock whatever `now_` is; a rest of a
    // test's clock ends only by a stop.
    std::unique_lock<std::mutex> lock(*mu_);
    cv_->wait_for(lock, rest, [this] { return stop_->load(); });
  }
  const Clock::time_point rested_until = now_();
  rested_ += rested_until - worked_until;
  work_started_ = rested_until;
}

}  // namespace cairn::engine
