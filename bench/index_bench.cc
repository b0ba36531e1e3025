// Copyright (c) Cairn authors.
//
// The in-memory indexes at a realistic size: StreamIndex lookups over one
// million streams (what every append's concurrency check and every
// ReadStream pays), and EventIdIndex insert/find (what every append pays
// for idempotency).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/event_id_index.h"
#include "index/stream_index.h"

namespace cairn::index {
namespace {

constexpr uint64_t kStreams = 1'000'000;
constexpr uint64_t kEventsPerStream = 4;

std::string Name(uint64_t i) {
  char text[64];
  std::snprintf(text, sizeof(text), "Order-%016llx-%08llx",
                static_cast<unsigned long long>(i * 0x9E3779B97F4A7C15ull),
                static_cast<unsigned long long>(i));
  return text;
}

// Built once and shared by the lookup benchmarks: building a million
// streams takes longer than measuring them.
struct Fixture {
  std::vector<std::string> names;
  std::unique_ptr<StreamIndex> index = NewMemoryStreamIndex();

  Fixture() {
    names.reserve(kStreams);
    for (uint64_t i = 0; i < kStreams; ++i) names.push_back(Name(i));
    // Interleaved, as events of many streams arrive.
    uint64_t position = 0;
    for (uint64_t r = 0; r < kEventsPerStream; ++r) {
      for (uint64_t i = 0; i < kStreams; ++i) {
        index->Add(names[i], r, position++);
      }
    }
  }
};

Fixture& Shared() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_StreamIndexLastRevision(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    const std::string& name = f.names[rng() % kStreams];
    benchmark::DoNotOptimize(f.index->LastRevision(name));
  }
}
BENCHMARK(BM_StreamIndexLastRevision);

void BM_StreamIndexLastRevisionMissing(benchmark::State& state) {
  Fixture& f = Shared();
  std::vector<std::string> missing;
  for (uint64_t i = 0; i < 4096; ++i) missing.push_back(Name(kStreams + i));
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->LastRevision(missing[i++ % 4096]));
  }
}
BENCHMARK(BM_StreamIndexLastRevisionMissing);

void BM_StreamIndexPositions(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(2);
  std::vector<uint64_t> out;
  for (auto _ : state) {
    out.clear();
    f.index->Positions(f.names[rng() % kStreams], 0, Direction::kForward, 4096,
                       &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["positions"] = static_cast<double>(out.size());
}
BENCHMARK(BM_StreamIndexPositions);

void BM_StreamIndexAdd(benchmark::State& state) {
  // Appends to existing streams of the shared index would change it for
  // the other benchmarks, so this one builds its own, growing.
  auto index = NewMemoryStreamIndex();
  std::vector<std::string> names;
  for (uint64_t i = 0; i < 10'000; ++i) names.push_back(Name(i));
  std::vector<uint64_t> next(names.size(), 0);
  uint64_t position = 0;
  for (auto _ : state) {
    const uint64_t s = position % names.size();
    benchmark::DoNotOptimize(index->Add(names[s], next[s]++, position++));
  }
}
BENCHMARK(BM_StreamIndexAdd);

EventId RandomId(std::mt19937_64& rng) {
  std::array<uint8_t, 16> bytes;
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return EventId(bytes);
}

void BM_EventIdIndexInsert(benchmark::State& state) {
  std::mt19937_64 rng(3);
  std::vector<EventId> ids;
  for (int i = 0; i < 1 << 16; ++i) ids.push_back(RandomId(rng));
  EventIdIndex index;
  uint64_t position = 0;
  for (auto _ : state) {
    // A fresh id per insert, as appends bring: the low bits of the
    // position vary a pooled id so the map keeps growing.
    EventId id = ids[position % ids.size()];
    auto bytes = id.bytes();
    bytes[0] ^= static_cast<uint8_t>(position >> 16);
    bytes[1] ^= static_cast<uint8_t>(position >> 24);
    bytes[2] ^= static_cast<uint8_t>(position >> 32);
    index.Insert(EventId(bytes), position++);
  }
  state.counters["size"] = static_cast<double>(index.size());
}
BENCHMARK(BM_EventIdIndexInsert);

void BM_EventIdIndexFind(benchmark::State& state) {
  const auto count = static_cast<uint64_t>(state.range(0));
  std::mt19937_64 rng(4);
  std::vector<EventId> ids;
  ids.reserve(count);
  EventIdIndex index;
  for (uint64_t i = 0; i < count; ++i) {
    ids.push_back(RandomId(rng));
    index.Insert(ids.back(), i);
  }
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.Find(ids[(i++ * 7919) % count]));
  }
}
BENCHMARK(BM_EventIdIndexFind)->Arg(1'000'000);

}  // namespace
}  // namespace cairn::index
