// Copyright (c) Cairn authors.
//
// The filter of one index entry block (docs/format.md, "Block filters"): a
// 960-bit Bloom filter of the stream hashes in the block, so a lookup of a
// stream the block lacks skips the block without reading and checksumming
// its 4 KiB. Sized for the worst case, 128 distinct hashes in a block, at
// 7.5 bits each and five probes: at most about 3 % of such lookups read the
// block anyway, far fewer when streams have several events in a block.
//
// A filter never answers "absent" for a hash it was given: that would be a
// wrong answer (a stream's events missed), where "present" for an absent
// hash only costs the block read it was meant to save.
#ifndef CAIRN_INDEX_BLOCK_FILTER_H_
#define CAIRN_INDEX_BLOCK_FILTER_H_

#include <cstdint>

namespace cairn::index {

// On disk a filter is kBlockFilterBitBytes of bits and an 8-byte checksum.
inline constexpr uint32_t kBlockFilterSize = 128;
inline constexpr uint32_t kBlockFilterBitBytes = 120;
inline constexpr uint32_t kBlockFilterBits = kBlockFilterBitBytes * 8;
inline constexpr uint32_t kBlockFilterProbes = 5;

class BlockFilter {
 public:
  // Sets the bits of `hash` in `bits` (kBlockFilterBitBytes bytes).
  static void Add(uint64_t hash, uint8_t* bits);
  // false only if `hash` was never added to `bits`.
  static bool MayContain(uint64_t hash, const uint8_t* bits);
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_BLOCK_FILTER_H_
