// Copyright (c) Cairn authors.
#include "index/block_filter.h"

#include <xxhash.h>

namespace cairn::index {
namespace {

// "CAIRNFLT" read as a little-endian u64.
constexpr uint64_t kFilterKeySeed = 0x544c464e52494143ull;

// The probes of `hash`: double hashing over a remix of it. The remix
// matters because the hashes of one block share their high bits (the
// block holds a narrow run of the sorted hash space).
template <typename Fn>
void ForEachProbe(uint64_t hash, Fn&& fn) {
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(hash >> (8 * i));
  const uint64_t key = XXH3_64bits_withSeed(le, sizeof(le), kFilterKeySeed);
  const auto a = static_cast<uint32_t>(key);
  const auto b = static_cast<uint32_t>(key >> 32);
  for (uint32_t j = 0; j < kBlockFilterProbes; ++j) {
    const uint32_t g = a + j * b;  // mod 2^32
    // Maps g onto [0, kBlockFilterBits) without a division.
    fn(static_cast<uint32_t>((uint64_t{g} * kBlockFilterBits) >> 32));
  }
}

}  // namespace

void BlockFilter::Add(uint64_t hash, uint8_t* bits) {
  ForEachProbe(hash, [bits](uint32_t bit) {
    bits[bit / 8] = static_cast<uint8_t>(bits[bit / 8] | (1u << (bit % 8)));
  });
}

bool BlockFilter::MayContain(uint64_t hash, const uint8_t* bits) {
  bool all = true;
  ForEachProbe(hash, [bits, &all](uint32_t bit) {
    all = all && (bits[bit / 8] & (1u << (bit % 8))) != 0;
  });
  return all;
}

}  // namespace cairn::index
