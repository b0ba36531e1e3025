// Copyright (c) Cairn authors.
//
// The workloads of `cairn bench` and bench/peers, written once against
// Driver (driver.h) over the loops of loops.h. What each does:
//   single        one thread, one event per append, each awaited (durable)
//   concurrent    `in_flight` single-event appends in flight over many
//                 streams (durable): one thread through AppendAsync where
//                 the driver has it (group commit at work), else
//                 concurrent_writers() threads
//   batch         100-event appends, each awaited (durable)
//   read-all      a pass over everything in global order over a pre-loaded
//                 store, warm, repeated
//   read-all-unverified  the same without verifying checksums
//                 (ReadAllOptions::verify_checksums = false)
//   read-streams  random single-stream reads, warm
//   scale         100-event appends up to a large event count, sampling
//                 throughput and memory as the store grows
//   subscribe     live subscriptions while concurrent appends run:
//                 append-to-delivery latency, deliveries/s, catch-up rate
//   concurrent-plain  concurrent on a Cairn store without the category
//                 and event-type streams: against concurrent, their cost
//                 per append
//   read-category whole-stream reads of a `$ce-` stream, warm
//   read-long-stream  the same of a plain stream of the same length in
//                 the same kind of log: against read-category, what
//                 reading through the link index costs
//   scavenge      Store::Scavenge over a store with a share of removable
//                 events: its rewrite rate, and append latency with and
//                 without scavenges running (scavenge.h)
// Every store starts empty (Driver::Reset) and is closed afterwards.
#ifndef CAIRN_TOOLS_BENCH_WORKLOADS_H_
#define CAIRN_TOOLS_BENCH_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/event.h"
#include "cairn/options.h"
#include "cairn/result.h"
#include "cairn/store.h"
#include "tools/bench/driver.h"
#include "tools/bench/progress.h"
#include "tools/bench/stats.h"
#include "tools/bench/sysinfo.h"

namespace cairn::tools::bench {

// The names RunWorkload accepts, in the order `all` would list them.
inline constexpr std::string_view kWorkloadNames[] = {
    "single",           "concurrent",       "batch",
    "read-all",         "read-streams",     "scale",
    "subscribe",        "concurrent-plain", "read-category",
    "read-long-stream", "scavenge",         "read-all-unverified"};

// The workloads a driver without ReadStream, subscriptions and the rest
// of Cairn's capabilities runs: those of bench/peers.
inline constexpr std::string_view kPeerWorkloadNames[] = {
    "single", "concurrent", "batch", "read-all"};

// How many events each append of `batch`, `scale` and the read-all
// pre-load carries.
inline constexpr uint64_t kBatchEvents = 100;

struct WorkloadConfig {
  // RunWorkload(name, config), Cairn's: the store's directory (created,
  // and emptied first); the caller removes it afterwards.
  std::string dir;
  // How long the measured phase runs (scale ignores it: it runs until
  // `events` are stored).
  double seconds = 5;
  // Bytes of type + data + metadata per event.
  uint32_t event_size = 200;
  // 0 means the workload's default: no limit for single, concurrent and
  // batch (which otherwise stop after this many events), 1 000 000 for
  // read-all, 10 per stream for read-streams, 10 000 000 for scale,
  // 1 000 000 for read-category and read-long-stream (half of them in
  // the stream read).
  uint64_t events = 0;
  // 0 means the default: 10 000 streams (100 000 for read-streams).
  uint64_t streams = 0;
  // Options::category_and_type_streams of the store (concurrent-plain
  // turns it off whatever this says).
  bool category_and_type_streams = true;
  // Options::index_cache_streams of the store; 0 keeps the default.
  uint64_t index_cache_streams = 0;
  // Of the measured appends; the pre-loads of the read workloads always
  // use kNone (and reopen the store before reading).
  Durability durability = Durability::kGroupCommit;
  // subscribe only: live subscriptions while the writer runs.
  uint32_t subscribers = 1;
  // concurrent and subscribe, drivers with AppendAsync: appends in flight
  // (for subscribe, fewer leave the CPUs idle part of the time, to measure
  // delivery latency on an unsaturated machine).
  uint32_t in_flight = 256;
  // single and batch: client threads, each awaiting its own appends.
  uint32_t writers = 1;
  // scavenge only: the size of the store built (bytes of records, unless
  // `events` gives its event count) and the fraction of its events a
  // scavenge removes.
  uint64_t store_bytes = uint64_t{256} << 20;
  double removable = 0.5;
  // scavenge only: ScavengeOptions::throttle_percent and bytes_per_sync.
  uint32_t scavenge_throttle_percent = ScavengeOptions().throttle_percent;
  uint64_t scavenge_bytes_per_sync = ScavengeOptions().bytes_per_sync;
  Progress* progress = nullptr;  // may be null
};

// One line of the scale workload's growth report.
struct ScaleSample {
  uint64_t events = 0;        // stored so far
  double seconds = 0;         // since the start of the load
  double events_per_sec = 0;  // over the interval since the last sample
  MemoryUsage memory;
};

// scavenge only: durable single-event appends without a scavenge
// (latency_ns of the WorkloadResult), then one Scavenge of the built
// store, timed, while the same appends go on.
struct ScavengeFigures {
  double removable = 0;  // the fraction asked for
  uint32_t throttle_percent = 100;
  uint64_t bytes_per_sync = 0;
  // The timed Scavenge: events examined and removed; the log's record
  // bytes it went over; the disk bytes of the parts it rewrote before
  // (the preallocated space of the segment it sealed included) and after
  // (what it wrote).
  uint64_t events_examined = 0;
  uint64_t events_removed = 0;
  uint64_t bytes_examined = 0;
  uint64_t parts_bytes_before = 0;
  uint64_t bytes_written = 0;
  double seconds = 0;
  double rested_seconds = 0;  // of `seconds`, resting for the throttle
  // The appends made while the scavenge ran, and their latency.
  uint64_t appends_while_scavenging = 0;
  LatencyHistogram latency_ns;
};

struct WorkloadResult {
  std::string workload;
  // Events appended (write workloads) or delivered (read workloads) in the
  // measured phase, and how long it took.
  uint64_t events = 0;
  double seconds = 0;
  double events_per_sec = 0;
  // Appends, reads or passes in the measured phase (see latency_of).
  uint64_t operations = 0;
  // Bytes per event as the application sees them (type + data + metadata)
  // and as stored (record header, stream name and body included).
  uint32_t payload_bytes_per_event = 0;
  double bytes_per_event = 0;
  uint64_t streams = 0;
  // Write workloads, drivers that know them: the group commits, the events
  // they carried and the durability syncs of the store opened for the
  // measured phase, so events per commit shows how far group commit
  // merged the writers' appends; and the time the syncs took.
  uint64_t commits = 0;
  uint64_t committed_events = 0;
  uint64_t syncs = 0;
  uint64_t sync_micros = 0;
  // Client threads, or appends in flight for a driver with AppendAsync.
  uint64_t writers = 0;
  // What one latency sample is: "append", "read" (one ReadStream) or
  // "pass" (one VisitAll over the whole log).
  std::string latency_of;
  LatencyHistogram latency_ns;
  // Read workloads and scale: the pre-load, and what Driver::AfterLoad
  // took (Cairn: reopening the store).
  uint64_t loaded_events = 0;
  double load_seconds = 0;
  double open_seconds = 0;
  // scale only.
  std::vector<ScaleSample> samples;
  // subscribe only: subscriptions, deliveries across them, and the rate of
  // a fresh subscription catching up over the whole log afterwards.
  uint32_t subscribers = 0;
  uint32_t in_flight = 0;
  uint64_t delivered = 0;
  double delivered_per_sec = 0;
  double catchup_events_per_sec = 0;
  // Stores in this process only (Capabilities::in_process): at the end of
  // the measured phase, and (read workloads and scale) after the reopen.
  MemoryUsage memory;
  MemoryUsage memory_after_open;
  // scale only: a writer killed with SIGKILL after `crash_appended_events`
  // more appends, and the open after it (which replays what the index had
  // not written out yet); then warm random single-stream reads after the
  // clean reopen.
  uint64_t crash_appended_events = 0;
  uint64_t crash_replayed_events = 0;
  double crash_open_seconds = 0;
  uint64_t reads = 0;
  uint64_t read_events = 0;
  double read_seconds = 0;
  LatencyHistogram read_latency_ns;
  ScavengeFigures scavenge;
};

// Runs workload `name` (one of kWorkloadNames) against `driver`;
// NotSupported when the driver lacks a capability the workload needs
// (scavenge needs a Store of its own: the overload below runs it).
Result<WorkloadResult> RunWorkload(Driver* driver, std::string_view name,
                                   const WorkloadConfig& config);

// Runs workload `name` against a Cairn store in config.dir (CairnDriver;
// concurrent-plain opens it without the category and event-type streams).
Result<WorkloadResult> RunWorkload(std::string_view name,
                                   const WorkloadConfig& config);

// `count` distinct events of exactly `size` bytes of type + data + metadata
// with JSON data and metadata; the data carries random characters so that
// compression (for events at or above the store's threshold) gains no more
// than it would on real data. Nil ids: the store generates them.
std::vector<EventData> MakeEvents(uint32_t size, size_t count, uint64_t seed);

// Bytes an append of `events` events of `event_size` takes on disk in these
// workloads (no compression), and one event appended alone.
uint64_t StoredAppendBytes(uint32_t event_size, uint64_t events);
uint64_t StoredEventBytes(uint32_t event_size);

// Stream names shaped like real ones ("Order-" + a UUID), distinct per index.
std::string StreamName(uint64_t index);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_WORKLOADS_H_
