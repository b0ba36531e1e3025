// Copyright (c) Cairn authors.
#ifndef CAIRN_TOOLS_BENCH_SCAVENGE_H_
#define CAIRN_TOOLS_BENCH_SCAVENGE_H_

#include "cairn/status.h"
#include "tools/bench/workloads.h"

namespace cairn::tools::bench {

// The `scavenge` workload, on a Store of its own in config.dir (Cairn
// only: no driver has a scavenge):
//  1. builds a store of config.store_bytes of records (or config.events
//     events) in 100-event appends round-robin over config.streams
//     streams (default 1000); a config.removable share of the streams is
//     removable, alternately tombstoned and cut to their last event by
//     $maxCount;
//  2. reopens it and times one Scavenge over it: the events and record
//     bytes it went over, and the bytes it wrote, per second;
//  3. samples single-event durable appends for config.seconds with no
//     scavenge running, then as long again (and until at least one has
//     finished) while another thread re-creates removable events (a
//     tombstoned stream of 1000 events) and scavenges, over and over.
// The result's events and rate are those of the timed Scavenge; its
// latency is the appends' without a scavenge, scavenge.latency_ns with.
Status RunScavenge(const WorkloadConfig& config, WorkloadResult* result);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_SCAVENGE_H_
