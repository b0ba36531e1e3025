// Copyright (c) Cairn authors.
//
// A histogram with fixed power-of-two buckets (1, 2, 4, ... 2^(n-1)) that
// any thread records into with relaxed atomic increments and no lock, so
// the hot paths (the commit thread) measure without waiting on readers.
#ifndef CAIRN_ENGINE_SRC_HISTOGRAM_H_
#define CAIRN_ENGINE_SRC_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "cairn/store_metrics.h"

namespace cairn::engine {

class Histogram {
 public:
  // Buckets with upper bounds 2^0 .. 2^(kBuckets-1); larger values count
  // only in the total (Prometheus' +Inf bucket).
  static constexpr int kBuckets = 32;

  Histogram() = default;
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Record(uint64_t value);
  // Cumulative counts for the first `buckets` bounds (at most kBuckets).
  // count is the sum of the buckets read, so the +Inf bucket always
  // equals it even while other threads record.
  HistogramSnapshot Snapshot(int buckets = kBuckets) const;

  // The bucket `value` falls in (kBuckets: above every bound).
  static int BucketOf(uint64_t value);

 private:
  std::array<std::atomic<uint64_t>, kBuckets + 1> counts_{};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_HISTOGRAM_H_
