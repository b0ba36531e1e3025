// Copyright (c) Cairn authors.
#include "tools/bench/workloads.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <utility>

#include "cairn/inspect.h"
#include "cairn/store.h"
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
// Distinct events cycled through by the writers: enough variety that no
// cache or compressor sees the same bytes over and over, few enough to
// build up front.
constexpr size_t kEventPool = 256;
// Appends a pre-load keeps in flight: enough to keep the commit thread
// busy, the point being to load fast, not to measure.
constexpr uint64_t kLoadInFlight = 64;

// Where the read passes leave what they computed, so no optimiser can
// decide the work was unused.
std::atomic<uint64_t> g_sink{0};

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

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

int64_t Deadline(int64_t start, double seconds) {
  return start + static_cast<int64_t>(seconds * 1e9);
}

std::vector<std::string> StreamNames(uint64_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (uint64_t i = 0; i < count; ++i) names.push_back(StreamName(i));
  return names;
}

Result<std::unique_ptr<Store>> OpenStore(const WorkloadConfig& config,
                                         Durability durability) {
  Options options;
  options.durability = durability;
  options.category_and_type_streams = config.category_and_type_streams;
  return Store::Open(config.dir, options);
}

void ShowRate(Progress* progress, int64_t now, std::string_view phase,
              uint64_t events, int64_t start, double fraction) {
  if (progress == nullptr || !progress->Due(now)) return;
  const double elapsed = Seconds(now - start);
  std::string line = "cairn bench: ";
  line.append(phase);
  char tail[96];
  (void)std::snprintf(
      tail, sizeof(tail), "  %3.0f%%  %s events  %s ev/s",
      std::clamp(fraction, 0.0, 1.0) * 100.0,
      Short(static_cast<double>(events)).c_str(),
      Short(elapsed > 0 ? static_cast<double>(events) / elapsed : 0).c_str());
  line.append(tail);
  progress->Show(line);
}

// Counts asynchronous appends in flight and collects their outcomes. The
// callbacks run on the store's commit thread; everything they touch is
// guarded by mu_.
class Pipeline {
 public:
  Pipeline(uint64_t limit, uint64_t events_per_append,
           LatencyHistogram* latency)
      : limit_(limit),
        events_per_append_(events_per_append),
        latency_(latency) {}

  // Waits until fewer than `limit` appends are in flight and takes a slot;
  // false (and no slot) once an append has failed.
  bool Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < limit_; });
    if (!error_.ok()) return false;
    ++in_flight_;
    return true;
  }
  // Gives back a slot that was not used.
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
  }
  // The callback of an append issued at `start_ns`. Captures two words, so
  // std::function keeps it inline: no allocation of the benchmark's own per
  // append.
  AppendCallback Callback(int64_t start_ns) {
    return [this, start_ns](const Result<AppendResult>& result) {
      Done(result.status(), start_ns);
    };
  }
  // Waits for every append issued so far.
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }

  uint64_t completed_events() {
    std::lock_guard<std::mutex> lock(mu_);
    return completed_events_;
  }
  int64_t last_done_ns() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_done_ns_;
  }
  Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  void Done(const Status& status, int64_t start_ns) {
    const int64_t end = NowNanos();
    // Notify under the lock: once in_flight_ reaches 0 the waiter may
    // return and destroy this object.
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok()) {
      completed_events_ += events_per_append_;
      if (latency_ != nullptr) {
        latency_->Record(static_cast<uint64_t>(end - start_ns));
      }
    } else if (error_.ok()) {
      error_ = status;
    }
    last_done_ns_ = std::max(last_done_ns_, end);
    --in_flight_;
    cv_.notify_one();
  }

  const uint64_t limit_;
  const uint64_t events_per_append_;
  LatencyHistogram* const latency_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t in_flight_ = 0;
  uint64_t completed_events_ = 0;
  int64_t last_done_ns_ = 0;
  Status error_;
};

// Appends `total` events to `store` as fast as it takes them,
// `per_append` at a time, round-robin over `streams`.
Status Load(Store* store, uint64_t total, uint64_t per_append,
            const std::vector<std::string>& streams,
            const std::vector<EventData>& pool, Progress* progress,
            std::string_view phase) {
  Pipeline pipeline(kLoadInFlight, per_append, nullptr);
  const int64_t start = NowNanos();
  uint64_t issued = 0;
  uint64_t i = 0;
  while (issued < total) {
    const uint64_t n = std::min(per_append, total - issued);
    std::vector<EventData> events;
    events.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      events.push_back(pool[(issued + k) % pool.size()]);
    }
    if (!pipeline.Acquire()) break;
    store->AppendAsync(streams[i % streams.size()], ExpectedVersion::Any(),
                       std::move(events), pipeline.Callback(0));
    issued += n;
    ++i;
    const int64_t now = NowNanos();
    ShowRate(progress, now, phase, issued, start,
             static_cast<double>(issued) / static_cast<double>(total));
  }
  pipeline.Drain();
  return pipeline.error();
}

// Loads `total` events with kNone durability, closes, and reopens the store
// (timing the open), so the read workloads start from a store as a
// restarted application would find it.
Result<std::unique_ptr<Store>> PreloadAndReopen(
    const WorkloadConfig& config, uint64_t total, uint64_t per_append,
    const std::vector<std::string>& streams, WorkloadResult* result) {
  auto pool = MakeEvents(config.event_size, kEventPool, 1);
  {
    auto store = OpenStore(config, Durability::kNone);
    if (!store.ok()) return store.status();
    const int64_t start = NowNanos();
    Status s = Load(store->get(), total, per_append, streams, pool,
                    config.progress, result->workload + " load");
    if (s.ok()) s = (*store)->Close();
    if (!s.ok()) return s;
    result->loaded_events = total;
    result->load_seconds = Seconds(NowNanos() - start);
  }
  if (config.progress != nullptr) {
    config.progress->Show("cairn bench: " + result->workload +
                          " reopening the store");
  }
  const int64_t start = NowNanos();
  auto store = OpenStore(config, Durability::kGroupCommit);
  if (!store.ok()) return store.status();
  result->open_seconds = Seconds(NowNanos() - start);
  result->memory_after_open = ReadMemoryUsage();
  return store;
}

// One VisitAll over the whole log; returns the events seen.
Result<uint64_t> VisitEverything(Store* store) {
  ReadAllOptions options;
  options.max_count = std::numeric_limits<uint64_t>::max();
  uint64_t events = 0;
  uint64_t bytes = 0;
  auto next = store->VisitAll(options, [&](const RecordedEventView& event) {
    // Touch what a consumer would, so the pass can not skip decoding.
    ++events;
    bytes += event.data.size() + event.metadata.size() + event.type.size();
    return true;
  });
  if (!next.ok()) return next.status();
  g_sink.fetch_add(bytes, std::memory_order_relaxed);
  return events;
}

// Fills in the stored bytes per event and the stream count.
Status StoredBytes(Store* store, WorkloadResult* result) {
  auto stats = store->GetStats();
  if (!stats.ok()) return stats.status();
  if (stats->events > 0) {
    result->bytes_per_event =
        static_cast<double>(stats->bytes) / static_cast<double>(stats->events);
  }
  result->streams = stats->streams;
  return Status::Ok();
}

Status FinishWrites(Store* store, WorkloadResult* result) {
  Status s = StoredBytes(store, result);
  if (!s.ok()) return s;
  result->memory = ReadMemoryUsage();
  return store->Close();
}

void SetRate(WorkloadResult* result, int64_t elapsed_ns) {
  result->seconds = Seconds(elapsed_ns);
  result->events_per_sec =
      result->seconds > 0
          ? static_cast<double>(result->events) / result->seconds
          : 0;
}

// single and batch: synchronous appends of `per_append` events.
Status RunSyncAppends(const WorkloadConfig& config, uint64_t per_append,
                      WorkloadResult* result) {
  const auto streams =
      StreamNames(config.streams ? config.streams : kDefaultStreams);
  const auto pool = MakeEvents(config.event_size,
                               std::max<size_t>(kEventPool, per_append), 2);
  auto store = OpenStore(config, config.durability);
  if (!store.ok()) return store.status();
  result->latency_of = "append";
  const uint64_t limit = config.events;
  const size_t windows = pool.size() - per_append + 1;
  const int64_t start = NowNanos();
  const int64_t deadline = Deadline(start, config.seconds);
  int64_t now = start;
  uint64_t i = 0;
  while (now < deadline && (limit == 0 || result->events < limit)) {
    std::span<const EventData> events(pool.data() + (i * 7) % windows,
                                      per_append);
    auto appended = (*store)->Append(streams[i % streams.size()],
                                     ExpectedVersion::Any(), events);
    const int64_t end = NowNanos();
    if (!appended.ok()) return appended.status();
    result->latency_ns.Record(static_cast<uint64_t>(end - now));
    result->events += per_append;
    ++result->operations;
    ++i;
    ShowRate(config.progress, end, result->workload, result->events, start,
             limit != 0 ? static_cast<double>(result->events) /
                              static_cast<double>(limit)
                        : Seconds(end - start) / config.seconds);
    now = end;
  }
  SetRate(result, now - start);
  return FinishWrites(store->get(), result);
}

Status RunConcurrent(const WorkloadConfig& config, WorkloadResult* result) {
  const auto streams =
      StreamNames(config.streams ? config.streams : kDefaultStreams);
  const auto pool = MakeEvents(config.event_size, kEventPool, 3);
  auto store = OpenStore(config, config.durability);
  if (!store.ok()) return store.status();
  result->latency_of = "append";
  Pipeline pipeline(kConcurrentInFlight, 1, &result->latency_ns);
  const uint64_t limit = config.events;
  const int64_t start = NowNanos();
  const int64_t deadline = Deadline(start, config.seconds);
  uint64_t issued = 0;
  for (;;) {
    if (!pipeline.Acquire()) break;
    const int64_t now = NowNanos();
    if (now >= deadline || (limit != 0 && issued >= limit)) {
      pipeline.Cancel();
      break;
    }
    // The API takes the stream and events by value; building them is part
    // of what an application pays per append.
    std::vector<EventData> events{pool[issued % pool.size()]};
    (*store)->AppendAsync(streams[issued % streams.size()],
                          ExpectedVersion::Any(), std::move(events),
                          pipeline.Callback(now));
    ++issued;
    ShowRate(config.progress, now, result->workload, issued, start,
             limit != 0
                 ? static_cast<double>(issued) / static_cast<double>(limit)
                 : Seconds(now - start) / config.seconds);
  }
  pipeline.Drain();
  if (Status s = pipeline.error(); !s.ok()) return s;
  result->events = pipeline.completed_events();
  result->operations = result->events;
  SetRate(result, pipeline.last_done_ns() - start);
  return FinishWrites(store->get(), result);
}

Status RunReadAll(const WorkloadConfig& config, WorkloadResult* result) {
  const uint64_t total = config.events ? config.events : kDefaultReadAllEvents;
  const auto streams =
      StreamNames(config.streams ? config.streams : kDefaultStreams);
  auto store = PreloadAndReopen(config, total, kBatchEvents, streams, result);
  if (!store.ok()) return store.status();
  Status s = StoredBytes(store->get(), result);
  if (!s.ok()) return s;
  result->latency_of = "pass";
  if (config.progress != nullptr) {
    config.progress->Show("cairn bench: read-all warm-up pass");
  }
  auto warm = VisitEverything(store->get());
  if (!warm.ok()) return warm.status();
  if (*warm != total) {
    return Status::Corruption(config.dir, 0,
                              "read-all saw " + std::to_string(*warm) +
                                  " events, loaded " + std::to_string(total));
  }
  const int64_t start = NowNanos();
  const int64_t deadline = Deadline(start, config.seconds);
  int64_t now = start;
  // At least one timed pass, however short the duration.
  do {
    auto seen = VisitEverything(store->get());
    const int64_t end = NowNanos();
    if (!seen.ok()) return seen.status();
    result->latency_ns.Record(static_cast<uint64_t>(end - now));
    result->events += *seen;
    ++result->operations;
    ShowRate(config.progress, end, result->workload, result->events, start,
             Seconds(end - start) / config.seconds);
    now = end;
  } while (now < deadline);
  SetRate(result, now - start);
  result->memory = ReadMemoryUsage();
  return (*store)->Close();
}

Status RunReadStreams(const WorkloadConfig& config, WorkloadResult* result) {
  const uint64_t stream_count =
      config.streams ? config.streams : kDefaultReadStreams;
  const uint64_t total =
      config.events ? config.events : stream_count * kDefaultEventsPerStream;
  const auto streams = StreamNames(std::min(stream_count, total));
  // One event per append, round-robin: each stream's events end up spread
  // over the log as they are when many aggregates change at once.
  auto store = PreloadAndReopen(config, total, 1, streams, result);
  if (!store.ok()) return store.status();
  Status s = StoredBytes(store->get(), result);
  if (!s.ok()) return s;
  result->latency_of = "read";
  if (config.progress != nullptr) {
    config.progress->Show("cairn bench: read-streams warm-up pass");
  }
  // Warm: fault in every page of the log once.
  auto warm = VisitEverything(store->get());
  if (!warm.ok()) return warm.status();
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pick(0, streams.size() - 1);
  const ReadStreamOptions options;
  const int64_t start = NowNanos();
  const int64_t deadline = Deadline(start, config.seconds);
  int64_t now = start;
  do {
    auto read = (*store)->ReadStream(streams[pick(rng)], options);
    const int64_t end = NowNanos();
    if (!read.ok()) return read.status();
    result->latency_ns.Record(static_cast<uint64_t>(end - now));
    result->events += read->events.size();
    ++result->operations;
    ShowRate(config.progress, end, result->workload, result->events, start,
             Seconds(end - start) / config.seconds);
    now = end;
  } while (now < deadline);
  SetRate(result, now - start);
  result->memory = ReadMemoryUsage();
  return (*store)->Close();
}

// read-category and read-long-stream: one log holding a plain stream
// ("Ledger", no category) and, interleaved with it event by event, as
// many events spread over streams of category "Order"; then whole-stream
// reads (1024 events per ReadStream) of `target`, `$ce-Order` or
// "Ledger": streams of the same length, so the two rates compare a
// category stream with a plain one.
Status RunReadLong(const WorkloadConfig& config, const std::string& target,
                   WorkloadResult* result) {
  const uint64_t total = config.events ? config.events : kDefaultLongStream * 2;
  const uint64_t orders = config.streams ? config.streams : kDefaultStreams;
  std::vector<std::string> streams;
  for (uint64_t i = 0; i < orders; ++i) {
    streams.push_back(kLedgerStream);
    streams.push_back(StreamName(i));
  }
  auto store = PreloadAndReopen(config, total, 1, streams, result);
  if (!store.ok()) return store.status();
  Status s = StoredBytes(store->get(), result);
  if (!s.ok()) return s;
  result->latency_of = "read";
  ReadStreamOptions options;
  options.max_count = kLongStreamPage;
  // At least one timed pass over the stream, however short the duration;
  // the first one warms the pages.
  const int64_t start = NowNanos();
  const int64_t deadline = Deadline(start, config.seconds);
  int64_t now = start;
  do {
    options.from = StreamRevision(0);
    for (;;) {
      auto read = (*store)->ReadStream(target, options);
      const int64_t end = NowNanos();
      if (!read.ok()) return read.status();
      result->latency_ns.Record(static_cast<uint64_t>(end - now));
      result->events += read->events.size();
      ++result->operations;
      now = end;
      if (read->end_of_stream || read->events.empty()) break;
      options.from =
          StreamRevision(options.from->value() + read->events.size());
    }
    ShowRate(config.progress, now, result->workload, result->events, start,
             Seconds(now - start) / config.seconds);
  } while (now < deadline);
  SetRate(result, now - start);
  result->memory = ReadMemoryUsage();
  return (*store)->Close();
}

// Kills a writer with SIGKILL once it has acknowledged 1.5 in-memory
// index tables' worth of further appends (so the index holds at least one
// table's worth it has not listed yet), then times the open that recovers.
Status MeasureCrashReopen(const WorkloadConfig& config,
                          const std::vector<std::string>& streams,
                          const std::vector<EventData>& pool,
                          WorkloadResult* result) {
  if (config.progress != nullptr) {
    config.progress->Show("cairn bench: scale appending, then kill -9");
  }
  const uint64_t extra = Options().index_memtable_events * 3 / 2;
  int fds[2];
  if (pipe(fds) != 0) return Status::IOError("pipe failed");
  // The parent holds no store (and so no store thread) here: the child
  // starts from a single-threaded copy.
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::IOError("fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    auto store = OpenStore(config, Durability::kGroupCommit);
    Status s = store.ok() ? Load(store->get(), extra, kBatchEvents, streams,
                                 pool, nullptr, "")
                          : store.status();
    const char done = s.ok() ? 1 : 0;
    if (write(fds[1], &done, 1) != 1) _exit(1);
    for (;;) pause();  // until killed, store open
  }
  close(fds[1]);
  char done = 0;
  const ssize_t got = read(fds[0], &done, 1);
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (got != 1 || done != 1) {
    return Status::IOError("the writer to be killed failed to append");
  }
  Options options;
  options.open_progress = [&](const OpenProgress& p) {
    result->crash_replayed_events = p.events;
  };
  const int64_t start = NowNanos();
  auto store = Store::Open(config.dir, options);
  if (!store.ok()) return store.status();
  result->crash_open_seconds = Seconds(NowNanos() - start);
  result->crash_appended_events = extra;
  return (*store)->Close();
}

// Random single-stream reads (each whole stream) for config.seconds after
// as long a warm-up.
Status MeasureRandomReads(const WorkloadConfig& config, Store* store,
                          const std::vector<std::string>& streams,
                          WorkloadResult* result) {
  std::mt19937_64 rng(9);
  // Only streams the load reached (one append of kBatchEvents each, round
  // robin).
  const uint64_t appends =
      (result->loaded_events + kBatchEvents - 1) / kBatchEvents;
  std::uniform_int_distribution<size_t> pick(
      0, std::min<uint64_t>(streams.size(), appends) - 1);
  const ReadStreamOptions options;
  for (bool measured : {false, true}) {
    if (config.progress != nullptr) {
      config.progress->Show(measured ? "cairn bench: scale random reads"
                                     : "cairn bench: scale read warm-up");
    }
    const int64_t start = NowNanos();
    const int64_t deadline = Deadline(start, config.seconds);
    int64_t now = start;
    do {
      auto read = store->ReadStream(streams[pick(rng)], options);
      const int64_t end = NowNanos();
      if (!read.ok()) return read.status();
      if (measured) {
        result->read_latency_ns.Record(static_cast<uint64_t>(end - now));
        result->read_events += read->events.size();
        ++result->reads;
      }
      now = end;
    } while (now < deadline);
    if (measured) result->read_seconds = Seconds(now - start);
  }
  return Status::Ok();
}

Status RunScale(const WorkloadConfig& config, WorkloadResult* result) {
  const uint64_t total = config.events ? config.events : kDefaultScaleEvents;
  const auto streams =
      StreamNames(config.streams ? config.streams : kDefaultStreams);
  const auto pool = MakeEvents(config.event_size, kEventPool, 4);
  const size_t windows = pool.size() - kBatchEvents + 1;
  {
    auto store = OpenStore(config, config.durability);
    if (!store.ok()) return store.status();
    result->latency_of = "append";
    const int64_t start = NowNanos();
    int64_t now = start;
    int64_t last_sample_ns = start;
    uint64_t last_sample_events = 0;
    int next_tenth = 1;
    uint64_t i = 0;
    while (result->events < total) {
      const uint64_t n = std::min(kBatchEvents, total - result->events);
      std::span<const EventData> events(pool.data() + (i * 7) % windows, n);
      auto appended = (*store)->Append(streams[i % streams.size()],
                                       ExpectedVersion::Any(), events);
      const int64_t end = NowNanos();
      if (!appended.ok()) return appended.status();
      result->latency_ns.Record(static_cast<uint64_t>(end - now));
      result->events += n;
      ++result->operations;
      ++i;
      while (next_tenth <= 10 &&
             result->events * 10 >= total * static_cast<uint64_t>(next_tenth)) {
        ScaleSample sample;
        sample.events = result->events;
        sample.seconds = Seconds(end - start);
        const double interval = Seconds(end - last_sample_ns);
        sample.events_per_sec =
            interval > 0
                ? static_cast<double>(result->events - last_sample_events) /
                      interval
                : 0;
        sample.memory = ReadMemoryUsage();
        result->samples.push_back(sample);
        last_sample_ns = end;
        last_sample_events = result->events;
        ++next_tenth;
      }
      ShowRate(
          config.progress, end, result->workload, result->events, start,
          static_cast<double>(result->events) / static_cast<double>(total));
      now = end;
    }
    SetRate(result, now - start);
    result->loaded_events = result->events;
    result->load_seconds = result->seconds;
    Status s = FinishWrites(store->get(), result);
    if (!s.ok()) return s;
  }
  // What a restart costs at this size: after a kill -9, and after a clean
  // shutdown.
  Status s = MeasureCrashReopen(config, streams, pool, result);
  if (!s.ok()) return s;
  if (config.progress != nullptr) {
    config.progress->Show("cairn bench: scale reopening the store");
  }
  const int64_t start = NowNanos();
  auto store = OpenStore(config, Durability::kGroupCommit);
  if (!store.ok()) return store.status();
  result->open_seconds = Seconds(NowNanos() - start);
  result->memory_after_open = ReadMemoryUsage();
  s = MeasureRandomReads(config, store->get(), streams, result);
  if (!s.ok()) return s;
  return (*store)->Close();
}

}  // namespace

uint64_t StoredEventBytes(uint32_t event_size) {
  return inspect::StoredRecordBytes(StreamName(0).size(), event_size);
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

Result<WorkloadResult> RunWorkload(std::string_view name,
                                   const WorkloadConfig& config) {
  WorkloadResult result;
  result.workload = std::string(name);
  result.payload_bytes_per_event = config.event_size;
  Status s;
  if (name == "single") {
    s = RunSyncAppends(config, 1, &result);
  } else if (name == "batch") {
    s = RunSyncAppends(config, kBatchEvents, &result);
  } else if (name == "concurrent") {
    s = RunConcurrent(config, &result);
  } else if (name == "concurrent-plain") {
    WorkloadConfig plain = config;
    plain.category_and_type_streams = false;
    s = RunConcurrent(plain, &result);
  } else if (name == "read-category") {
    s = RunReadLong(config, "$ce-Order", &result);
  } else if (name == "read-long-stream") {
    s = RunReadLong(config, kLedgerStream, &result);
  } else if (name == "read-all") {
    s = RunReadAll(config, &result);
  } else if (name == "read-streams") {
    s = RunReadStreams(config, &result);
  } else if (name == "scale") {
    s = RunScale(config, &result);
  } else if (name == "subscribe") {
    s = RunSubscribe(config, &result);
  } else {
    s = Status::InvalidArgument("unknown workload '" + std::string(name) + "'");
  }
  if (config.progress != nullptr) config.progress->Clear();
  if (!s.ok()) return s;
  return result;
}

}  // namespace cairn::tools::bench
