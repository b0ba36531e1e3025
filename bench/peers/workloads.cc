// Copyright (c) Cairn authors.
#include "bench/peers/workloads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "tools/bench/workloads.h"

namespace cairn::peers {
namespace {

using tools::bench::NowNanos;

// As in tools/bench/workloads.cc: distinct events cycled through by the
// writers, and the seeds of each workload's pool.
constexpr size_t kEventPool = 256;
constexpr uint64_t kLoadSeed = 1;
constexpr uint64_t kSyncSeed = 2;
constexpr uint64_t kConcurrentSeed = 3;

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

std::vector<std::string> StreamNames(uint64_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    names.push_back(tools::bench::StreamName(i));
  }
  return names;
}

struct WriterRun {
  int threads = 1;
  uint64_t per_append = 1;
  uint64_t total = 0;  // events; 0: until the deadline
  double seconds = 0;  // 0: until `total`
  WriterMode mode = WriterMode::kDurable;
  LatencyHistogram* latency = nullptr;  // may be null
  bool progress = false;
  std::string_view phase;
};

struct WriterTotals {
  uint64_t events = 0;
  uint64_t appends = 0;
  int64_t start_ns = 0;
  int64_t last_done_ns = 0;
};

// Appends from `run.threads` workers, each with a Writer of its own,
// `per_append` events at a time, round-robin over `streams`, each worker
// waiting for its append before the next. A stream is never written by two
// workers at once (a worker that would skips to the next index), so the
// expected versions the workers keep are always right. The clock starts
// once every worker's connection is open.
Status RunWriters(Driver* driver, const std::vector<std::string>& streams,
                  const std::vector<EventData>& pool, const WriterRun& run,
                  WriterTotals* totals) {
  std::vector<std::unique_ptr<Writer>> writers;
  for (int t = 0; t < run.threads; ++t) {
    auto writer = driver->NewWriter(run.mode);
    if (!writer.ok()) return writer.status();
    writers.push_back(std::move(writer.value()));
  }
  std::vector<std::atomic<int64_t>> versions(streams.size());
  std::vector<std::atomic<bool>> busy(streams.size());
  for (auto& v : versions) v.store(driver->no_stream());
  const size_t windows = pool.size() - run.per_append + 1;
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> done_events{0};
  std::atomic<uint64_t> done_appends{0};
  std::atomic<int64_t> last_done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards error and the merged histogram
  Status error;

  const int64_t start = NowNanos();
  const int64_t deadline =
      run.seconds > 0 ? start + static_cast<int64_t>(run.seconds * 1e9) : 0;
  auto work = [&](Writer* writer) {
    LatencyHistogram latency;
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t i = next.fetch_add(1);
      uint64_t n = run.per_append;
      if (run.total != 0) {
        if (i * run.per_append >= run.total) break;
        n = std::min(n, run.total - i * run.per_append);
      }
      const int64_t begin = NowNanos();
      if (deadline != 0 && begin >= deadline) break;
      const size_t s = i % streams.size();
      if (busy[s].exchange(true)) continue;
      std::span<const EventData> events(pool.data() + (i * 7) % windows, n);
      auto appended = writer->Append(streams[s], versions[s].load(), events);
      const int64_t end = NowNanos();
      if (!appended.ok()) {
        busy[s].store(false);
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = appended.status();
        stop.store(true);
        break;
      }
      versions[s].store(*appended);
      busy[s].store(false);
      latency.Record(static_cast<uint64_t>(end - begin));
      done_events.fetch_add(n);
      done_appends.fetch_add(1);
      int64_t seen = last_done.load();
      while (seen < end && !last_done.compare_exchange_weak(seen, end)) {
      }
    }
    if (run.latency != nullptr) {
      std::lock_guard<std::mutex> lock(mu);
      run.latency->Merge(latency);
    }
  };
  std::vector<std::thread> threads;
  for (auto& writer : writers) threads.emplace_back(work, writer.get());
  if (run.progress) {
    // Watch from this thread while the workers run.
    int64_t last_report = start;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const bool finished = stop.load() ||
                            (deadline != 0 && NowNanos() >= deadline) ||
                            (run.total != 0 && done_events.load() >= run.total);
      const int64_t now = NowNanos();
      if (now - last_report >= 1'000'000'000 || finished) {
        const double elapsed = Seconds(now - start);
        std::fprintf(stderr, "  %s: %llu events, %.0f events/s\n",
                     std::string(run.phase).c_str(),
                     static_cast<unsigned long long>(done_events.load()),
                     elapsed > 0
                         ? static_cast<double>(done_events.load()) / elapsed
                         : 0.0);
        last_report = now;
      }
      if (finished) break;
    }
  }
  for (auto& thread : threads) thread.join();
  if (!error.ok()) return error;
  totals->events = done_events.load();
  totals->appends = done_appends.load();
  totals->start_ns = start;
  totals->last_done_ns = std::max(last_done.load(), start);
  return Status::Ok();
}

void SetRate(PeerResult* result) {
  result->events_per_sec =
      result->seconds > 0
          ? static_cast<double>(result->events) / result->seconds
          : 0;
}

Status RunAppends(Driver* driver, const WorkloadConfig& config, int threads,
                  uint64_t per_append, uint64_t seed, PeerResult* result) {
  const auto streams = StreamNames(config.streams);
  const auto pool = tools::bench::MakeEvents(
      config.event_size, std::max<size_t>(kEventPool, per_append), seed);
  WriterRun run;
  run.threads = threads;
  run.per_append = per_append;
  run.mode = WriterMode::kDurable;
  run.latency = &result->latency_ns;
  run.progress = config.progress;
  run.phase = result->workload;
  run.seconds = config.seconds;
  WriterTotals totals;
  Status s = RunWriters(driver, streams, pool, run, &totals);
  if (!s.ok()) return s;
  result->latency_of = "append";
  result->writers = static_cast<uint64_t>(threads);
  result->events = totals.events;
  result->operations = totals.appends;
  result->seconds = Seconds(totals.last_done_ns - totals.start_ns);
  SetRate(result);
  return Status::Ok();
}

Status RunConcurrent(Driver* driver, const WorkloadConfig& config,
                     PeerResult* result) {
  if (!driver->runs_concurrent()) {
    return RunAppends(driver, config, driver->concurrent_writers(), 1,
                      kConcurrentSeed, result);
  }
  const auto streams = StreamNames(config.streams);
  const auto pool =
      tools::bench::MakeEvents(config.event_size, kEventPool, kConcurrentSeed);
  ConcurrentSpec spec;
  spec.streams = &streams;
  spec.pool = &pool;
  spec.in_flight = config.in_flight;
  spec.seconds = config.seconds;
  ConcurrentOutcome outcome;
  Status s = driver->RunConcurrent(spec, &outcome);
  if (!s.ok()) return s;
  result->latency_of = "append";
  result->writers = config.in_flight;
  result->events = outcome.events;
  result->operations = outcome.events;
  result->seconds = outcome.seconds;
  result->latency_ns = std::move(outcome.latency_ns);
  SetRate(result);
  return Status::Ok();
}

Status RunReadAll(Driver* driver, const WorkloadConfig& config,
                  PeerResult* result) {
  const uint64_t total = config.read_events;
  {
    const auto streams = StreamNames(config.streams);
    const auto pool =
        tools::bench::MakeEvents(config.event_size, kEventPool, kLoadSeed);
    WriterRun run;
    run.threads = driver->load_writers();
    run.per_append = config.batch_events;
    run.total = total;
    run.mode = WriterMode::kLoad;
    run.progress = config.progress;
    run.phase = "read-all load";
    WriterTotals totals;
    Status s = RunWriters(driver, streams, pool, run, &totals);
    if (!s.ok()) return s;
    s = driver->AfterLoad();
    if (!s.ok()) return s;
    result->loaded_events = totals.events;
    result->load_seconds = Seconds(NowNanos() - totals.start_ns);
  }
  result->latency_of = "pass";
  result->writers = 1;
  auto warm = driver->ReadAllPass(total);
  if (!warm.ok()) return warm.status();
  if (*warm != total) {
    return Status::Corruption("read-all", 0,
                              "warm-up pass saw " + std::to_string(*warm) +
                                  " events, loaded " + std::to_string(total));
  }
  const int64_t start = NowNanos();
  const int64_t deadline = start + static_cast<int64_t>(config.seconds * 1e9);
  int64_t now = start;
  do {  // at least one timed pass
    auto seen = driver->ReadAllPass(total);
    const int64_t end = NowNanos();
    if (!seen.ok()) return seen.status();
    if (*seen != total) {
      return Status::Corruption("read-all", 0,
                                "a pass saw " + std::to_string(*seen) +
                                    " events, loaded " + std::to_string(total));
    }
    result->latency_ns.Record(static_cast<uint64_t>(end - now));
    result->events += *seen;
    ++result->operations;
    if (config.progress) {
      std::fprintf(stderr, "  read-all: pass %llu, %.0f events/s\n",
                   static_cast<unsigned long long>(result->operations),
                   static_cast<double>(*seen) / Seconds(end - now));
    }
    now = end;
  } while (now < deadline);
  result->seconds = Seconds(now - start);
  SetRate(result);
  return Status::Ok();
}

}  // namespace

Result<PeerResult> RunWorkload(Driver* driver, std::string_view name,
                               const WorkloadConfig& config) {
  PeerResult result;
  result.workload = std::string(name);
  Status s = driver->Reset();
  if (!s.ok()) return s;
  if (name == "single") {
    s = RunAppends(driver, config, 1, 1, kSyncSeed, &result);
  } else if (name == "batch") {
    s = RunAppends(driver, config, 1, config.batch_events, kSyncSeed, &result);
  } else if (name == "concurrent") {
    s = RunConcurrent(driver, config, &result);
  } else if (name == "read-all") {
    s = RunReadAll(driver, config, &result);
  } else {
    s = Status::InvalidArgument("unknown workload '" + std::string(name) + "'");
  }
  if (!s.ok()) return s;
  return result;
}

}  // namespace cairn::peers
