// Copyright (c) Cairn authors.
//
// The group-commit path end to end through the public API, without the
// disk: Durability::kNone skips fdatasync (writes still reach the page
// cache), so what is left is validation, encoding, the queue hand-off to
// the commit thread, sequencing, publishing and waking the caller. Run
// from one and two threads to show what concurrent callers cost each
// other.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cairn/store.h"

namespace cairn {
namespace {

// Set up by thread 0 before the measured loop and torn down after it; the
// benchmark library holds every thread at the start and the end of the
// loop, so the others never see it half-built.
std::unique_ptr<Store> g_store;
std::string g_dir;

EventData SampleEvent() {
  EventData e;
  e.type = "OrderPlaced";
  e.metadata = "{\"correlationId\":\"c0ffee00-1234\",\"causationId\":\"b\"}";
  e.data = "{\"orderId\":\"3f2b6c1e\",\"amount\":4200,\"note\":\"";
  while (e.data.size() < 200 - e.type.size() - e.metadata.size() - 2) {
    e.data += 'x';
  }
  e.data += "\"}";
  return e;
}

void SetUp(benchmark::State& state) {
  // Read on thread 0 before the benchmark's threads run.
  const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
      "/cairn-microbench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  g_dir = pattern;
  Options options;
  options.durability = Durability::kNone;
  auto store = Store::Open(g_dir + "/store", options);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  g_store = std::move(store.value());
}

void TearDown() {
  if (g_store) (void)g_store->Close();
  g_store.reset();
  std::error_code ignored;
  std::filesystem::remove_all(g_dir, ignored);
}

void BM_AppendNoSync(benchmark::State& state) {
  if (state.thread_index() == 0) SetUp(state);
  const EventData event = SampleEvent();
  // Each thread writes its own streams, so OCC never conflicts.
  std::vector<std::string> streams;
  streams.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    streams.push_back("Order-t" + std::to_string(state.thread_index()) + "-" +
                      std::to_string(i));
  }
  uint64_t i = 0;
  for (auto _ : state) {
    auto result = g_store->Append(streams[i++ % streams.size()],
                                  ExpectedVersion::Any(), {event});
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.thread_index() == 0) TearDown();
}
BENCHMARK(BM_AppendNoSync)->Threads(1)->Threads(2)->UseRealTime();

// 100 events per append: the per-append costs amortised, what is left is
// the per-event work.
void BM_AppendBatch100NoSync(benchmark::State& state) {
  if (state.thread_index() == 0) SetUp(state);
  const std::vector<EventData> events(100, SampleEvent());
  uint64_t i = 0;
  const std::string prefix = "Order-t" + std::to_string(state.thread_index());
  for (auto _ : state) {
    auto result = g_store->Append(prefix + "-" + std::to_string(i++ % 1000),
                                  ExpectedVersion::Any(), events);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 100);
  if (state.thread_index() == 0) TearDown();
}
BENCHMARK(BM_AppendBatch100NoSync)->Threads(1)->Threads(2)->UseRealTime();

// Single-event appends carrying client ids (every append of the official
// gRPC clients does), over state.range(0) streams: each one's retry check
// looks for its id among the stream's last idempotency_window (1024)
// events. With few streams those windows are full.
void BM_AppendWithIdsNoSync(benchmark::State& state) {
  SetUp(state);
  EventData event = SampleEvent();
  const auto count = static_cast<uint64_t>(state.range(0));
  std::vector<std::string> streams;
  streams.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    streams.push_back("Order-" + std::to_string(i));
  }
  // Every stream's window full before the measured loop.
  for (uint64_t i = 0; i < 1100 * count && i < 200000; ++i) {
    event.id = EventId::Generate();
    auto result =
        g_store->Append(streams[i % count], ExpectedVersion::Any(), {event});
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
  }
  uint64_t i = 0;
  for (auto _ : state) {
    event.id = EventId::Generate();
    auto result =
        g_store->Append(streams[i++ % count], ExpectedVersion::Any(), {event});
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  TearDown();
}
BENCHMARK(BM_AppendWithIdsNoSync)->Arg(1)->Arg(100)->Arg(10000)->UseRealTime();

}  // namespace
}  // namespace cairn
