// Copyright (c) Cairn authors.
//
// Keeps a fixed number of asynchronous operations in flight until a
// deadline: each completion records its latency and starts the next
// operation, so the client is never the reason for a gap. Completions run on
// gRPC's callback threads; Run() blocks the calling thread until the last
// operation finished.
#ifndef CAIRN_BENCH_SERVE_IN_FLIGHT_H_
#define CAIRN_BENCH_SERVE_IN_FLIGHT_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "tools/bench/stats.h"

namespace cairn::bench::serve {

class InFlight {
 public:
  // `start(start_ns)` begins one operation whose completion calls
  // Finish(start_ns, ...) exactly once, from any thread.
  using Starter = std::function<void(int64_t start_ns)>;

  // Stops starting operations after `seconds`, or once `max_operations`
  // were started when it is not 0.
  InFlight(int limit, double seconds, Starter start,
           uint64_t max_operations = 0);

  // Starts `limit` operations and returns once the deadline passed (or an
  // operation failed) and every started operation finished.
  void Run();

  // One operation is complete: it took from `start_ns` until now, and
  // stored or read `events` events. A non-empty `error` stops the run.
  void Finish(int64_t start_ns, uint64_t events, const std::string& error);

  const tools::bench::LatencyHistogram& latency_ns() const {
    return latency_ns_;
  }
  uint64_t events() const { return events_; }
  uint64_t operations() const { return latency_ns_.count(); }
  // From Run's start to the last completion.
  double seconds() const { return (last_ns_ - begin_ns_) / 1e9; }
  const std::string& error() const { return error_; }

 private:
  const int limit_;
  const double seconds_;
  const Starter start_;
  const uint64_t max_operations_;
  uint64_t started_ = 0;
  std::mutex mu_;
  std::condition_variable idle_;
  int outstanding_ = 0;
  int64_t begin_ns_ = 0;
  int64_t deadline_ns_ = 0;
  int64_t last_ns_ = 0;
  uint64_t events_ = 0;
  tools::bench::LatencyHistogram latency_ns_;
  std::string error_;
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_IN_FLIGHT_H_
