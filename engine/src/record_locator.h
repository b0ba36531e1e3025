// Copyright (c) Cairn authors.
//
// Locating records in the log. The store keeps no per-record table in
// memory (it would grow with the log): the stream index holds each event's
// segment offset, and a position anchor every anchor_stride positions;
// anything else is found by walking record headers from an anchor, or in
// a scavenged segment (whose positions have gaps) from its first record.
//
// Thread-compatibility: the locator reads the log's segment list, so each
// call needs what the list needs (the store's state lock, shared, or the
// commit thread); the records it returns stay readable through their pins
// without the lock.
#ifndef CAIRN_ENGINE_SRC_RECORD_LOCATOR_H_
#define CAIRN_ENGINE_SRC_RECORD_LOCATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/result.h"
#include "cairn/types.h"
#include "engine/src/segment_log.h"
#include "index/link_index.h"
#include "index/persistent_index.h"
#include "segment/record.h"

namespace cairn::engine {

class RecordLocator {
 public:
  // `log` outlives the locator. A read-only handle's tables and segment
  // entries may be of different generations for a while (a writer's
  // scavenge, docs/architecture.md): its locator checks each indexed
  // offset and otherwise finds the record by its position.
  RecordLocator(const SegmentLog* log, std::string dir, bool read_only)
      : log_(log), dir_(std::move(dir)), read_only_(read_only) {}

  // The stream index whose position anchors Locate starts from (none
  // until set: walks start at the segment's first record). It outlives
  // the locator or is unset first.
  void set_index(const index::PersistentIndex* index) { index_ = index; }

  // The header at `offset` of `segment`, verified: Corruption naming the
  // file and offset otherwise.
  static Status ReadHeader(const MappedSegment& segment, uint64_t offset,
                           segment::RecordHeader* header);

  struct Location {
    MappedSegment segment;  // pinned: readable without the state lock
    uint64_t offset = 0;
    // The position of the record at `offset`; segment->end_position when
    // `offset` is the end of a scavenged segment's records.
    uint64_t position = 0;
  };
  // The record at `position` (listed): from the nearest position anchor of
  // the index, walking at most anchor_stride - 1 record headers. In a
  // scavenged segment, the first kept record at or after `position`
  // (walked from the segment's first record: the index's anchors are not
  // used there), or the end of its records when none is.
  Result<Location> Locate(uint64_t position) const;
  // Locations of the records at positions [first, last], in order: every
  // position of an original segment, the kept ones of a scavenged
  // segment.
  Status LocateRange(uint64_t first, uint64_t last,
                     std::vector<Location>* out) const;
  // Locate in a scavenged segment (`location` has it pinned).
  Result<Location> LocateKept(Location location, uint64_t position) const;
  // Where the record the index put at (position, offset) of `listed` is in
  // `pinned`, the pin of `listed`: `offset` when the pin is that segment;
  // when a scavenge replaced the file and the pin found its successor, the
  // offset of the position there, or nullopt if the scavenge removed it
  // (no read can return it then: docs/architecture.md, "Scavenging"). A
  // read-only handle checks the record at `offset` holds the position and
  // else finds it by position too.
  Result<std::optional<uint64_t>> OffsetInPin(
      const MappedSegment& pinned, const std::shared_ptr<Segment>& listed,
      uint64_t position, uint64_t offset) const;
  // The record at (position, offset) after verifying its header: what the
  // index points at. The segment need not list it yet (replay visits an
  // append before listing it). The record's bytes stay valid while `*pin`
  // (set to the segment holding it) lives.
  Result<const uint8_t*> RecordAt(uint64_t position, uint64_t offset,
                                  segment::RecordHeader* header,
                                  MappedSegment* pin) const;
  // RecordAt, then the body checksum: for answers that depend on the body
  // (a continuation's stream name is its head's, which an EventDecoder
  // checks when it reads the name).
  Result<const uint8_t*> VerifiedRecordAt(uint64_t position, uint64_t offset,
                                          segment::RecordHeader* header,
                                          MappedSegment* pin) const;
  // The stream name and event type of a record, body verified. The views
  // are this thread's copies, valid until its next call (the index
  // compares a name at once; the record may be unmapped once unpinned).
  Result<index::EventKey> EventKeyAt(uint64_t position, uint64_t offset) const;
  Result<std::string_view> StreamNameAt(uint64_t position,
                                        uint64_t offset) const;
  // The event id of a record, body verified.
  Result<EventId> EventIdAt(uint64_t position, uint64_t offset) const;
  // Visits the events at positions [first, end) (the kept ones of a
  // scavenged segment) in order, each record verified, until `visit`
  // returns false: the indexes' LogEventReader, with which a lookup
  // rebuilds a damaged index block from the log. Holds the pins of a
  // chunk of kEventChunk records at a time, whatever the range.
  Status ForEachEvent(
      uint64_t first, uint64_t end,
      const std::function<bool(const index::LoggedEvent&)>& visit) const;
  static constexpr uint64_t kEventChunk = 1024;

 private:
  // The offset of the record of `position` in the original segment `seg`,
  // walking its record headers from the record of position `at` at
  // `offset`; Corruption where a header does not verify or is out of order.
  Result<uint64_t> WalkTo(const MappedSegment& seg, uint64_t at,
                          uint64_t offset, uint64_t position) const;

  const SegmentLog* log_;
  const index::PersistentIndex* index_ = nullptr;
  std::string dir_;
  bool read_only_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_RECORD_LOCATOR_H_
