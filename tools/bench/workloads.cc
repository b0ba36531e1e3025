// Copyright (c) Cairn authors.
#include "tools/bench/workloads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

#include "cairn/inspect.h"
#include "tools/bench/cairn_driver.h"
#include "tools/bench/loops.h"
#include "tools/bench/scavenge.h"
#include "tools/bench/subscribe.h"

namespace cairn::tools::bench {
namespace {

constexpr uint64_t kDefaultStreams = 10'000;
constexpr uint64_t kDefaultReadStreams = 100'000;
constexpr uint64_t kDefaultReadAllEvents = 1'000'000;
constexpr uint64_t kDefaultEventsPerStream = 10;
constexpr uint64_t kDefaultScaleEvents = 100'000'000;
// read-category and read-long-stream: the length of the streams read, the
// plain stream's name (no '-': in no category) and the events per read.
constexpr uint64_t kDefaultLongStream = 500'000;
constexpr char kLedgerStream[] = "Ledger";
constexpr uint64_t kLongStreamPage = 1024;
// The most events one whole-stream read of read-streams and scale asks for
// (their streams are shorter).
constexpr uint64_t kStreamReadMax = 4096;
// Distinct events cycled through by the writers: enough variety that no
// cache or compressor sees the same bytes over and over, few enough to
// build up front.
constexpr size_t kEventPool = 256;
// The seeds of each workload's events.
constexpr uint64_t kLoadSeed = 1;
constexpr uint64_t kSyncSeed = 2;
constexpr uint64_t kConcurrentSeed = 3;
constexpr uint64_t kScaleSeed = 4;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string FormatUuid(uint64_t hi, uint64_t lo) {
  char text[40];
  (void)std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                      static_cast<unsigned>(hi >> 32),
                      static_cast<unsigned>((hi >> 16) & 0xFFFF),
                      static_cast<unsigned>(hi & 0xFFFF),
                      static_cast<unsigned>(lo >> 48),
                      static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return text;
}

std::vector<std::string> StreamNames(uint64_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (uint64_t i = 0; i < count; ++i) names.push_back(StreamName(i));
  return names;
}

uint64_t Or(uint64_t value, uint64_t fallback) {
  return value != 0 ? value : fallback;
}

std::string Phase(Driver* driver, const WorkloadResult* result,
                  std::string_view what = "") {
  std::string phase = driver->name() + " " + result->workload;
  if (!what.empty()) phase.append(" ").append(what);
  return phase;
}

void Say(const WorkloadConfig& config, const std::string& line) {
  if (config.progress != nullptr) config.progress->Show(line);
}

void SetRate(WorkloadResult* result, double seconds) {
  result->seconds = seconds;
  result->events_per_sec =
      seconds > 0 ? static_cast<double>(result->events) / seconds : 0;
}

// NotSupported unless the driver has every capability workload `name`
// needs (InvalidArgument for an unknown name).
Status CheckCapabilities(const Driver& driver, std::string_view name) {
  if (std::find(std::begin(kWorkloadNames), std::end(kWorkloadNames), name) ==
      std::end(kWorkloadNames)) {
    return Status::InvalidArgument("unknown workload '" + std::string(name) +
                                   "'");
  }
  const Capabilities c = driver.capabilities();
  bool has = true;
  if (name == "read-streams" || name == "read-category" ||
      name == "read-long-stream") {
    has = c.read_stream;
  } else if (name == "scale") {
    has = c.kill_reopen && c.read_stream && c.in_process;
  } else if (name == "subscribe") {
    has = c.subscribe && c.async_append;
  } else if (name == "scavenge") {
    has = false;  // a Store of its own: RunWorkload(name, config)
  } else if (name == "read-all-unverified") {
    has = c.unverified_reads;
  }
  if (has) return Status::Ok();
  return Status::NotSupported(driver.name() + " can not run " +
                              std::string(name));
}

// Stored bytes per event, streams and group commits where the driver
// reports them; the process's memory where the store lives in it.
Status RecordStore(Driver* driver, uint64_t streams_written,
                   WorkloadResult* result) {
  const Capabilities caps = driver->capabilities();
  result->streams = streams_written;
  if (caps.stats) {
    auto stats = driver->Stats();
    if (!stats.ok()) return stats.status();
    if (stats->events > 0) {
      result->bytes_per_event = static_cast<double>(stats->bytes) /
                                static_cast<double>(stats->events);
    }
    result->streams = stats->streams;
    result->commits = stats->commits;
    result->committed_events = stats->committed_events;
    result->syncs = stats->syncs;
    result->sync_micros = stats->sync_micros;
  }
  if (caps.in_process) result->memory = ReadMemoryUsage();
  return Status::Ok();
}

// The append workloads' common run over `streams`.
AppendRun MeasuredRun(const WorkloadConfig& config,
                      const std::vector<std::string>& streams,
                      const std::vector<EventData>& pool, uint64_t per_append,
                      WorkloadResult* result) {
  AppendRun run;
  run.streams = &streams;
  run.pool = &pool;
  run.per_append = per_append;
  run.total = config.events;
  run.seconds = config.seconds;
  run.latency = &result->latency_ns;
  run.progress = config.progress;
  return run;
}

Status FinishAppends(Driver* driver, const AppendTotals& totals,
                     uint64_t streams, WorkloadResult* result) {
  result->latency_of = "append";
  result->events = totals.events;
  result->operations = totals.appends;
  SetRate(result, Seconds(totals.last_done_ns - totals.start_ns));
  Status s = RecordStore(driver, streams, result);
  if (!s.ok()) return s;
  return driver->Close();
}

// single and batch: synchronous appends of `per_append` events, from
// config.writers threads.
Status RunSyncAppends(Driver* driver, const WorkloadConfig& config,
                      uint64_t per_append, WorkloadResult* result) {
  const auto streams = StreamNames(Or(config.streams, kDefaultStreams));
  const auto pool = MakeEvents(
      config.event_size, std::max<size_t>(kEventPool, per_append), kSyncSeed);
  Status s = driver->Open(WriteMode::kMeasured);
  if (!s.ok()) return s;
  AppendRun run = MeasuredRun(config, streams, pool, per_append, result);
  run.phase = Phase(driver, result);
  run.threads = static_cast<int>(std::max<uint32_t>(config.writers, 1));
  AppendTotals totals;
  s = RunWriters(driver, run, &totals);
  if (!s.ok()) return s;
  result->writers = static_cast<uint64_t>(run.threads);
  return FinishAppends(driver, totals, streams.size(), result);
}

// concurrent: single-event appends, `in_flight` of them through
// AppendAsync, or from the driver's concurrent_writers() threads.
Status RunConcurrent(Driver* driver, const WorkloadConfig& config,
                     WorkloadResult* result) {
  const auto streams = StreamNames(Or(config.streams, kDefaultStreams));
  const auto pool = MakeEvents(config.event_size, kEventPool, kConcurrentSeed);
  Status s = driver->Open(WriteMode::kMeasured);
  if (!s.ok()) return s;
  AppendRun run = MeasuredRun(config, streams, pool, 1, result);
  run.phase = Phase(driver, result);
  AppendTotals totals;
  if (driver->capabilities().async_append) {
    run.in_flight = std::max<uint32_t>(config.in_flight, 1);
    result->writers = run.in_flight;
    s = RunPipelined(driver, run, &totals);
  } else {
    run.threads = driver->concurrent_writers();
    result->writers = static_cast<uint64_t>(run.threads);
    s = RunWriters(driver, run, &totals);
  }
  if (!s.ok()) return s;
  return FinishAppends(driver, totals, streams.size(), result);
}

// Loads `total` events, `per_append` at a time round-robin over `streams`,
// then lets the driver do what follows a load (Cairn: close and reopen,
// timed), so the read workloads start from a store as a restarted
// application would find it.
Status Preload(Driver* driver, const WorkloadConfig& config, uint64_t total,
               uint64_t per_append, const std::vector<std::string>& streams,
               WorkloadResult* result) {
  const auto pool = MakeEvents(config.event_size, kEventPool, kLoadSeed);
  Status s = driver->Open(WriteMode::kLoad);
  if (!s.ok()) return s;
  AppendTotals totals;
  s = LoadEvents(driver, streams, pool, total, per_append, WriteMode::kLoad,
                 config.progress, Phase(driver, result, "load"), &totals);
  if (!s.ok()) return s;
  result->loaded_events = totals.events;
  result->load_seconds = Seconds(NowNanos() - totals.start_ns);
  Say(config, Phase(driver, result, "after the load"));
  const int64_t start = NowNanos();
  s = driver->AfterLoad();
  if (!s.ok()) return s;
  result->open_seconds = Seconds(NowNanos() - start);
  if (driver->capabilities().in_process) {
    result->memory_after_open = ReadMemoryUsage();
  }
  return RecordStore(driver, streams.size(), result);
}

// One pass over everything that must see all `total` events.
Result<uint64_t> FullPass(Driver* driver, uint64_t total, bool verify = true) {
  auto seen = verify ? driver->ReadAllPass(total)
                     : driver->ReadAllPassUnverified(total);
  if (!seen.ok()) return seen.status();
  if (*seen != total) {
    return Status::Corruption(driver->name(), 0,
                              "a pass over everything saw " +
                                  std::to_string(*seen) + " events, loaded " +
                                  std::to_string(total));
  }
  return seen;
}

Status FinishReads(Driver* driver, const TimedTotals& timed,
                   WorkloadResult* result) {
  result->events = timed.events;
  result->operations = timed.operations;
  SetRate(result, timed.seconds);
  result->writers = 1;
  if (driver->capabilities().in_process) result->memory = ReadMemoryUsage();
  return driver->Close();
}

Status RunReadAll(Driver* driver, const WorkloadConfig& config, bool verify,
                  WorkloadResult* result) {
  const uint64_t total = Or(config.events, kDefaultReadAllEvents);
  const auto streams = StreamNames(Or(config.streams, kDefaultStreams));
  Status s = Preload(driver, config, total, kBatchEvents, streams, result);
  if (!s.ok()) return s;
  result->latency_of = "pass";
  Say(config, Phase(driver, result, "warm-up pass"));
  auto warm = FullPass(driver, total, verify);
  if (!warm.ok()) return warm.status();
  TimedTotals timed;
  s = RunTimed(
      config.seconds,
      [&]() -> Result<Step> {
        auto seen = FullPass(driver, total, verify);
        if (!seen.ok()) return seen.status();
        return Step{*seen, true};
      },
      &result->latency_ns, config.progress, Phase(driver, result), &timed);
  if (!s.ok()) return s;
  return FinishReads(driver, timed, result);
}

// Random whole-stream reads of streams[0, count) for `seconds`.
Status RandomStreamReads(Driver* driver,
                         const std::vector<std::string>& streams,
                         uint64_t count, uint64_t seed, double seconds,
                         LatencyHistogram* latency, Progress* progress,
                         const std::string& phase, TimedTotals* out) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, count - 1);
  return RunTimed(
      seconds,
      [&]() -> Result<Step> {
        auto page = driver->ReadStream(streams[pick(rng)], 0, kStreamReadMax);
        if (!page.ok()) return page.status();
        return Step{page->events, true};
      },
      latency, progress, phase, out);
}

Status RunReadStreams(Driver* driver, const WorkloadConfig& config,
                      WorkloadResult* result) {
  const uint64_t stream_count = Or(config.streams, kDefaultReadStreams);
  const uint64_t total =
      Or(config.events, stream_count * kDefaultEventsPerStream);
  const auto streams = StreamNames(std::min(stream_count, total));
  // One event per append, round-robin: each stream's events end up spread
  // over the log as they are when many aggregates change at once.
  Status s = Preload(driver, config, total, 1, streams, result);
  if (!s.ok()) return s;
  result->latency_of = "read";
  Say(config, Phase(driver, result, "warm-up pass"));
  // Warm: fault in every page of the log once.
  auto warm = FullPass(driver, total);
  if (!warm.ok()) return warm.status();
  TimedTotals timed;
  s = RandomStreamReads(driver, streams, streams.size(), 7, config.seconds,
                        &result->latency_ns, config.progress,
                        Phase(driver, result), &timed);
  if (!s.ok()) return s;
  return FinishReads(driver, timed, result);
}

// read-category and read-long-stream: one log holding a plain stream
// ("Ledger", no category) and, interleaved with it event by event, as
// many events spread over streams of category "Order"; then whole-stream
// reads (1024 events per read) of `target`, `$ce-Order` or "Ledger":
// streams of the same length, so the two rates compare a category stream
// with a plain one. Only whole passes are timed; the first warms the
// pages.
Status RunReadLong(Driver* driver, const WorkloadConfig& config,
                   const std::string& target, WorkloadResult* result) {
  const uint64_t total = Or(config.events, kDefaultLongStream * 2);
  const uint64_t orders = Or(config.streams, kDefaultStreams);
  std::vector<std::string> streams;
  for (uint64_t i = 0; i < orders; ++i) {
    streams.emplace_back(kLedgerStream);
    streams.push_back(StreamName(i));
  }
  Status s = Preload(driver, config, total, 1, streams, result);
  if (!s.ok()) return s;
  result->latency_of = "read";
  uint64_t from = 0;
  TimedTotals timed;
  s = RunTimed(
      config.seconds,
      [&]() -> Result<Step> {
        auto page = driver->ReadStream(target, from, kLongStreamPage);
        if (!page.ok()) return page.status();
        from += page->events;
        const bool pass_done = page->end_of_stream || page->events == 0;
        if (pass_done) from = 0;
        return Step{page->events, pass_done};
      },
      &result->latency_ns, config.progress, Phase(driver, result), &timed);
  if (!s.ok()) return s;
  return FinishReads(driver, timed, result);
}

// scale: 100-event appends, one thread, up to `events`, with a sample at
// every tenth; then a kill -9 and a clean reopen, both timed; then random
// whole-stream reads for config.seconds after as long a warm-up.
Status RunScale(Driver* driver, const WorkloadConfig& config,
                WorkloadResult* result) {
  const uint64_t total = Or(config.events, kDefaultScaleEvents);
  const auto streams = StreamNames(Or(config.streams, kDefaultStreams));
  const auto pool = MakeEvents(config.event_size, kEventPool, kScaleSeed);
  Status s = driver->Open(WriteMode::kMeasured);
  if (!s.ok()) return s;
  AppendRun run = MeasuredRun(config, streams, pool, kBatchEvents, result);
  run.total = total;
  run.seconds = 0;
  run.phase = Phase(driver, result);
  const int64_t start = NowNanos();
  int64_t last_sample_ns = start;
  uint64_t last_sample_events = 0;
  uint64_t next_tenth = 1;
  run.after_append = [&](uint64_t events, int64_t end, const Appended&) {
    while (next_tenth <= 10 && events * 10 >= total * next_tenth) {
      ScaleSample sample;
      sample.events = events;
      sample.seconds = Seconds(end - start);
      const double interval = Seconds(end - last_sample_ns);
      sample.events_per_sec =
          interval > 0
              ? static_cast<double>(events - last_sample_events) / interval
              : 0;
      sample.memory = ReadMemoryUsage();
      result->samples.push_back(sample);
      last_sample_ns = end;
      last_sample_events = events;
      ++next_tenth;
    }
  };
  AppendTotals totals;
  s = RunWriters(driver, run, &totals);
  if (!s.ok()) return s;
  result->writers = 1;
  s = FinishAppends(driver, totals, streams.size(), result);
  if (!s.ok()) return s;
  result->loaded_events = result->events;
  result->load_seconds = result->seconds;

  // What a restart costs at this size: after a kill -9 (with 1.5 in-memory
  // index tables' worth of further appends, so the index holds at least
  // one table's worth it has not written out), and after a clean shutdown.
  Say(config, Phase(driver, result, "appending, then kill -9"));
  auto killed = driver->AppendKillReopen(
      streams, pool, Options().index_memtable_events * 3 / 2);
  if (!killed.ok()) return killed.status();
  result->crash_appended_events = killed->appended_events;
  result->crash_replayed_events = killed->replayed_events;
  result->crash_open_seconds = killed->open_seconds;
  Say(config, Phase(driver, result, "reopening the store"));
  const int64_t open_start = NowNanos();
  s = driver->Open(WriteMode::kMeasured);
  if (!s.ok()) return s;
  result->open_seconds = Seconds(NowNanos() - open_start);
  result->memory_after_open = ReadMemoryUsage();
  // Only streams the load reached (one append of kBatchEvents each, round
  // robin).
  const uint64_t reached = std::min<uint64_t>(
      streams.size(),
      (result->loaded_events + kBatchEvents - 1) / kBatchEvents);
  TimedTotals warm;
  s = RandomStreamReads(driver, streams, reached, 9, config.seconds, nullptr,
                        config.progress, Phase(driver, result, "read warm-up"),
                        &warm);
  if (!s.ok()) return s;
  TimedTotals reads;
  s = RandomStreamReads(driver, streams, reached, 9, config.seconds,
                        &result->read_latency_ns, config.progress,
                        Phase(driver, result, "random reads"), &reads);
  if (!s.ok()) return s;
  result->reads = reads.operations;
  result->read_events = reads.events;
  result->read_seconds = reads.seconds;
  return driver->Close();
}

}  // namespace

uint64_t StoredAppendBytes(uint32_t event_size, uint64_t events) {
  const EventData sample = MakeEvents(event_size, 1, 0).front();
  return inspect::StoredAppendBytes(StreamName(0).size(), events,
                                    sample.type.size(), sample.metadata.size(),
                                    sample.data.size());
}

uint64_t StoredEventBytes(uint32_t event_size) {
  return StoredAppendBytes(event_size, 1);
}

std::string StreamName(uint64_t index) {
  return "Order-" + FormatUuid(SplitMix64(index), SplitMix64(~index));
}

std::vector<EventData> MakeEvents(uint32_t size, size_t count, uint64_t seed) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::mt19937_64 rng(seed);
  auto fill = [&](size_t n) {
    std::string text(n, ' ');
    for (char& c : text) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    return text;
  };
  const std::string type = "OrderPlaced";
  std::vector<EventData> events;
  events.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    EventData event;
    event.type = type.substr(0, std::min<size_t>(type.size(), size / 2));
    size_t left = size - event.type.size();
    std::string metadata = "{\"correlationId\":\"" + FormatUuid(rng(), rng()) +
                           "\",\"causationId\":\"" + FormatUuid(rng(), rng()) +
                           "\"}";
    // Metadata only when it leaves room for a real payload.
    if (left >= metadata.size() + 64) {
      event.metadata = std::move(metadata);
      left -= event.metadata.size();
    }
    std::string head = "{\"orderId\":\"" + FormatUuid(rng(), rng()) +
                       "\",\"amount\":" + std::to_string(rng() % 100000) +
                       ",\"note\":\"";
    const std::string tail = "\"}";
    if (left >= head.size() + tail.size()) {
      event.data = head;
      event.data += fill(left - head.size() - tail.size());
      event.data += tail;
    } else if (left >= 2) {
      event.data = "\"" + fill(left - 2) + "\"";
    } else {
      event.data = fill(left);  // too small for JSON; size wins
      event.content_type = ContentType::kBinary;
    }
    events.push_back(std::move(event));
  }
  return events;
}

Result<WorkloadResult> RunWorkload(Driver* driver, std::string_view name,
                                   const WorkloadConfig& config) {
  WorkloadResult result;
  result.workload = std::string(name);
  result.payload_bytes_per_event = config.event_size;
  Status s = CheckCapabilities(*driver, name);
  if (s.ok()) s = driver->Reset();
  if (!s.ok()) return s;
  if (name == "single") {
    s = RunSyncAppends(driver, config, 1, &result);
  } else if (name == "batch") {
    s = RunSyncAppends(driver, config, kBatchEvents, &result);
  } else if (name == "concurrent" || name == "concurrent-plain") {
    s = RunConcurrent(driver, config, &result);
  } else if (name == "read-category") {
    s = RunReadLong(driver, config, "$ce-Order", &result);
  } else if (name == "read-long-stream") {
    s = RunReadLong(driver, config, kLedgerStream, &result);
  } else if (name == "read-all" || name == "read-all-unverified") {
    s = RunReadAll(driver, config, name == "read-all", &result);
  } else if (name == "read-streams") {
    s = RunReadStreams(driver, config, &result);
  } else if (name == "scale") {
    s = RunScale(driver, config, &result);
  } else {
    s = RunSubscribe(driver, config, &result);
  }
  if (config.progress != nullptr) config.progress->Clear();
  if (!s.ok()) {
    (void)driver->Close();
    return s;
  }
  return result;
}

Result<WorkloadResult> RunWorkload(std::string_view name,
                                   const WorkloadConfig& config) {
  if (name == "scavenge") {
    WorkloadResult result;
    result.workload = std::string(name);
    result.payload_bytes_per_event = config.event_size;
    Status s = RunScavenge(config, &result);
    if (config.progress != nullptr) config.progress->Clear();
    if (!s.ok()) return s;
    return result;
  }
  CairnDriver driver(
      config.dir, config.durability,
      config.category_and_type_streams && name != "concurrent-plain");
  driver.set_index_cache_streams(config.index_cache_streams);
  return RunWorkload(&driver, name, config);
}

}  // namespace cairn::tools::bench
