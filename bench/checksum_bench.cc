// Copyright (c) Cairn authors.
//
// Checksum64 (seeded XXH3-64) at the sizes that matter: a record header's
// 28 bytes are below the smallest case, 64 B is a tiny body, 4 KiB a large
// event, 1 MiB a bulk payload.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "segment/checksum.h"

namespace cairn::segment {
namespace {

void BM_Checksum64(benchmark::State& state) {
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)));
  std::mt19937_64 rng(1);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  for (auto _ : state) {
    benchmark::DoNotOptimize(Checksum64(data.data(), data.size(), 42));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}
BENCHMARK(BM_Checksum64)->Arg(64)->Arg(4 << 10)->Arg(1 << 20);

}  // namespace
}  // namespace cairn::segment
