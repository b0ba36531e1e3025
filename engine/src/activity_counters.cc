// Copyright (c) Cairn authors.
#include "engine/src/activity_counters.h"

namespace cairn::engine {

void ActivityCounters::CountGroup(uint64_t appends, uint64_t events,
                                  uint64_t bytes) {
  Add(&appends_, appends);
  Add(&events_written_, events);
  Add(&bytes_written_, bytes);
  group_events_.Record(events);
}

StoreActivity ActivityCounters::Snapshot() const {
  StoreActivity out;
  out.appends = appends_.load(std::memory_order_relaxed);
  out.events_written = events_written_.load(std::memory_order_relaxed);
  out.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  out.sync_micros = sync_micros_.Snapshot(kSyncBuckets);
  out.group_commit_events = group_events_.Snapshot(kGroupBuckets);
  out.stream_reads = stream_reads_.load(std::memory_order_relaxed);
  out.link_stream_reads = link_stream_reads_.load(std::memory_order_relaxed);
  out.all_reads = all_reads_.load(std::memory_order_relaxed);
  out.subscription_events =
      subscription_events_.load(std::memory_order_relaxed);
  out.scavenges = scavenges_.load(std::memory_order_relaxed);
  out.scavenge_running = scavenge_running_.load(std::memory_order_relaxed);
  out.scavenge_parts_done =
      scavenge_parts_done_.load(std::memory_order_relaxed);
  out.scavenge_parts_total =
      scavenge_parts_total_.load(std::memory_order_relaxed);
  out.scavenged_events = scavenged_events_.load(std::memory_order_relaxed);
  out.scavenged_bytes = scavenged_bytes_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace cairn::engine
