// Copyright (c) Cairn authors.
#include "engine/src/histogram.h"

#include <algorithm>
#include <bit>

namespace cairn::engine {

int Histogram::BucketOf(uint64_t value) {
  if (value <= 1) return 0;
  // value in (2^(k-1), 2^k] falls in bucket k.
  return std::min(static_cast<int>(std::bit_width(value - 1)), kBuckets);
}

void Histogram::Record(uint64_t value) {
  counts_[static_cast<size_t>(BucketOf(value))].fetch_add(
      1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot(int buckets) const {
  buckets = std::clamp(buckets, 0, kBuckets);
  HistogramSnapshot out;
  out.upper_bounds.reserve(static_cast<size_t>(buckets));
  out.cumulative_counts.reserve(static_cast<size_t>(buckets));
  uint64_t running = 0;
  for (int i = 0; i <= kBuckets; ++i) {
    running += counts_[static_cast<size_t>(i)].load(std::memory_order_relaxed);
    if (i < buckets) {
      out.upper_bounds.push_back(uint64_t{1} << i);
      out.cumulative_counts.push_back(running);
    }
  }
  out.count = running;
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace cairn::engine
