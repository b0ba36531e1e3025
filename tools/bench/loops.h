// Copyright (c) Cairn authors.
//
// The loops every workload is made of, written once against Driver:
//   RunWriters    client threads, each with a Writer, each awaiting its
//                 append before the next (single, batch, the threaded
//                 concurrent, pre-loads of drivers without AppendAsync)
//   RunPipelined  one thread keeping appends in flight through
//                 Driver::AppendAsync (concurrent, subscribe, pre-loads)
//   LoadEvents    a pre-load as fast as the driver takes it
//   RunTimed      one operation after another until the time is up
// Appends go round-robin over the streams, `per_append` events at a time,
// taken from a pool of events as windows that start at (i * 7) mod the
// number of windows, and state the token each stream last got back.
#ifndef CAIRN_TOOLS_BENCH_LOOPS_H_
#define CAIRN_TOOLS_BENCH_LOOPS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/event.h"
#include "cairn/status.h"
#include "tools/bench/driver.h"
#include "tools/bench/progress.h"
#include "tools/bench/stats.h"

namespace cairn::tools::bench {

// Appends a pre-load keeps in flight: enough to keep a store busy, the
// point being to load fast, not to measure.
inline constexpr uint64_t kLoadInFlight = 64;

struct AppendRun {
  const std::vector<std::string>* streams = nullptr;  // not empty
  const std::vector<EventData>* pool = nullptr;  // at least per_append events
  uint64_t per_append = 1;
  // Stops after `total` events (0: no limit) or at `seconds` after the
  // start (0: no deadline), whichever comes first; at least one must be
  // set.
  uint64_t total = 0;
  double seconds = 0;
  WriteMode mode = WriteMode::kMeasured;
  int threads = 1;                      // RunWriters
  uint64_t in_flight = 1;               // RunPipelined
  LatencyHistogram* latency = nullptr;  // per append; may be null
  Progress* progress = nullptr;         // may be null
  std::string phase;                    // for the progress line
  // After each acknowledged append, with the events acknowledged so far:
  // RunWriters with one thread (on that thread), RunPipelined (on the
  // driver's thread, `appended` being that append's outcome).
  std::function<void(uint64_t events, int64_t end_ns, const Appended& appended)>
      after_append;
};

struct AppendTotals {
  uint64_t events = 0;
  uint64_t appends = 0;
  int64_t start_ns = 0;      // once every writer was ready
  int64_t last_done_ns = 0;  // the last acknowledgement (>= start_ns)
};

// `run.threads` threads, each with a Writer of its own. A stream is never
// written by two threads at once (a thread waits for the stream's previous
// append), so the tokens the threads keep are always right.
Status RunWriters(Driver* driver, const AppendRun& run, AppendTotals* out);

// One thread keeping at most `run.in_flight` appends in flight, and at
// most one per stream (an append waits for its stream's previous one), so
// the tokens are always right.
Status RunPipelined(Driver* driver, const AppendRun& run, AppendTotals* out);

// Appends `total` events, `per_append` at a time, as fast as the driver
// takes them: pipelined (kLoadInFlight) where it has AppendAsync, else
// with its load_writers() threads. The caller has opened the store.
Status LoadEvents(Driver* driver, const std::vector<std::string>& streams,
                  const std::vector<EventData>& pool, uint64_t total,
                  uint64_t per_append, WriteMode mode, Progress* progress,
                  std::string_view phase, AppendTotals* out);

// One step of a timed run: the events it handled, and whether the run
// may stop after it (false inside a pass that must be completed).
struct Step {
  uint64_t events = 0;
  bool may_stop = true;
};

struct TimedTotals {
  uint64_t events = 0;
  uint64_t operations = 0;
  double seconds = 0;
};

// Calls `step` until `seconds` have passed and it may stop, at least once;
// each call is one operation, its time recorded into `latency` (may be
// null). Stops at the first error.
Status RunTimed(double seconds, const std::function<Result<Step>()>& step,
                LatencyHistogram* latency, Progress* progress,
                std::string_view phase, TimedTotals* out);

// "cairn bench: PHASE  42%  1.2M events  80k ev/s", when progress is due.
void ShowRate(Progress* progress, int64_t now, std::string_view phase,
              uint64_t events, int64_t start, double fraction);

double Seconds(int64_t nanos);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_LOOPS_H_
