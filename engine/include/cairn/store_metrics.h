// Copyright (c) Cairn authors. Public API.
//
// What a store has done since it was opened: writes, durability syncs,
// group commits, reads and subscriptions (StoreStats::activity). Counters
// only grow; the figures are read without stopping the store, so figures
// of different counters may be a few operations apart.
#ifndef CAIRN_STORE_METRICS_H_
#define CAIRN_STORE_METRICS_H_

#include <cstdint>
#include <vector>

namespace cairn {

// A histogram at one moment, in the shape of Prometheus' histograms: an
// observation v falls in every bucket whose upper bound is >= v, so the
// counts are cumulative and never decrease from one bucket to the next.
struct HistogramSnapshot {
  std::vector<uint64_t> upper_bounds;       // increasing
  std::vector<uint64_t> cumulative_counts;  // observations <= upper_bounds[i]
  uint64_t count = 0;  // all observations, those above the last bound too
  uint64_t sum = 0;    // of the observed values
};

struct StoreActivity {
  // Appends written and acknowledged (durable as Options::durability
  // says; an idempotent retry writes nothing and is not counted), their
  // events and their record bytes.
  uint64_t appends = 0;
  uint64_t events_written = 0;
  uint64_t bytes_written = 0;
  // Durability syncs (fdatasync of the log) and how long each took, in
  // microseconds; bounds are powers of two.
  HistogramSnapshot sync_micros;
  // Events per group commit (one write, and with Durability::kGroupCommit
  // one sync, for many appends); bounds are powers of two.
  HistogramSnapshot group_commit_events;
  // Read calls by kind: ReadStream of a stream (the reads LoadAggregate
  // makes included), of a category or event-type stream ($ce-, $et-), and
  // ReadAll/VisitAll of $all. Subscriptions' own reads are not counted.
  uint64_t stream_reads = 0;
  uint64_t link_stream_reads = 0;
  uint64_t all_reads = 0;
  // Events delivered to subscription handlers, counted as each batch of
  // a subscription (at most SubscriptionOptions::batch_size events, or one
  // if that is 0) ends.
  uint64_t subscription_events = 0;
  // Live subscriptions, and how many durable events they have yet to
  // examine: the largest such lag and the total over all of them.
  uint64_t subscriptions = 0;
  uint64_t subscription_lag_max = 0;
  uint64_t subscription_lag_sum = 0;
  // Scavenges (Store::Scavenge): runs finished (stopped ones included),
  // whether one runs now and how far it is (parts done of parts to
  // rewrite, 0 of 0 before its plan), and what all runs removed.
  uint64_t scavenges = 0;
  bool scavenge_running = false;
  uint64_t scavenge_parts_done = 0;
  uint64_t scavenge_parts_total = 0;
  uint64_t scavenged_events = 0;
  uint64_t scavenged_bytes = 0;
};

}  // namespace cairn

#endif  // CAIRN_STORE_METRICS_H_
