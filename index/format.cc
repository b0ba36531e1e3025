// Copyright (c) Cairn authors.
#include "index/format.h"

// The inline build of XXH3, for XXH3_generateSecret_fromSeed; the results
// are the library's, bit for bit.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "segment/checksum_long.h"

namespace cairn::index {
namespace {

// "CAIRNSTR" and "CAIRNEID" read as little-endian u64: fixed, so a stream
// hashes the same in every process and every version-1 file.
constexpr uint64_t kStreamSeed = 0x5254534e52494143ull;
constexpr uint64_t kIdSeed = 0x4449454e52494143ull;

}  // namespace

uint64_t DefaultStreamHash(std::string_view stream) {
  return XXH3_64bits_withSeed(stream.data(), stream.size(), kStreamSeed);
}

uint32_t IdTag(const EventId& id) {
  return static_cast<uint32_t>(
      XXH3_64bits_withSeed(id.bytes().data(), id.bytes().size(), kIdSeed));
}

uint64_t IndexChecksum(const void* data, size_t size, uint64_t seed) {
  if (size <= XXH3_MIDSIZE_MAX) return XXH3_64bits_withSeed(data, size, seed);
  // A lookup verifies a whole 4 KiB entry block: hashed with XXH3's AVX2
  // code where the CPU has it, which the library (built for the baseline
  // instruction set) does not use. Every block has its own seed, so the
  // secret is derived here for each.
  alignas(64) unsigned char secret[XXH3_SECRET_DEFAULT_SIZE];
  XXH3_generateSecret_fromSeed(secret, seed);
  return segment::LongChecksum64(data, size, secret, sizeof(secret), seed);
}

}  // namespace cairn::index
