// Copyright (c) Cairn authors.
#include "segment/checksum.h"

#include <gtest/gtest.h>

#include <algorithm>
#define XXH_STATIC_LINKING_ONLY  // XXH3_generateSecret_fromSeed
#include <xxhash.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "segment/checksum_long.h"

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

// The stored checksums are XXH3_64bits_withSeed's (docs/format.md): the
// faster code must give the library's answer for every length, also when
// seeds alternate (the per-thread secret is then derived again), and at
// every alignment.
TEST(ChecksumTest, EqualsTheLibrarysSeededXxh3) {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> bytes(4200);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  const uint64_t seeds[] = {1, 0x43414952, rng(), rng(), ~0ull};
  for (size_t size = 0; size <= 4096; ++size) {
    for (uint64_t seed : seeds) {
      const uint8_t* data = bytes.data() + (size % 61);
      ASSERT_EQ(Checksum64(data, size, seed),
                XXH3_64bits_withSeed(data, size, seed))
          << "size " << size << " seed " << seed;
    }
  }
  const std::vector<uint8_t> big(1 << 20, 0x5a);
  EXPECT_EQ(Checksum64(big.data(), big.size(), 99),
            XXH3_64bits_withSeed(big.data(), big.size(), 99));
}

// A checksum given its input in pieces equals the one-call checksum of the
// whole, however the input is cut.
TEST(ChecksumTest, StreamingEqualsTheWholeInput) {
  std::mt19937_64 rng(11);
  std::vector<uint8_t> bytes(20000);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  for (size_t size : {size_t{0}, size_t{1}, size_t{240}, size_t{241},
                      size_t{4096}, bytes.size()}) {
    for (size_t piece : {size_t{1}, size_t{7}, size_t{256}, size_t{4096}}) {
      for (uint64_t seed : {uint64_t{0}, uint64_t{0x43414952}}) {
        StreamingChecksum64 stream(seed);
        for (size_t done = 0; done < size; done += piece) {
          stream.Update(bytes.data() + done, std::min(piece, size - done));
        }
        EXPECT_EQ(stream.Digest(), Checksum64(bytes.data(), size, seed))
            << "size " << size << " piece " << piece << " seed " << seed;
      }
    }
  }
}

// Both long-input paths (the baseline one and, where built, the AVX2 one)
// agree with the library, whichever the CPU makes Checksum64 use.
TEST(ChecksumTest, BaselineAndAvx2PathsAgree) {
  std::vector<uint8_t> bytes(3000);
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(i * 131 + 17);
  }
  const uint64_t seed = 0x1234567890abcdefull;
  alignas(64) unsigned char secret[XXH3_SECRET_DEFAULT_SIZE];
  XXH3_generateSecret_fromSeed(secret, seed);
  for (size_t size : {241, 290, 1000, 1024, 2999}) {
    const uint64_t want = XXH3_64bits_withSeed(bytes.data(), size, seed);
    EXPECT_EQ(LongChecksum64(bytes.data(), size, secret, sizeof(secret), seed),
              want);
    EXPECT_EQ(LongChecksum64Baseline(bytes.data(), size, secret, sizeof(secret),
                                     seed),
              want);
    if (LongChecksumHasAvx2()) {
      EXPECT_EQ(
          LongChecksum64Avx2(bytes.data(), size, secret, sizeof(secret), seed),
          want);
    }
  }
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
