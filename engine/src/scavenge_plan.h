// Copyright (c) Cairn authors.
//
// What a scavenge may remove: an event is removable when no stream read can
// ever return it again under the stream's state when the scavenge looks
// (docs/architecture.md, "Scavenging"). The decision needs a stream's last
// event and its newest metadata only, which StoreImpl supplies through a
// lookup (store_scavenge.cc); this file holds the rule and a cache of the
// answers, bounded by a setting, not by the number of streams.
#ifndef CAIRN_ENGINE_SRC_SCAVENGE_PLAN_H_
#define CAIRN_ENGINE_SRC_SCAVENGE_PLAN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cairn/result.h"
#include "segment/record.h"

namespace cairn::engine {

// Which of one stream's stored events a read may return, seen by a
// scavenge.
struct StreamRetention {
  // The stored last revision. That event is always kept: it carries the
  // stream's revision (appends after a soft delete continue after it) and,
  // for a tombstoned stream, is the tombstone itself.
  uint64_t last = 0;
  // The last event is the stream's tombstone: every other event goes.
  bool tombstoned = false;
  // Every event goes, the last one too: the snapshots of a tombstoned
  // stream (their stream takes no appends any more, so nothing needs its
  // revision, and they hold the erased stream's state).
  bool erase_all = false;
  // Revisions below it are unreadable ($tb, $maxCount, a soft delete, the
  // implicit $maxCount of 1 of a metadata stream). Above `last`: none is.
  uint64_t first_readable = 0;
  // Events created before this (microseconds since the epoch) are
  // unreadable ($maxAge).
  std::optional<int64_t> min_created_us;
};

// Whether the event of `revision`, created at `created_us`, of a stream
// with `retention` can never be read again. An event above `last` (written
// after the retention was computed) is never removable.
bool IsRemovable(const StreamRetention& retention, uint64_t revision,
                 int64_t created_us);

// What a scavenge would remove from one sealed unit of the log.
struct ScavengeUnitPlan {
  uint64_t unit = 0;  // the segment number
  // Its positions [first_position, end_position) and file size.
  uint64_t first_position = 0;
  uint64_t end_position = 0;
  uint64_t file_bytes = 0;
  uint64_t records = 0;
  uint64_t record_bytes = 0;
  uint64_t removable_records = 0;
  uint64_t removable_bytes = 0;
};

// Whether a sealed unit is worth rewriting: it has removable records, or
// its file is more than half empty (a segment sealed early, by the roll a
// scavenge asks for, keeps its preallocated size until rewritten).
bool WorthRewriting(const ScavengeUnitPlan& unit);

// The outcome of planning a scavenge: the sealed units worth rewriting, in
// log order, and the totals.
struct ScavengePlan {
  // Positions below it were examined (the start of the active segment).
  uint64_t examined_end = 0;
  uint64_t units_examined = 0;
  uint64_t records = 0;
  uint64_t removable_records = 0;
  uint64_t removable_bytes = 0;
  std::vector<ScavengeUnitPlan> units;
};

// Decides event after event, looking each stream's retention up once while
// it stays in a cache of at most `max_cached_streams` streams (cleared
// when full: the bound holds whatever the number of streams).
class ScavengePlanner {
 public:
  // nullopt: the stream has no events (nothing of it is removable).
  using RetentionLookup =
      std::function<Result<std::optional<StreamRetention>>(std::string_view)>;

  ScavengePlanner(RetentionLookup lookup, size_t max_cached_streams);

  Result<bool> Removable(std::string_view stream, uint64_t revision,
                         int64_t created_us);
  // The same for a verified event record at `record` (its header decoded
  // into `header`), at `offset` of `file`, read through `decoder` (of the
  // record's segment: a continuation's stream and revision are its
  // head's); Corruption if its body does not name a stream and revision.
  Result<bool> RemovableRecord(segment::EventDecoder* decoder,
                               const uint8_t* record,
                               const segment::RecordHeader& header,
                               const std::string& file, uint64_t offset);

  // Streams whose retention is cached now (for tests of the bound).
  size_t cached_streams() const { return cache_.size(); }

 private:
  RetentionLookup lookup_;
  size_t max_cached_streams_;
  std::unordered_map<std::string, std::optional<StreamRetention>> cache_;
  // The stream asked about last and its entry in cache_ (null until the
  // first lookup; an entry stays put until the cache is cleared, which only
  // the lookup that replaces this pointer does): the records of one append
  // come one after another, and this spares them the hashing.
  std::string last_stream_;
  const std::optional<StreamRetention>* last_ = nullptr;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SCAVENGE_PLAN_H_
