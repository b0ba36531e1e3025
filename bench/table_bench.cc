// Copyright (c) Cairn authors.
//
// One index table, as a lookup meets it: streams of four events each on the
// in-memory file system, written in format version 3 (a lookup verifies the
// whole 4 KiB block it reads) and in version 4 (a lookup verifies the part
// directory and the 512-byte parts it reads), and the lookups a stream read
// makes of every table: the stream's newest entry, its revisions, and the
// newest entry of a stream the table lacks. The arguments are the format
// version, so both are measured in one run, and the number of streams:
// 16 384 (2 MiB of entry blocks, in the caches) or 1 M (128 MiB, in
// memory).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "index/table.h"
#include "testing/memory_file_system.h"

namespace cairn::index {
namespace {

constexpr uint64_t kEventsPerStream = 4;
constexpr uint64_t kStore = 1;

uint64_t HashOf(uint64_t stream) {
  return (stream + 1) * 0x9E3779B97F4A7C15ull;
}

std::shared_ptr<Table> Build(io::MemoryFileSystem* fs, uint32_t version,
                             uint64_t streams, uint64_t number) {
  std::vector<Entry> entries;
  entries.reserve(streams * kEventsPerStream);
  uint64_t position = 0;
  for (uint64_t r = 0; r < kEventsPerStream; ++r) {
    for (uint64_t s = 0; s < streams; ++s, ++position) {
      entries.push_back(Entry{HashOf(s), r, position,
                              static_cast<uint32_t>(4096 + position % 1000),
                              0});
    }
  }
  std::sort(entries.begin(), entries.end(), EntryLess);
  TableInfo info;
  info.store_id = kStore;
  info.number = number;
  info.anchor_stride = 4096;
  info.entry_count = entries.size();
  info.end_position = entries.size();
  info.last_offset = 4096;
  info.new_streams = streams;
  info.format_version = version;
  if (!fs->Exists("/t") && !fs->CreateDir("/t").ok()) std::abort();
  auto w = TableWriter::Create(fs, "/t", info);
  if (!w.ok()) std::abort();
  for (const Entry& e : entries) {
    if (!(*w)->Add(e).ok()) std::abort();
  }
  for (uint64_t p = 0; p < info.end_position; p += info.anchor_stride) {
    if (!(*w)->AddAnchor(4096).ok()) std::abort();
  }
  if (!(*w)->Finish().ok()) std::abort();
  auto t = Table::Open(fs, "/t/" + TableFileName(number), kStore, number,
                       info.anchor_stride);
  if (!t.ok()) std::abort();
  return *t;
}

// The table of the benchmark's arguments (version, streams), built once.
const Table& Shared(const benchmark::State& state) {
  static auto* fs = new io::MemoryFileSystem();
  static auto* tables =
      new std::map<std::pair<int64_t, int64_t>, std::shared_ptr<Table>>();
  auto& t = (*tables)[{state.range(0), state.range(1)}];
  if (t == nullptr) {
    t = Build(fs, static_cast<uint32_t>(state.range(0)),
              static_cast<uint64_t>(state.range(1)), tables->size());
  }
  return *t;
}

void Arguments(benchmark::internal::Benchmark* b) {
  for (int64_t streams : {int64_t{16384}, int64_t{1'000'000}}) {
    for (int64_t version : {3, 4}) b->Args({version, streams});
  }
}

void BM_TableNewestRandomStream(benchmark::State& state) {
  const Table& t = Shared(state);
  const auto streams = static_cast<uint64_t>(state.range(1));
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    uint64_t revision = 0;
    Status s = t.ForEachNewest(HashOf(rng() % streams), [&](const Entry& e) {
      revision = e.revision;
      return false;
    });
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(revision);
  }
}
BENCHMARK(BM_TableNewestRandomStream)->Apply(Arguments);

void BM_TableScanRandomStream(benchmark::State& state) {
  const Table& t = Shared(state);
  const auto streams = static_cast<uint64_t>(state.range(1));
  std::mt19937_64 rng(2);
  std::vector<Entry> out;
  for (auto _ : state) {
    out.clear();
    Status s = t.Scan(HashOf(rng() % streams), 0, UINT64_MAX, &out);
    benchmark::DoNotOptimize(s);
  }
  state.counters["entries"] = static_cast<double>(out.size());
}
BENCHMARK(BM_TableScanRandomStream)->Apply(Arguments);

// A stream the table lacks (the metadata stream of a stream without
// metadata): the filter answers, the part directory is not read.
void BM_TableNewestAbsentStream(benchmark::State& state) {
  const Table& t = Shared(state);
  const auto streams = static_cast<uint64_t>(state.range(1));
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    Status s = t.ForEachNewest(HashOf(streams + rng() % streams),
                               [](const Entry&) { return false; });
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_TableNewestAbsentStream)->Apply(Arguments);

}  // namespace
}  // namespace cairn::index
