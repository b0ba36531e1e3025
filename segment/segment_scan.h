// Copyright (c) Cairn authors.
//
// Scanning a segment's records at open (recovery) and by the tools: finds the
// end of the last whole append, classifies what follows it as clean (zeros),
// a torn tail (to truncate) or corruption (to refuse).
#ifndef CAIRN_SEGMENT_SEGMENT_SCAN_H_
#define CAIRN_SEGMENT_SEGMENT_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "cairn/status.h"
#include "segment/durable_mark.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::segment {

struct ScannedRecord {
  uint64_t offset = 0;  // of the record's header within the segment file
  RecordHeader header;
};

struct SegmentScanOptions {
  // Only the segment written last can hold a torn tail: in any other
  // segment, a bad record or nonzero bytes after the last record are
  // corruption.
  bool is_last = false;
  // Every position below this was acknowledged as durable (from the
  // watermark file; 0 if unknown). Damage to such a record is corruption,
  // never a torn tail.
  uint64_t durable_position_end = 0;
  // Stop, as at a clean end, once the kept appends reach this position. A
  // reader beside a live writer passes the writer's published durable
  // position: bytes past it may be in the middle of being written, and
  // reading them (not a snapshot) could mistake a half-written group for
  // damage.
  uint64_t stop_at_position = UINT64_MAX;
  // Where to start: the offset of the record at `start_position`, which
  // follows a record already known to be whole (the store replays only the
  // log its index does not cover), possibly in the middle of an append
  // (whose head the scan then checks where its first continuation names
  // it). 0: the first record, at kSegmentHeaderSize and
  // header.first_position.
  uint64_t start_offset = 0;
  uint64_t start_position = 0;
  // The durable-end mark to check the records against, as the caller read
  // it through the file API (nullopt inside: the file held none). Null:
  // the scan reads the mark slots from `data`. A reader beside a live
  // writer passes the mark it read when it listed the segment: the writer
  // rewrites the slots in place, and a mapping gives no snapshot of them.
  // An older mark than the newest is only a weaker check.
  const std::optional<DurableMark>* known_mark = nullptr;
};

struct SegmentScanResult {
  // End of the last whole append: records in [kSegmentHeaderSize (or the
  // start offset), end_offset) are kept.
  uint64_t end_offset = kSegmentHeaderSize;
  // Position after the last kept record (header.first_position if none).
  uint64_t next_position = 0;
  // Number of kept records.
  uint64_t records = 0;
  // True when bytes at or after end_offset are not all zero: a torn tail
  // (or a partial append) that the writer must truncate before appending.
  bool torn_tail = false;
  // Where the first bad or incomplete record starts, if torn_tail.
  uint64_t torn_offset = 0;
};

// Zeroed (preallocated) space is what follows a segment's records; these
// find where it is not zero, a block at a time (it can be hundreds of MiB).
// The offset of the first nonzero byte in p[0, n), or n if there is none.
size_t FirstNonZero(const uint8_t* p, size_t n);
// The end of the last nonzero byte in p[0, n), or 0 if there is none.
size_t EndOfNonZero(const uint8_t* p, size_t n);

// The offsets in [0, last] whose type byte (offset 4 of a record header)
// names a record type, in increasing order: the cheap first test of a
// search for record headers, which are not aligned, at every offset.
// memchr finds each type's bytes; however many queries, it reads each
// byte at most once per type. data[last + 4] must be readable.
class RecordCandidates {
 public:
  RecordCandidates(const uint8_t* data, size_t last)
      : data_(data), last_(last) {}

  // The first candidate at or after `from`, or nullopt. `from` must not
  // decrease from call to call.
  std::optional<size_t> Next(size_t from);

 private:
  static constexpr size_t kNone = SIZE_MAX;  // no hit at or after `from`

  const uint8_t* data_;
  size_t last_;
  // Per type (kEvent, kContinuation): the first hit at or after the
  // previous query's `from`, kNone when there is none; searched again only
  // once a query's `from` passes it.
  std::optional<size_t> next_[2];
};

// Scans `data` (`size` bytes: the segment file from offset 0, header
// included). Calls on_append once per whole append, in order, with its
// records. Corruption (naming `file` and the offset) when: a record's
// position is not the next expected one; a non-last segment has a bad
// record or nonzero bytes after its last record; in the last segment, a bad
// or partial record lies below options.durable_position_end or below the
// synced_offset of any later valid record (which proves it was durable);
// in any segment, the whole appends end before the offset the segment's
// newest durable-end mark (or options.known_mark) names as durable, or that
// offset is not the end of an append at the position the mark names
// (segment/durable_mark.h). A
// scan that stops at options.stop_at_position checks no mark.
// `header` must be the segment's decoded header.
Status ScanSegment(
    const uint8_t* data, size_t size, const SegmentHeader& header,
    const std::string& file, const SegmentScanOptions& options,
    const std::function<void(std::span<const ScannedRecord>)>& on_append,
    SegmentScanResult* result);

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_SEGMENT_SCAN_H_
