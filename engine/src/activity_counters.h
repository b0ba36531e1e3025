// Copyright (c) Cairn authors.
//
// The store's activity counters (cairn/store_metrics.h). Every update is a
// relaxed atomic increment: the commit thread, readers and subscription
// threads count without a lock and without ordering anything else.
#ifndef CAIRN_ENGINE_SRC_ACTIVITY_COUNTERS_H_
#define CAIRN_ENGINE_SRC_ACTIVITY_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "cairn/store.h"
#include "cairn/store_metrics.h"
#include "engine/src/histogram.h"

namespace cairn::engine {

class ActivityCounters {
 public:
  // Bounds reported for the sync latency: 1 µs .. 2^24 µs (about 17 s).
  static constexpr int kSyncBuckets = 25;
  // Bounds reported for group sizes: 1 .. 2^17 events.
  static constexpr int kGroupBuckets = 18;

  // A group commit of `appends` appends holding `events` events in
  // `bytes` record bytes, written and durable.
  void CountGroup(uint64_t appends, uint64_t events, uint64_t bytes);
  void CountSync(uint64_t micros) { sync_micros_.Record(micros); }
  void CountStreamRead(bool link_stream) {
    Add(link_stream ? &link_stream_reads_ : &stream_reads_, 1);
  }
  void CountAllRead() { Add(&all_reads_, 1); }
  // Subscriptions count once per batch, not per event: with many
  // subscription threads a shared counter bumped per event costs more than
  // the delivery itself.
  void CountDelivered(uint64_t events) {
    if (events > 0) Add(&subscription_events_, events);
  }
  // A scavenge run starts, reports progress, ends.
  void ScavengeStarted() {
    scavenge_parts_done_.store(0, std::memory_order_relaxed);
    scavenge_parts_total_.store(0, std::memory_order_relaxed);
    scavenge_running_.store(true, std::memory_order_relaxed);
  }
  void ScavengeProgressed(const ScavengeProgress& progress,
                          uint64_t removed_events, uint64_t reclaimed_bytes) {
    scavenge_parts_done_.store(progress.parts_done, std::memory_order_relaxed);
    scavenge_parts_total_.store(progress.parts_total,
                                std::memory_order_relaxed);
    Add(&scavenged_events_, removed_events);
    Add(&scavenged_bytes_, reclaimed_bytes);
  }
  void ScavengeEnded() {
    scavenge_running_.store(false, std::memory_order_relaxed);
    Add(&scavenges_, 1);
  }

  // Everything but the subscription gauges, which the store fills in.
  StoreActivity Snapshot() const;

 private:
  static void Add(std::atomic<uint64_t>* counter, uint64_t n) {
    counter->fetch_add(n, std::memory_order_relaxed);
  }

  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> events_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
  Histogram sync_micros_;
  Histogram group_events_;
  std::atomic<uint64_t> stream_reads_{0};
  std::atomic<uint64_t> link_stream_reads_{0};
  std::atomic<uint64_t> all_reads_{0};
  std::atomic<uint64_t> subscription_events_{0};
  std::atomic<uint64_t> scavenges_{0};
  std::atomic<bool> scavenge_running_{false};
  std::atomic<uint64_t> scavenge_parts_done_{0};
  std::atomic<uint64_t> scavenge_parts_total_{0};
  std::atomic<uint64_t> scavenged_events_{0};
  std::atomic<uint64_t> scavenged_bytes_{0};
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_ACTIVITY_COUNTERS_H_
