// Copyright (c) Cairn authors.
//
// Where the kept records of rewritten segments went, as the index's table
// rewrite asks (index/table_rewrite.h, PositionRemap): a scavenge fills one
// UnitRemap per rewritten segment from the records of its new file, and
// hands the index one remap over the batch of segments it commits
// together. Memory: 4 bytes and a bit per position of each rewritten
// segment, bounded by ScavengeOptions::max_memory_bytes per batch.
#ifndef CAIRN_ENGINE_SRC_SCAVENGE_REMAP_H_
#define CAIRN_ENGINE_SRC_SCAVENGE_REMAP_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "index/table_rewrite.h"

namespace cairn::engine {

class UnitRemap {
 public:
  // For the positions [first, end) of one segment.
  UnitRemap(uint64_t first, uint64_t end);

  // The record at `position` was kept at `offset` of the new file. Called
  // in increasing position order.
  void Keep(uint64_t position, uint32_t offset);
  // After the last Keep: `records_end` is the offset after the new file's
  // last record.
  void Finish(uint32_t records_end);

  uint64_t first() const { return first_; }
  uint64_t end() const { return end_; }
  bool Covers(uint64_t position) const {
    return position >= first_ && position < end_;
  }
  // The new offset of a covered position's record; nullopt if removed.
  std::optional<uint32_t> Offset(uint64_t position) const;
  // The new offset of the first kept record at or after a covered
  // position, or the end of the records if none is.
  uint32_t Anchor(uint64_t position) const;
  // Bytes a remap of `positions` positions holds.
  static uint64_t MemoryFor(uint64_t positions) {
    return positions * sizeof(uint32_t);
  }

 private:
  uint64_t first_;
  uint64_t end_;
  // Per position: its new offset if kept, else the next kept one's (after
  // Finish). A position is kept exactly when its word differs from the
  // next one's (records_end_ after the last): a kept record takes room, and
  // removed positions share the next kept one's offset. One word per
  // position, so that a lookup (the index asks in stream-hash order, at
  // random positions) touches one cache line, mostly.
  std::vector<uint32_t> next_;
  uint32_t records_end_ = 0;
};

// One remap over `units` (in position order, not overlapping): positions
// outside every unit are not rewritten. The units must outlive the remap.
index::PositionRemap BatchRemap(const std::vector<UnitRemap>& units);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SCAVENGE_REMAP_H_
