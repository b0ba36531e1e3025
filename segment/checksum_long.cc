// Copyright (c) Cairn authors.
#include "segment/checksum_long.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace cairn::segment {
namespace {

using LongHash = uint64_t (*)(const void*, size_t, const void*, size_t,
                              uint64_t);

LongHash Choose() {
  return LongChecksumHasAvx2() ? &LongChecksum64Avx2 : &LongChecksum64Baseline;
}

}  // namespace

uint64_t LongChecksum64Baseline(const void* data, size_t size,
                                const void* secret, size_t secret_size,
                                uint64_t seed) {
  return XXH3_64bits_withSecretandSeed(data, size, secret, secret_size, seed);
}

bool LongChecksumHasAvx2() {
#if defined(CAIRN_CHECKSUM_AVX2)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

#if !defined(CAIRN_CHECKSUM_AVX2)
// Never chosen (LongChecksumHasAvx2() is false); defined so that callers
// link on every platform.
uint64_t LongChecksum64Avx2(const void* data, size_t size, const void* secret,
                            size_t secret_size, uint64_t seed) {
  return LongChecksum64Baseline(data, size, secret, secret_size, seed);
}
#endif

uint64_t LongChecksum64(const void* data, size_t size, const void* secret,
                        size_t secret_size, uint64_t seed) {
  static const LongHash chosen = Choose();
  return chosen(data, size, secret, secret_size, seed);
}

}  // namespace cairn::segment
