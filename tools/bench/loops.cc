// Copyright (c) Cairn authors.
#include "tools/bench/loops.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

namespace cairn::tools::bench {
namespace {

int64_t Deadline(int64_t start, double seconds) {
  return seconds > 0 ? start + static_cast<int64_t>(seconds * 1e9) : 0;
}

// How far a run is, for the progress line.
double Fraction(const AppendRun& run, uint64_t events, int64_t now,
                int64_t start) {
  if (run.total != 0) {
    return static_cast<double>(events) / static_cast<double>(run.total);
  }
  return run.seconds > 0 ? Seconds(now - start) / run.seconds : 0;
}

// The events of append `i`: a window of the pool.
std::span<const EventData> Window(const AppendRun& run, uint64_t i,
                                  uint64_t n) {
  const auto& pool = *run.pool;
  const size_t windows = pool.size() - run.per_append + 1;
  return {pool.data() + (i * 7) % windows, n};
}

// How many events append `i` carries, 0 when the run has issued `total`.
uint64_t EventsOf(const AppendRun& run, uint64_t i) {
  if (run.total == 0) return run.per_append;
  const uint64_t issued = i * run.per_append;
  return issued >= run.total ? 0 : std::min(run.per_append, run.total - issued);
}

// A run may name a stream more than once (read-long-stream's log
// alternates between one stream and many): tokens and the one-append-at-
// a-time rule belong to the stream, not to its places in the list. The
// slot of each place, and the number of distinct streams.
struct Slots {
  std::vector<size_t> of;
  size_t count = 0;
};

Slots StreamSlots(const std::vector<std::string>& streams) {
  Slots slots;
  std::unordered_map<std::string_view, size_t> seen;
  slots.of.reserve(streams.size());
  for (const std::string& name : streams) {
    auto it = seen.emplace(name, seen.size()).first;
    slots.of.push_back(it->second);
  }
  slots.count = seen.size();
  return slots;
}

Status CheckRun(const AppendRun& run) {
  if (run.streams == nullptr || run.streams->empty() || run.pool == nullptr ||
      run.per_append == 0 || run.pool->size() < run.per_append ||
      (run.total == 0 && run.seconds <= 0)) {
    return Status::InvalidArgument(
        "an append run needs streams, a pool of at least per_append events, "
        "and a total or a duration");
  }
  return Status::Ok();
}

// The appends in flight of RunPipelined and what they are for. The
// driver's thread calls AppendDone; everything it touches is guarded by
// mu_.
class Pipeline : public AppendSink {
 public:
  Pipeline(const AppendRun& run, size_t streams, int64_t no_stream)
      : run_(run),
        streams_(streams),
        tokens_(streams_, no_stream),
        busy_(streams_, false),
        events_(streams_, 0),
        start_ns_(streams_, 0) {}

  // Waits for a free slot and for stream slot `s` to have nothing in
  // flight,
  // then takes both for an append of `n` events; false (nothing taken)
  // once an append has failed or the deadline has passed.
  bool Take(size_t s, uint64_t n, int64_t deadline, int64_t* token) {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] {
      return !error_.ok() || (in_flight_ < run_.in_flight && !busy_[s]);
    });
    --waiting_;
    if (!error_.ok()) return false;
    const int64_t now = NowNanos();
    if (deadline != 0 && now >= deadline) return false;
    ++in_flight_;
    busy_[s] = true;
    events_[s] = n;
    start_ns_[s] = now;
    *token = tokens_[s];
    return true;
  }

  void AppendDone(uint64_t tag, const Result<Appended>& result) override {
    const int64_t end = NowNanos();
    const auto s = static_cast<size_t>(tag);
    uint64_t events = 0;
    const bool after = result.ok() && run_.after_append;
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_[s] = false;
      if (result.ok()) {
        tokens_[s] = result->token;
        completed_events_ += events_[s];
        ++completed_appends_;
        events = completed_events_;
        if (run_.latency != nullptr) {
          run_.latency->Record(static_cast<uint64_t>(end - start_ns_[s]));
        }
        last_done_ns_ = std::max(last_done_ns_, end);
      } else if (error_.ok()) {
        error_ = result.status();
      }
      if (!after) {
        // One critical section, and a wake-up only for a thread that
        // waits: the appending thread, once it is blocked on the limit.
        --in_flight_;
        if (waiting_ > 0) cv_.notify_all();
        return;
      }
    }
    run_.after_append(events, end, *result);
    // Notify under the lock: once in_flight_ reaches 0 the waiter may
    // return and destroy this object.
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    if (waiting_ > 0) cv_.notify_all();
  }

  // Waits for every append issued so far; returns the first failure.
  Status Drain(AppendTotals* out) {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] { return in_flight_ == 0; });
    --waiting_;
    out->events = completed_events_;
    out->appends = completed_appends_;
    out->last_done_ns = std::max(last_done_ns_, out->start_ns);
    return error_;
  }

 private:
  const AppendRun& run_;
  const size_t streams_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> tokens_;
  std::vector<bool> busy_;
  std::vector<uint64_t> events_;
  std::vector<int64_t> start_ns_;
  uint64_t in_flight_ = 0;
  uint64_t waiting_ = 0;  // threads in cv_.wait
  uint64_t completed_events_ = 0;
  uint64_t completed_appends_ = 0;
  int64_t last_done_ns_ = 0;
  Status error_;
};

}  // namespace

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

void ShowRate(Progress* progress, int64_t now, std::string_view phase,
              uint64_t events, int64_t start, double fraction) {
  if (progress == nullptr || !progress->Due(now)) return;
  const double elapsed = Seconds(now - start);
  std::string line(phase);
  char tail[96];
  (void)std::snprintf(
      tail, sizeof(tail), "  %3.0f%%  %s events  %s ev/s",
      std::clamp(fraction, 0.0, 1.0) * 100.0,
      Short(static_cast<double>(events)).c_str(),
      Short(elapsed > 0 ? static_cast<double>(events) / elapsed : 0).c_str());
  line.append(tail);
  progress->Show(line);
}

Status RunWriters(Driver* driver, const AppendRun& run, AppendTotals* out) {
  Status s = CheckRun(run);
  if (!s.ok()) return s;
  std::vector<std::unique_ptr<Writer>> writers;
  for (int t = 0; t < std::max(run.threads, 1); ++t) {
    auto writer = driver->NewWriter(run.mode);
    if (!writer.ok()) return writer.status();
    writers.push_back(std::move(writer.value()));
  }
  const auto& streams = *run.streams;
  const Slots slots = StreamSlots(streams);
  std::vector<std::atomic<int64_t>> tokens(slots.count);
  std::vector<std::atomic<bool>> busy(slots.count);
  for (auto& token : tokens) token.store(driver->no_stream());
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> done_events{0};
  std::atomic<uint64_t> done_appends{0};
  std::atomic<int64_t> last_done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards error and the merged histogram
  Status error;

  const int64_t start = NowNanos();
  const int64_t deadline = Deadline(start, run.seconds);
  auto work = [&](Writer* writer, bool first) {
    LatencyHistogram latency;
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t i = next.fetch_add(1);
      const uint64_t n = EventsOf(run, i);
      if (n == 0) break;
      const int64_t begin = NowNanos();
      if (deadline != 0 && begin >= deadline) break;
      const size_t place = i % streams.size();
      const size_t st = slots.of[place];
      // Another thread is appending to this stream (possible only with
      // fewer streams than threads, or a thread a whole round behind):
      // wait for its token, so no append of the run is skipped.
      while (busy[st].exchange(true)) std::this_thread::yield();
      auto appended =
          writer->Append(streams[place], tokens[st].load(), Window(run, i, n));
      const int64_t end = NowNanos();
      if (!appended.ok()) {
        busy[st].store(false);
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = appended.status();
        stop.store(true);
        break;
      }
      tokens[st].store(appended->token);
      busy[st].store(false);
      latency.Record(static_cast<uint64_t>(end - begin));
      const uint64_t events = done_events.fetch_add(n) + n;
      done_appends.fetch_add(1);
      int64_t seen = last_done.load();
      while (seen < end && !last_done.compare_exchange_weak(seen, end)) {
      }
      if (run.after_append && run.threads <= 1) {
        run.after_append(events, end, *appended);
      }
      // Progress is not thread-safe: the first thread shows it.
      if (first) {
        ShowRate(run.progress, end, run.phase, events, start,
                 Fraction(run, events, end, start));
      }
    }
    if (run.latency != nullptr) {
      std::lock_guard<std::mutex> lock(mu);
      run.latency->Merge(latency);
    }
  };
  if (writers.size() == 1) {
    work(writers.front().get(), true);
  } else {
    std::vector<std::thread> threads;
    for (size_t t = 0; t < writers.size(); ++t) {
      threads.emplace_back(work, writers[t].get(), t == 0);
    }
    for (auto& thread : threads) thread.join();
  }
  if (!error.ok()) return error;
  out->events = done_events.load();
  out->appends = done_appends.load();
  out->start_ns = start;
  out->last_done_ns = std::max(last_done.load(), start);
  return Status::Ok();
}

Status RunPipelined(Driver* driver, const AppendRun& run, AppendTotals* out) {
  Status s = CheckRun(run);
  if (!s.ok()) return s;
  if (!driver->capabilities().async_append) {
    return Status::NotSupported(driver->name() + " has no AppendAsync");
  }
  const auto& streams = *run.streams;
  const Slots slots = StreamSlots(streams);
  Pipeline pipeline(run, slots.count, driver->no_stream());
  out->start_ns = NowNanos();
  const int64_t deadline = Deadline(out->start_ns, run.seconds);
  uint64_t issued = 0;
  for (uint64_t i = 0;; ++i) {
    const uint64_t n = EventsOf(run, i);
    if (n == 0) break;
    const size_t place = i % streams.size();
    const size_t st = slots.of[place];
    int64_t token = 0;
    if (!pipeline.Take(st, n, deadline, &token)) break;
    // The events go by value, as an application hands them over: building
    // them is part of what it pays per append.
    const auto window = Window(run, i, n);
    driver->AppendAsync(streams[place], token,
                        std::vector<EventData>(window.begin(), window.end()),
                        &pipeline, st);
    issued += n;
    const int64_t now = NowNanos();
    ShowRate(run.progress, now, run.phase, issued, out->start_ns,
             Fraction(run, issued, now, out->start_ns));
  }
  return pipeline.Drain(out);
}

Status LoadEvents(Driver* driver, const std::vector<std::string>& streams,
                  const std::vector<EventData>& pool, uint64_t total,
                  uint64_t per_append, WriteMode mode, Progress* progress,
                  std::string_view phase, AppendTotals* out) {
  AppendRun run;
  run.streams = &streams;
  run.pool = &pool;
  run.per_append = per_append;
  run.total = total;
  run.mode = mode;
  run.progress = progress;
  run.phase = std::string(phase);
  if (driver->capabilities().async_append) {
    run.in_flight = kLoadInFlight;
    return RunPipelined(driver, run, out);
  }
  run.threads = driver->load_writers();
  return RunWriters(driver, run, out);
}

Status RunTimed(double seconds, const std::function<Result<Step>()>& step,
                LatencyHistogram* latency, Progress* progress,
                std::string_view phase, TimedTotals* out) {
  const int64_t start = NowNanos();
  const int64_t deadline = start + static_cast<int64_t>(seconds * 1e9);
  int64_t now = start;
  bool may_stop = false;
  do {
    auto done = step();
    const int64_t end = NowNanos();
    if (!done.ok()) return done.status();
    if (latency != nullptr) latency->Record(static_cast<uint64_t>(end - now));
    out->events += done->events;
    ++out->operations;
    may_stop = done->may_stop;
    ShowRate(progress, end, phase, out->events, start,
             Seconds(end - start) / seconds);
    now = end;
  } while (now < deadline || !may_stop);
  out->seconds = Seconds(now - start);
  return Status::Ok();
}

}  // namespace cairn::tools::bench
