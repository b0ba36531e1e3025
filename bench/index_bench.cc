// Copyright (c) Cairn authors.
//
// The persistent stream index at a realistic size: one million streams of
// four events each (4 M entries in merged tables on the in-memory file
// system), and what the engine asks of it: the last revision of a stream
// (every append's concurrency check; the LRU cache holds 65 536 streams, so
// random streams mostly miss it and search the tables), a whole stream's
// locations (every ReadStream), a position anchor (ReadAll from a
// position), and Add (every appended event). Stream names come from memory
// here; in the engine a cache miss also reads one record header and name
// from the log to rule out a hash collision.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/persistent_index.h"
#include "testing/memory_file_system.h"

namespace cairn::index {
namespace {

constexpr uint64_t kStreams = 1'000'000;
constexpr uint64_t kEventsPerStream = 4;

std::string Name(uint64_t i) {
  char text[64];
  (void)std::snprintf(
      text, sizeof(text), "Order-%016llx-%08llx",
      static_cast<unsigned long long>(i * 0x9E3779B97F4A7C15ull),
      static_cast<unsigned long long>(i));
  return text;
}

uint32_t OffsetOf(uint64_t position) {
  return static_cast<uint32_t>(4096 + (position % 100'000) * 300);
}

// Built once and shared by the lookup benchmarks: event p belongs to
// stream p % kStreams (interleaved, as events of many streams arrive).
struct Fixture {
  io::MemoryFileSystem fs;
  std::vector<std::string> names;
  std::unique_ptr<PersistentIndex> index;

  Fixture() {
    names.reserve(kStreams);
    for (uint64_t i = 0; i < kStreams; ++i) names.push_back(Name(i));
    NameReader reader = [this](uint64_t position,
                               uint32_t) -> Result<std::string_view> {
      const std::string_view name = names[position % kStreams];
      return name;
    };
    auto opened = PersistentIndex::Open(&fs, "/index", 1, 0, IndexOptions(),
                                        reader, nullptr);
    if (!opened.ok()) std::abort();
    index = std::move(opened.value());
    uint64_t position = 0;
    for (uint64_t r = 0; r < kEventsPerStream; ++r) {
      for (uint64_t i = 0; i < kStreams; ++i, ++position) {
        Status s = index->Add(names[i], r, position, OffsetOf(position),
                              EventId::Generate());
        if (!s.ok()) std::abort();
      }
    }
    index->WaitIdle();
  }
};

Fixture& Shared() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_IndexLastRevisionRandomStream(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->LastRevision(f.names[rng() % kStreams]));
  }
  state.counters["tables"] =
      static_cast<double>(f.index->Stats().tables.size());
}
BENCHMARK(BM_IndexLastRevisionRandomStream);

void BM_IndexLastRevisionHotStreams(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->LastRevision(f.names[rng() % 1024]));
  }
}
BENCHMARK(BM_IndexLastRevisionHotStreams);

void BM_IndexLastRevisionMissing(benchmark::State& state) {
  Fixture& f = Shared();
  std::vector<std::string> missing;
  for (uint64_t i = 0; i < 4096; ++i) missing.push_back(Name(kStreams + i));
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->LastRevision(missing[i++ % 4096]));
  }
}
BENCHMARK(BM_IndexLastRevisionMissing);

// A stream that does not exist, asked for once: the cache does not know it,
// so every table is searched (the answer is then cached). Includes forming
// the name, a few tens of nanoseconds.
void BM_IndexLastRevisionMissingFirstTime(benchmark::State& state) {
  Fixture& f = Shared();
  uint64_t i = kStreams + 4096;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->LastRevision(Name(i++)));
  }
}
BENCHMARK(BM_IndexLastRevisionMissingFirstTime);

void BM_IndexReadWholeStream(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(3);
  std::vector<IndexedEvent> out;
  for (auto _ : state) {
    out.clear();
    Status s = f.index->Read(f.names[rng() % kStreams], 0, Direction::kForward,
                             kEventsPerStream, &out);
    benchmark::DoNotOptimize(s);
  }
  state.counters["events"] = static_cast<double>(out.size());
}
BENCHMARK(BM_IndexReadWholeStream);

void BM_IndexAnchor(benchmark::State& state) {
  Fixture& f = Shared();
  std::mt19937_64 rng(4);
  const uint64_t stride = f.index->anchor_stride();
  const uint64_t anchors = kStreams * kEventsPerStream / stride;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.index->Anchor((rng() % anchors) * stride));
  }
}
BENCHMARK(BM_IndexAnchor);

void BM_IndexAdd(benchmark::State& state) {
  // A fresh index on its own file system, so the shared one stays as is;
  // 10 000 hot streams (all in the cache), tables written in the
  // background as the in-memory table fills.
  io::MemoryFileSystem fs;
  std::vector<std::string> names;
  for (uint64_t i = 0; i < 10'000; ++i) names.push_back(Name(i));
  NameReader reader = [&names](uint64_t position,
                               uint32_t) -> Result<std::string_view> {
    const std::string_view name = names[position % names.size()];
    return name;
  };
  auto index = PersistentIndex::Open(&fs, "/index", 1, 0, IndexOptions(),
                                     reader, nullptr);
  if (!index.ok()) std::abort();
  std::vector<uint64_t> next(names.size(), 0);
  const EventId id = EventId::Generate();
  uint64_t position = 0;
  for (auto _ : state) {
    const uint64_t s = position % names.size();
    benchmark::DoNotOptimize(
        (*index)->Add(names[s], next[s]++, position, OffsetOf(position), id));
    ++position;
  }
}
BENCHMARK(BM_IndexAdd);

}  // namespace
}  // namespace cairn::index
