// Copyright (c) Cairn authors.
//
// The lock-free power-of-two histogram: bucket boundaries, cumulative
// snapshots, and the total that always equals the +Inf bucket.
#include "engine/src/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cairn::engine {
namespace {

TEST(HistogramTest, ValuesFallInTheFirstBucketWhoseBoundHoldsThem) {
  EXPECT_EQ(Histogram::BucketOf(0), 0);
  EXPECT_EQ(Histogram::BucketOf(1), 0);
  EXPECT_EQ(Histogram::BucketOf(2), 1);
  EXPECT_EQ(Histogram::BucketOf(3), 2);
  EXPECT_EQ(Histogram::BucketOf(4), 2);
  EXPECT_EQ(Histogram::BucketOf(5), 3);
  EXPECT_EQ(Histogram::BucketOf(uint64_t{1} << 31), 31);
  EXPECT_EQ(Histogram::BucketOf((uint64_t{1} << 31) + 1), Histogram::kBuckets);
  EXPECT_EQ(Histogram::BucketOf(~uint64_t{0}), Histogram::kBuckets);
}

TEST(HistogramTest, SnapshotIsCumulativeWithSumAndCount) {
  Histogram h;
  for (uint64_t v : {1, 2, 3, 4, 100, 5000}) h.Record(v);
  HistogramSnapshot s = h.Snapshot(8);  // bounds 1 .. 128
  ASSERT_EQ(s.upper_bounds.size(), 8u);
  ASSERT_EQ(s.cumulative_counts.size(), 8u);
  EXPECT_EQ(s.upper_bounds.front(), 1u);
  EXPECT_EQ(s.upper_bounds.back(), 128u);
  // <=1: {1}; <=2: +{2}; <=4: +{3,4}; <=128: +{100}.
  EXPECT_EQ(s.cumulative_counts,
            (std::vector<uint64_t>{1, 2, 4, 4, 4, 4, 4, 5}));
  // 5000 is above the last reported bound: only in the total.
  EXPECT_EQ(s.count, 6u);
  EXPECT_EQ(s.sum, 1u + 2 + 3 + 4 + 100 + 5000);
}

TEST(HistogramTest, ConcurrentRecordsAreAllCounted) {
  Histogram h;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) {
        h.Record(static_cast<uint64_t>(t) * 1000 + i % 7);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  for (size_t i = 1; i < s.cumulative_counts.size(); ++i) {
    EXPECT_LE(s.cumulative_counts[i - 1], s.cumulative_counts[i]);
  }
  EXPECT_EQ(s.cumulative_counts.back(), s.count);
}

}  // namespace
}  // namespace cairn::engine
