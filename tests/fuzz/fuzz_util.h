// Copyright (c) Cairn authors.
//
// Helpers for the libFuzzer targets: a check that crashes (so the fuzzer
// reports the input) when an invariant fails, and record sealing, which
// makes fuzzed bytes pass the checksums so the decoders behind them are
// reached (a fuzzer can not forge an XXH3 checksum by mutation).
#ifndef CAIRN_TESTS_FUZZ_FUZZ_UTIL_H_
#define CAIRN_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "segment/checksum.h"
#include "segment/record.h"

#define FUZZ_CHECK(cond)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                  \
      std::abort();                                                         \
    }                                                                       \
  } while (0)

namespace cairn::fuzz {

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Makes the record at `p` (with `available` bytes from there) checksum-
// valid: its body_length is clamped to what is available, then the body
// and header checksums are recomputed with `seed`. Returns the record size,
// or 0 if fewer than a header's bytes are available.
inline size_t SealInPlace(uint8_t* p, size_t available, uint64_t seed) {
  if (available < segment::kRecordHeaderSize) return 0;
  uint32_t body = LoadU32(p + 8);
  const size_t room = available - segment::kRecordHeaderSize;
  if (body > room) body = static_cast<uint32_t>(room);
  std::memcpy(p + 8, &body, 4);
  const uint64_t body_checksum =
      segment::Checksum64(p + segment::kRecordHeaderSize, body, seed);
  std::memcpy(p + 24, &body_checksum, 8);
  const uint32_t header_checksum = static_cast<uint32_t>(
      segment::Checksum64(p + 4, segment::kRecordHeaderSize - 4, seed));
  std::memcpy(p, &header_checksum, 4);
  return segment::kRecordHeaderSize + body;
}

}  // namespace cairn::fuzz

#endif  // CAIRN_TESTS_FUZZ_FUZZ_UTIL_H_
