// Copyright (c) Cairn authors.
#include "segment/checksum.h"

#include <xxhash.h>

namespace cairn::segment {

uint64_t Checksum64(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

uint64_t SegmentSeed(uint64_t store_id, uint64_t segment_number) {
  // Mix both identities so that neither a segment of another store nor a
  // segment renamed to another number verifies.
  uint64_t key[2] = {store_id, segment_number};
  uint64_t seed = XXH3_64bits(key, sizeof(key));
  return seed == 0 ? 1 : seed;
}

}  // namespace cairn::segment
