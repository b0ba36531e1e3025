// Copyright (c) Cairn authors.
#ifndef CAIRN_TOOLS_BENCH_SUBSCRIBE_H_
#define CAIRN_TOOLS_BENCH_SUBSCRIBE_H_

#include "cairn/status.h"
#include "tools/bench/driver.h"
#include "tools/bench/workloads.h"

namespace cairn::tools::bench {

// The `subscribe` workload (drivers with AppendAsync and subscriptions):
// config.subscribers live subscriptions to everything while one writer
// keeps config.in_flight durable single-event appends in flight over 1000
// streams.
// Latency is append-to-delivery beyond the fsync: from the moment the
// append was acknowledged (durable) to the moment each subscriber's
// handler received it (0 when the delivery beat the acknowledgement).
// Throughput counts deliveries across all subscribers. Afterwards, a fresh
// subscription from position 0 measures the catch-up read rate.
Status RunSubscribe(Driver* driver, const WorkloadConfig& config,
                    WorkloadResult* result);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_SUBSCRIBE_H_
