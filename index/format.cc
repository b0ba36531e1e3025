// Copyright (c) Cairn authors.
#include "index/format.h"

#include <xxhash.h>

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
  return XXH3_64bits_withSeed(data, size, seed);
}

}  // namespace cairn::index
