// Copyright (c) Cairn authors.
//
// LogIndexer: feeds appends scanned from the log to the stream index and,
// when the store keeps one, the link index. Recovery's replay and a
// read-only follower's catch-up both index the log through it; the commit
// pipeline indexes what it wrote itself, from the group it holds.
#ifndef CAIRN_ENGINE_SRC_LOG_INDEXER_H_
#define CAIRN_ENGINE_SRC_LOG_INDEXER_H_

#include <cstdint>
#include <span>

#include "cairn/status.h"
#include "engine/src/segment_log.h"
#include "index/link_index.h"
#include "index/persistent_index.h"
#include "segment/segment_scan.h"

namespace cairn::engine {

class LogIndexer {
 public:
  // `links` may be null (no category and event-type streams). All three
  // must outlive the indexer; the caller holds whatever lock guards them.
  LogIndexer(const SegmentLog* log, index::PersistentIndex* index,
             index::LinkIndex* links)
      : log_(log), index_(index), links_(links) {}

  // Adds one scanned append (or, where a replay starts inside one, its
  // tail) to both indexes; each skips what it holds already, so the
  // replay may start where the index that lags most needs it. Positions
  // below the first record that an index lacks were removed by a
  // scavenge and are skipped. Corruption names the record when the
  // records do not continue one stream's revisions, or an index refuses
  // them: the log is the truth, and it was checked against the index at
  // open.
  Status Add(const MappedSegment& segment,
             std::span<const segment::ScannedRecord> records);

  // After a replay up to `end`: a scavenge's hole at the end of the last
  // scavenged segment has no record after it that would reveal it, so
  // both indexes skip to `end` when the log has a scavenged segment.
  Status SkipToEnd(uint64_t end);

 private:
  // Tells `index` that the positions from its next one up to `to` were
  // removed by a scavenge, one SkipRemoved per segment the hole spans,
  // with the anchor of the stride's multiples in it: `to_offset` (the
  // record at `to`) in the segment holding `to`, the end of the records
  // elsewhere. Corruption if a position of the hole lies in an original
  // segment: only a scavenged segment has holes.
  template <typename Index>
  Status SkipScavengedHole(Index* index, uint64_t to, uint32_t to_offset);

  const SegmentLog* const log_;
  index::PersistentIndex* const index_;
  index::LinkIndex* const links_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_LOG_INDEXER_H_
