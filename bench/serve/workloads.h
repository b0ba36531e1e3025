// Copyright (c) Cairn authors.
//
// The workloads of the `cairn serve` load generator. Each one runs against
// a running server for a fixed time (or a fixed number of operations, for
// a smoke run whose counts are exact) and reports events, events per
// second and a latency histogram of its unit of work (an append, a whole
// read, a delivery to a subscriber).
#ifndef CAIRN_BENCH_SERVE_WORKLOADS_H_
#define CAIRN_BENCH_SERVE_WORKLOADS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/serve/calls.h"
#include "bench/serve/persistent_calls.h"
#include "tools/bench/stats.h"

namespace cairn::bench::serve {

struct LoadConfig {
  double seconds = 5;  // measured time per workload
  // When not 0: each workload runs exactly this many appends or reads,
  // whatever the time.
  uint64_t operations = 0;
  size_t event_size = 200;         // bytes of type + data per event
  int streams = 10'000;            // streams the appends spread over
  uint64_t all_events = 100'000;   // pre-loaded for read-all
  uint64_t stream_events = 1'000;  // the one stream read-stream reads
  // persistent: consumers of the group, each with this many unacked
  // events allowed (the Node clients' default 10), and its strategy.
  int consumers = 4;
  int buffer_size = 10;
  std::string strategy = "RoundRobin";
  // The server's process id when it runs on this machine (0: it does
  // not), so that each workload reports the server's CPU time too.
  int server_pid = 0;
};

struct WorkloadResult {
  std::string workload;
  std::string rpc;            // Append, BatchAppend, Read or a service's
  int in_flight = 1;          // operations kept in flight
  int events_per_append = 0;  // 0 for reads
  std::string latency_of;     // what one latency sample times
  uint64_t events = 0;        // events stored, read or delivered
  uint64_t operations = 0;    // appends or reads
  double seconds = 0;
  tools::bench::LatencyHistogram latency_ns;
  // subscribe only: the appends' own latency (send to acknowledgement).
  tools::bench::LatencyHistogram append_latency_ns;
  // CPU time over the measured window: this process's, and the server's
  // when LoadConfig::server_pid is set. On a machine whose CPUs the two
  // share, CPU per event says what bounds the rate.
  std::optional<double> loadgen_cpu_seconds;
  std::optional<double> server_cpu_seconds;
  std::string error;  // empty when the workload completed
};

// The workload names, in the order `all` runs them.
const std::vector<std::string>& WorkloadNames();

// The services' stubs, on one channel.
struct Stubs {
  pb::Streams::Stub* streams;
  psub::PersistentSubscriptions::Stub* persistent;
};

// Runs one named workload (from WorkloadNames()).
WorkloadResult RunWorkload(const std::string& name, const Stubs& stubs,
                           const LoadConfig& config);

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_WORKLOADS_H_
