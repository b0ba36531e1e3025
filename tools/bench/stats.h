// Copyright (c) Cairn authors.
//
// Latency statistics for `cairn bench`: a log-bucketed histogram in the
// spirit of HDR histograms. Recording is a few arithmetic operations and one
// increment into a preallocated bucket array, so the hot loop of a
// benchmark never allocates and the histogram costs the same whether it
// holds ten samples or ten million.
#ifndef CAIRN_TOOLS_BENCH_STATS_H_
#define CAIRN_TOOLS_BENCH_STATS_H_

#include <chrono>
#include <cstdint>
#include <vector>

namespace cairn::tools::bench {

// Nanoseconds of a monotonic clock.
inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Values (nanoseconds, but any unit works) below 2^kSubBucketBits are
// counted exactly; above, each power-of-two range is split into
// 2^kSubBucketBits equal buckets, so a reported percentile is within
// 1/2^kSubBucketBits (0.8 %) of a value that was recorded.
class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;

  LatencyHistogram();

  void Record(uint64_t value) {
    ++counts_[BucketOf(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double Mean() const;
  // The smallest recorded value v such that at least fraction `q` of the
  // samples are <= v, to within the bucket resolution (0 when empty).
  // q = 0.5 is the median, 0.999 the 99.9th percentile.
  uint64_t Percentile(double q) const;

  // Exposed for tests of the bucketing.
  static size_t BucketOf(uint64_t value);
  // The largest value that falls into `bucket`.
  static uint64_t BucketUpperBound(size_t bucket);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_STATS_H_
