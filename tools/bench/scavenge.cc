// Copyright (c) Cairn authors.
#include "tools/bench/scavenge.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/store.h"
#include "tools/bench/loops.h"
#include "tools/bench/sysinfo.h"

namespace cairn::tools::bench {
namespace {

constexpr uint64_t kDefaultStreams = 1000;
constexpr size_t kEventPool = 256;
constexpr uint64_t kBuildSeed = 11;
constexpr uint64_t kAppendSeed = 12;

// Whether stream `s` is removable: spread evenly, `removable` of any
// prefix of the streams (to within one stream) is.
bool Removable(uint64_t s, double removable) {
  return std::floor(static_cast<double>(s + 1) * removable) !=
         std::floor(static_cast<double>(s) * removable);
}

std::vector<EventData> Batch(const std::vector<EventData>& pool, uint64_t first,
                             uint64_t count) {
  std::vector<EventData> batch;
  batch.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    batch.push_back(pool[(first + i) % pool.size()]);
  }
  return batch;
}

Result<std::unique_ptr<Store>> OpenStore(const WorkloadConfig& config,
                                         Durability durability) {
  Options options;
  options.durability = durability;
  options.category_and_type_streams = config.category_and_type_streams;
  return Store::Open(config.dir, options);
}

// Step 1: the store, closed afterwards; fills the load figures.
Status Build(const WorkloadConfig& config,
             const std::vector<std::string>& streams,
             const std::vector<EventData>& pool, WorkloadResult* result) {
  auto opened = OpenStore(config, Durability::kNone);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Store> store = std::move(opened).value();
  const uint64_t total =
      config.events != 0
          ? config.events
          : std::max<uint64_t>(
                1, config.store_bytes * kBatchEvents /
                       StoredAppendBytes(config.event_size, kBatchEvents));
  const int64_t start = NowNanos();
  std::vector<uint64_t> lengths(streams.size(), 0);
  for (uint64_t done = 0, i = 0; done < total; ++i) {
    const uint64_t n = std::min(kBatchEvents, total - done);
    const uint64_t s = i % streams.size();
    auto r =
        store->Append(streams[s], ExpectedVersion::Any(), Batch(pool, done, n));
    if (!r.ok()) return r.status();
    lengths[s] += n;
    done += n;
    ShowRate(config.progress, NowNanos(), "cairn scavenge load", done, start,
             static_cast<double>(done) / static_cast<double>(total));
  }
  uint64_t removable = 0;
  for (uint64_t s = 0; s < streams.size(); ++s) {
    if (lengths[s] == 0 || !Removable(s, config.removable)) continue;
    Status st =
        removable++ % 2 == 0
            ? store->Tombstone(streams[s], ExpectedVersion::Any()).status()
            : store
                  ->SetStreamMetadataJson(streams[s], ExpectedVersion::Any(),
                                          R"({"$maxCount":1})")
                  .status();
    if (!st.ok()) return st;
  }
  result->loaded_events = total;
  result->load_seconds = Seconds(NowNanos() - start);
  return store->Close();
}

// One single-event append to a kept stream per step, for config.seconds
// and until `may_stop`.
Status SampleAppends(Store* store, const WorkloadConfig& config,
                     const std::vector<EventData>& pool,
                     const std::function<bool()>& may_stop, const char* phase,
                     LatencyHistogram* latency, TimedTotals* out) {
  uint64_t n = 0;
  return RunTimed(
      config.seconds,
      [&]() -> Result<Step> {
        const std::string stream = "Live-" + std::to_string(n % 100);
        auto r =
            store->Append(stream, ExpectedVersion::Any(), Batch(pool, n++, 1));
        if (!r.ok()) return r.status();
        return Step{1, may_stop()};
      },
      latency, config.progress, phase, out);
}

}  // namespace

Status RunScavenge(const WorkloadConfig& config, WorkloadResult* result) {
  std::error_code ignored;
  std::filesystem::remove_all(config.dir, ignored);
  const uint64_t stream_count =
      config.streams != 0 ? config.streams : kDefaultStreams;
  std::vector<std::string> streams;
  for (uint64_t i = 0; i < stream_count; ++i) {
    streams.push_back(StreamName(i));
  }
  const auto pool = MakeEvents(config.event_size, kEventPool, kBuildSeed);
  Status s = Build(config, streams, pool, result);
  if (!s.ok()) return s;

  if (config.progress != nullptr) {
    config.progress->Show("cairn scavenge reopening the store");
  }
  const int64_t open_start = NowNanos();
  auto opened = OpenStore(config, config.durability);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Store> store = std::move(opened).value();
  result->open_seconds = Seconds(NowNanos() - open_start);
  result->memory_after_open = ReadMemoryUsage();
  auto stats = store->GetStats();
  if (!stats.ok()) return stats.status();
  result->streams = stats->streams;
  if (stats->events > 0) {
    result->bytes_per_event =
        static_cast<double>(stats->bytes) / static_cast<double>(stats->events);
  }

  // Step 2: appends without a scavenge, the baseline.
  const auto appended = MakeEvents(config.event_size, kEventPool, kAppendSeed);
  TimedTotals quiet;
  s = SampleAppends(
      store.get(), config, appended, [] { return true; },
      "cairn scavenge appends", &result->latency_ns, &quiet);
  if (!s.ok()) return s;
  result->latency_of = "append";
  result->operations = quiet.operations;
  result->writers = 1;

  // Step 3: one Scavenge of the store, timed, while the same appends go
  // on until it ends.
  if (config.progress != nullptr) {
    config.progress->Show("cairn scavenge scavenging");
  }
  ScavengeFigures& f = result->scavenge;
  f.removable = config.removable;
  f.throttle_percent = config.scavenge_throttle_percent;
  f.bytes_per_sync = config.scavenge_bytes_per_sync;
  ScavengeOptions options;
  options.throttle_percent = config.scavenge_throttle_percent;
  options.bytes_per_sync = config.scavenge_bytes_per_sync;
  std::atomic<bool> done{false};
  Result<ScavengeResult> scavenged = Status::Closed("not run");
  const int64_t start = NowNanos();
  std::thread scavenger([&] {
    scavenged = store->Scavenge(options);
    f.seconds = Seconds(NowNanos() - start);
    done.store(true);
  });
  WorkloadConfig sampling = config;
  sampling.seconds = 0;  // as long as the scavenge runs, at least once
  sampling.progress = nullptr;
  TimedTotals busy;
  s = SampleAppends(
      store.get(), sampling, appended, [&] { return done.load(); },
      "cairn scavenge appends while scavenging", &f.latency_ns, &busy);
  if (!s.ok()) (void)store->StopScavenge();
  scavenger.join();
  if (!s.ok()) return s;
  if (!scavenged.ok()) return scavenged.status();
  f.appends_while_scavenging = busy.operations;
  f.events_examined = scavenged->events_examined;
  f.events_removed = scavenged->events_removed;
  f.bytes_examined = stats->bytes;
  f.parts_bytes_before = scavenged->bytes_before;
  f.bytes_written = scavenged->bytes_after;
  f.rested_seconds = static_cast<double>(scavenged->rested_us) / 1e6;
  result->events = f.events_examined;
  result->seconds = f.seconds;
  result->events_per_sec =
      f.seconds > 0 ? static_cast<double>(f.events_examined) / f.seconds : 0;
  result->memory = ReadMemoryUsage();
  return store->Close();
}

}  // namespace cairn::tools::bench
