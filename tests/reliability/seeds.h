// Copyright (c) Cairn authors.
//
// What the seeded reliability tests share: their sizes come from
// environment variables (so CI and long soaks run the same binary), their
// event ids are derived from the seed, so a replay writes the same bytes
// (except timestamps), and so are their crash options.
#ifndef CAIRN_TESTS_RELIABILITY_SEEDS_H_
#define CAIRN_TESTS_RELIABILITY_SEEDS_H_

#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>

#include "cairn/event.h"
#include "testing/fault_injection_file_system.h"

namespace cairn::reliability {

// The unsigned value of environment variable `name`, or `fallback` when it
// is unset or empty. Read before any thread of the test starts.
inline uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// A deterministic id: the seed and a counter.
inline EventId MakeId(uint64_t seed, uint64_t n) {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(seed >> (8 * i));
    b[8 + i] = static_cast<uint8_t>(n >> (8 * i));
  }
  b[15] |= 1;  // never nil
  return EventId(b);
}

// Harsh power-loss options drawn from `rng`: some unsynced writes kept
// whole, some torn, the rest dropped, a share of them garbled; unsynced
// directory changes and the shared page kept or not.
inline io::CrashOptions RandomCrashOptions(std::mt19937_64* rng) {
  auto uniform = [rng] {
    return std::uniform_real_distribution<double>(0, 1)(*rng);
  };
  io::CrashOptions crash;
  crash.keep_whole = 0.1 + 0.5 * uniform();
  crash.keep_torn = (1 - crash.keep_whole) * uniform();
  crash.flip_bit = 0.3 * uniform();
  crash.persist_dir = uniform();
  crash.persist_shared = uniform();
  return crash;
}

}  // namespace cairn::reliability

#endif  // CAIRN_TESTS_RELIABILITY_SEEDS_H_
