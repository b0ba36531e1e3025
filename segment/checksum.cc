// Copyright (c) Cairn authors.
#include "segment/checksum.h"

// The inline build of XXH3 (every function static in this file), so that
// the hash of a record can use a secret derived once per seed instead of
// once per call; the results are XXH3_64bits_withSeed's, bit for bit.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "segment/checksum_long.h"

namespace cairn::segment {
namespace {

// XXH3 hashes an input of more than XXH3_MIDSIZE_MAX (240) bytes with a
// 192-byte secret, which its seeded form derives from the seed on every
// call: for a record body of a few hundred bytes that costs as much as the
// hash itself. Records of one segment share their seed, so each thread
// keeps the secret of the last seed it hashed with.
struct SeedSecret {
  uint64_t seed = 0;
  bool valid = false;
  alignas(64) unsigned char secret[XXH3_SECRET_DEFAULT_SIZE];
};

thread_local SeedSecret tls_secret;

}  // namespace

uint64_t Checksum64(const void* data, size_t size, uint64_t seed) {
  if (size <= XXH3_MIDSIZE_MAX) return XXH3_64bits_withSeed(data, size, seed);
  SeedSecret& cached = tls_secret;
  if (!cached.valid || cached.seed != seed) {
    XXH3_generateSecret_fromSeed(cached.secret, seed);
    cached.seed = seed;
    cached.valid = true;
  }
  return LongChecksum64(data, size, cached.secret, sizeof(cached.secret), seed);
}

uint64_t SegmentSeed(uint64_t store_id, uint64_t segment_number) {
  // Mix both identities so that neither a segment of another store nor a
  // segment renamed to another number verifies.
  uint64_t key[2] = {store_id, segment_number};
  uint64_t seed = XXH3_64bits(key, sizeof(key));
  return seed == 0 ? 1 : seed;
}

struct StreamingChecksum64::State {
  XXH3_state_t xxh;
};

StreamingChecksum64::StreamingChecksum64(uint64_t seed)
    : state_(std::make_unique<State>()) {
  XXH3_64bits_reset_withSeed(&state_->xxh, seed);
}

StreamingChecksum64::~StreamingChecksum64() = default;

void StreamingChecksum64::Update(const void* data, size_t size) {
  XXH3_64bits_update(&state_->xxh, data, size);
}

uint64_t StreamingChecksum64::Digest() const {
  return XXH3_64bits_digest(&state_->xxh);
}

}  // namespace cairn::segment
