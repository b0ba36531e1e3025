// Copyright (c) Cairn authors.
//
// Loading an aggregate when warm (the goal is p50 <= 20 us): 1 000
// streams of 64 events, each with a snapshot `tail` events before its end,
// loaded through the public API in random order after one warming pass, so
// the records are in the page cache and the index in memory. What a load
// costs: the stream's head and metadata (retention), a backward read of
// the snapshot stream, and a forward read of the tail. Each load is timed
// on its own and the p50/p99 of the run are reported as counters (the
// library's own figure is the mean).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/store.h"

namespace cairn {
namespace {

constexpr int kStreams = 1000;
constexpr int kEventsPerStream = 64;

std::string StreamName(int i) { return "Order-" + std::to_string(i); }

class Fixture {
 public:
  // Empty on success, else why the store could not be set up.
  std::string SetUp(int tail) {
    const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
        "/cairn-snapshot-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return "mkdtemp failed";
    dir_ = pattern;
    Options options;
    options.durability = Durability::kNone;
    auto store = Store::Open(dir_ + "/store", options);
    if (!store.ok()) return store.status().ToString();
    store_ = std::move(store.value());
    std::vector<EventData> events(kEventsPerStream);
    for (EventData& e : events) {
      e.type = "ItemAdded";
      e.data = R"({"sku":"A-1042","quantity":2,"price":1999})";
    }
    SnapshotData state;
    state.data = std::string(512, 's');
    state.schema = "Order/v1";
    for (int i = 0; i < kStreams; ++i) {
      auto appended =
          store_->Append(StreamName(i), ExpectedVersion::NoStream(), events);
      if (!appended.ok()) return appended.status().ToString();
      auto saved = store_->SaveSnapshot(
          StreamName(i), StreamRevision(kEventsPerStream - 1 - tail), state,
          SaveSnapshotOptions());
      if (!saved.ok()) return saved.status().ToString();
    }
    return "";
  }
  ~Fixture() {
    if (store_) (void)store_->Close();
    store_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  Store* store() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

double Percentile(std::vector<double>* samples, double p) {
  if (samples->empty()) return 0;
  const auto k =
      static_cast<size_t>(p * static_cast<double>(samples->size() - 1));
  std::nth_element(samples->begin(),
                   samples->begin() + static_cast<std::ptrdiff_t>(k),
                   samples->end());
  return (*samples)[k];
}

void BM_LoadAggregateWarm(benchmark::State& state) {
  const int tail = static_cast<int>(state.range(0));
  Fixture fixture;
  std::string error = fixture.SetUp(tail);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  Store* store = fixture.store();
  const LoadAggregateOptions options;
  for (int i = 0; i < kStreams; ++i) {  // warm
    if (!store->LoadAggregate(StreamName(i), options).ok()) {
      state.SkipWithError("warming load failed");
      return;
    }
  }
  std::vector<std::string> names;
  names.reserve(kStreams);
  for (int i = 0; i < kStreams; ++i) names.push_back(StreamName(i));
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> pick(0, kStreams - 1);
  std::vector<double> micros;
  for (auto _ : state) {
    const std::string& name = names[static_cast<size_t>(pick(rng))];
    const auto start = std::chrono::steady_clock::now();
    auto loaded = store->LoadAggregate(name, options);
    const auto end = std::chrono::steady_clock::now();
    if (!loaded.ok() || !loaded->snapshot ||
        loaded->events.size() != static_cast<size_t>(tail)) {
      state.SkipWithError("load returned a wrong aggregate");
      return;
    }
    benchmark::DoNotOptimize(loaded);
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  state.counters["p50_us"] = Percentile(&micros, 0.50);
  state.counters["p99_us"] = Percentile(&micros, 0.99);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LoadAggregateWarm)->Arg(0)->Arg(10)->Arg(50);

}  // namespace
}  // namespace cairn
