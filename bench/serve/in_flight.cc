// Copyright (c) Cairn authors.
#include "bench/serve/in_flight.h"

#include <utility>

namespace cairn::bench::serve {

using tools::bench::NowNanos;

InFlight::InFlight(int limit, double seconds, Starter start,
                   uint64_t max_operations)
    : limit_(max_operations != 0 &&
                     max_operations < static_cast<uint64_t>(limit)
                 ? static_cast<int>(max_operations)
                 : limit),
      seconds_(seconds),
      start_(std::move(start)),
      max_operations_(max_operations) {}

void InFlight::Run() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    begin_ns_ = NowNanos();
    last_ns_ = begin_ns_;
    deadline_ns_ = begin_ns_ + static_cast<int64_t>(seconds_ * 1e9);
    outstanding_ = limit_;
    started_ = static_cast<uint64_t>(limit_);
  }
  for (int i = 0; i < limit_; ++i) start_(NowNanos());
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return outstanding_ == 0; });
}

void InFlight::Finish(int64_t start_ns, uint64_t events,
                      const std::string& error) {
  const int64_t now = NowNanos();
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_ns_ = now;
    if (!error.empty()) {
      if (error_.empty()) error_ = error;
    } else {
      latency_ns_.Record(static_cast<uint64_t>(now - start_ns));
      events_ += events;
    }
    if (!error_.empty() || now >= deadline_ns_ ||
        (max_operations_ != 0 && started_ >= max_operations_)) {
      if (--outstanding_ == 0) idle_.notify_all();
      return;
    }
    ++started_;
  }
  // Outside the lock: a start may complete synchronously and call Finish.
  start_(NowNanos());
}

}  // namespace cairn::bench::serve
