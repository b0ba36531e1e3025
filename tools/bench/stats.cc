// Copyright (c) Cairn authors.
#include "tools/bench/stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cairn::tools::bench {
namespace {

constexpr uint64_t kSubBuckets = uint64_t{1}
                                 << LatencyHistogram::kSubBucketBits;
// Exact buckets for [0, kSubBuckets), then kSubBuckets per power of two
// from 2^kSubBucketBits up to 2^63.
constexpr size_t kBucketCount =
    kSubBuckets * (64 - LatencyHistogram::kSubBucketBits + 1);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(value);
  const int top_bit = 63 - std::countl_zero(value);
  const int shift = top_bit - kSubBucketBits;
  // The kSubBucketBits bits below the top bit pick the sub-bucket.
  const uint64_t sub = (value >> shift) - kSubBuckets;
  return static_cast<size_t>((static_cast<uint64_t>(shift) + 1) * kSubBuckets +
                             sub);
}

uint64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const uint64_t shift = bucket / kSubBuckets - 1;
  const uint64_t sub = bucket % kSubBuckets;
  const uint64_t low = (kSubBuckets + sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0.0
                     : static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the sample asked for, 1-based; at least the first sample.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  // The extremes are known exactly.
  if (rank == 1) return min_;
  if (rank >= count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The bucket's upper bound over-reports by at most one bucket width;
      // the exact extremes are known, so never report outside them.
      return std::clamp(BucketUpperBound(i), min_, max_);
    }
  }
  return max_;
}

}  // namespace cairn::tools::bench
