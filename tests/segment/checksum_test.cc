// Copyright (c) Cairn authors.
#include "segment/checksum.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cairn::segment {
namespace {

TEST(ChecksumTest, DeterministicAndSeeded) {
  const std::string text = "an event store";
  const uint64_t a = Checksum64(text.data(), text.size(), 1);
  EXPECT_EQ(a, Checksum64(text.data(), text.size(), 1));
  EXPECT_NE(a, Checksum64(text.data(), text.size(), 2));
  EXPECT_NE(a, Checksum64(text.data(), text.size() - 1, 1));
}

TEST(ChecksumTest, EveryBitFlipChangesTheChecksum) {
  std::string bytes(64, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  const uint64_t base = Checksum64(bytes.data(), bytes.size(), 42);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes[i] = static_cast<char>(bytes[i] ^ (1 << bit));
      EXPECT_NE(base, Checksum64(bytes.data(), bytes.size(), 42))
          << "byte " << i << " bit " << bit;
      bytes[i] = static_cast<char>(bytes[i] ^ (1 << bit));
    }
  }
}

TEST(ChecksumTest, EmptyInputDependsOnSeed) {
  EXPECT_NE(Checksum64(nullptr, 0, 1), Checksum64(nullptr, 0, 2));
}

TEST(SegmentSeedTest, DistinctPerStoreAndSegmentAndNeverZero) {
  std::set<uint64_t> seeds;
  for (uint64_t store : {0ull, 1ull, 0xdeadbeefull, ~0ull}) {
    for (uint64_t segment = 0; segment < 64; ++segment) {
      const uint64_t seed = SegmentSeed(store, segment);
      EXPECT_NE(seed, 0u);
      EXPECT_EQ(seed, SegmentSeed(store, segment));
      EXPECT_TRUE(seeds.insert(seed).second) << store << "/" << segment;
    }
  }
  // Swapping the two identities must not give the same seed.
  EXPECT_NE(SegmentSeed(1, 2), SegmentSeed(2, 1));
}

}  // namespace
}  // namespace cairn::segment
