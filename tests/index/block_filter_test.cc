// Copyright (c) Cairn authors.
#include "index/block_filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace cairn::index {
namespace {

// A full block's worth of distinct hashes: every one is found again, and
// few hashes that were not added are let through.
TEST(BlockFilterTest, NoFalseNegativesAndFewFalsePositives) {
  std::mt19937_64 rng(42);
  int let_through = 0;
  constexpr int kTrials = 200;
  constexpr int kProbesPerTrial = 1000;
  for (int trial = 0; trial < kTrials; ++trial) {
    uint8_t bits[kBlockFilterBitBytes] = {};
    std::vector<uint64_t> added;
    // The hashes of one block are a narrow, sorted run of the hash space.
    uint64_t h = rng();
    for (uint32_t i = 0; i < 128; ++i) {
      h += 1 + rng() % 4096;
      added.push_back(h);
      BlockFilter::Add(h, bits);
    }
    for (uint64_t a : added) ASSERT_TRUE(BlockFilter::MayContain(a, bits));
    for (int i = 0; i < kProbesPerTrial; ++i) {
      const uint64_t absent = added.front() + 1 + rng() % (h - added.front());
      if (std::find(added.begin(), added.end(), absent) != added.end()) {
        continue;
      }
      let_through += BlockFilter::MayContain(absent, bits) ? 1 : 0;
    }
  }
  // About 3 % in theory for 128 keys in 960 bits and five probes.
  EXPECT_LT(let_through, kTrials * kProbesPerTrial * 5 / 100);
}

TEST(BlockFilterTest, AnEmptyFilterHoldsNothing) {
  uint8_t bits[kBlockFilterBitBytes] = {};
  for (uint64_t h : {uint64_t{0}, uint64_t{7}, UINT64_MAX}) {
    EXPECT_FALSE(BlockFilter::MayContain(h, bits));
  }
}

// The bits a hash sets are part of the format (docs/format.md): fixed.
TEST(BlockFilterTest, TheProbesAreStable) {
  uint8_t bits[kBlockFilterBitBytes] = {};
  BlockFilter::Add(0x0123456789abcdefull, bits);
  std::vector<uint32_t> set;
  for (uint32_t i = 0; i < kBlockFilterBits; ++i) {
    if ((bits[i / 8] >> (i % 8)) & 1) set.push_back(i);
  }
  EXPECT_EQ(set, (std::vector<uint32_t>{173, 347, 522, 784, 958}));
}

}  // namespace
}  // namespace cairn::index
