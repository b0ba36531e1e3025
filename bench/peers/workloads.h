// Copyright (c) Cairn authors.
//
// The workloads of `cairn bench`, run against a peer Driver:
//   single      one thread, one event per append, each awaited
//   concurrent  `in_flight` single-event appends outstanding at once: as
//               many worker threads with a connection each for the SQL
//               peers, asynchronous publishes for JetStream
//   batch       100-event appends (one transaction), each awaited
//   read-all    pre-load `events` in 100-event appends, one warm-up pass,
//               then timed passes over everything in global order
// Events, stream names and their spread are those of `cairn bench`
// (tools/bench/workloads.cc): 200-byte events over 10 000 streams.
#ifndef CAIRN_BENCH_PEERS_WORKLOADS_H_
#define CAIRN_BENCH_PEERS_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/peers/driver.h"

namespace cairn::peers {

inline constexpr std::string_view kWorkloads[] = {"single", "concurrent",
                                                  "batch", "read-all"};

struct WorkloadConfig {
  double seconds = 5;
  uint32_t event_size = 200;
  uint64_t streams = 10'000;
  uint64_t in_flight = 256;     // concurrent, for asynchronous drivers
  uint64_t batch_events = 100;  // batch and the read-all pre-load
  uint64_t read_events = 1'000'000;
  bool progress = false;  // a line on stderr now and then
};

struct PeerResult {
  std::string workload;
  uint64_t events = 0;
  double seconds = 0;
  double events_per_sec = 0;
  uint64_t operations = 0;  // appends or passes
  std::string latency_of;   // "append" or "pass"
  LatencyHistogram latency_ns;
  uint64_t writers = 0;  // client threads (or in-flight publishes)
  uint64_t loaded_events = 0;
  double load_seconds = 0;
};

Result<PeerResult> RunWorkload(Driver* driver, std::string_view name,
                               const WorkloadConfig& config);

}  // namespace cairn::peers

#endif  // CAIRN_BENCH_PEERS_WORKLOADS_H_
