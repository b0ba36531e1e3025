// Copyright (c) Cairn authors.
#include "index/format.h"

#include <xxhash.h>

#include "segment/checksum.h"

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
  // The segment layer's XXH3 (the same values as XXH3_64bits_withSeed):
  // a lookup verifies a whole 4 KiB entry block, which it hashes with
  // XXH3's AVX2 code where the CPU has it, unlike the library, which is
  // built for the baseline instruction set.
  return segment::Checksum64(data, size, seed);
}

}  // namespace cairn::index
