// Copyright (c) Cairn authors.
//
// XXH3-64 of an input longer than 240 bytes with a secret derived from the
// seed (XXH3_generateSecret_fromSeed): equal to XXH3_64bits_withSeed of the
// same input and seed. On x86-64 with GCC or Clang it runs the AVX2 code of
// checksum_avx2.cc when the CPU has AVX2 (chosen once, at first use), and
// the baseline (SSE2) code otherwise.
#ifndef CAIRN_SEGMENT_CHECKSUM_LONG_H_
#define CAIRN_SEGMENT_CHECKSUM_LONG_H_

// The C headers, not <cstddef>/<cstdint>: checksum_avx2.cc, compiled with
// -mavx2, includes this file and must not instantiate any C++ inline
// function (see there).
#include <stddef.h>  // NOLINT(modernize-deprecated-headers)
#include <stdint.h>  // NOLINT(modernize-deprecated-headers)

namespace cairn::segment {

uint64_t LongChecksum64(const void* data, size_t size, const void* secret,
                        size_t secret_size, uint64_t seed);

// The two paths LongChecksum64 chooses from, for tests. The AVX2 one may
// be called only when LongChecksumHasAvx2() (built with it, and the CPU
// has it).
uint64_t LongChecksum64Baseline(const void* data, size_t size,
                                const void* secret, size_t secret_size,
                                uint64_t seed);
uint64_t LongChecksum64Avx2(const void* data, size_t size, const void* secret,
                            size_t secret_size, uint64_t seed);
bool LongChecksumHasAvx2();

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_CHECKSUM_LONG_H_
