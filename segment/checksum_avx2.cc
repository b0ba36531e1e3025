// Copyright (c) Cairn authors.
//
// Compiled with -mavx2 (CMakeLists.txt), so it includes nothing but
// xxhash.h in its inline form (every function static): no inline function
// of a shared header can be emitted here with AVX2 code and then picked by
// the linker for callers on CPUs without it. Called only after
// checksum_long.cc found AVX2 on the CPU.
#include "segment/checksum_long.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#if !defined(__AVX2__)
#error "checksum_avx2.cc must be compiled with -mavx2"
#endif

namespace cairn::segment {

uint64_t LongChecksum64Avx2(const void* data, size_t size, const void* secret,
                            size_t secret_size, uint64_t seed) {
  return XXH3_64bits_withSecretandSeed(data, size, secret, secret_size, seed);
}

}  // namespace cairn::segment
