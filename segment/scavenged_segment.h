// Copyright (c) Cairn authors.
//
// Scavenged segments (format versions 3 and 5, docs/format.md "Scavenged
// segments"): the kept records of a sealed segment, with gaps where removed
// records were. Records are copied byte for byte, except continuations
// whose head moved (relinked) or was removed (the first kept one becomes
// the append's head). A scavenge writes one with
// BuildScavengedSegment and checks the copy with ScanScavengedSegment
// before it writes it.
#ifndef CAIRN_SEGMENT_SCAVENGED_SEGMENT_H_
#define CAIRN_SEGMENT_SCAVENGED_SEGMENT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "cairn/status.h"
#include "segment/segment_header.h"
#include "segment/segment_scan.h"

namespace cairn::segment {

// What a copy kept and left out.
struct ScavengeCopyStats {
  uint64_t kept_records = 0;
  uint64_t kept_bytes = 0;  // of records
  uint64_t removed_records = 0;
  uint64_t removed_bytes = 0;
};

// Decides whether a record of the source (header verified, body verified,
// at `record`) is kept.
using KeepRecord =
    std::function<bool(const ScannedRecord& scanned, const uint8_t* record)>;

// Writes to *out the whole file of the scavenged copy of a sealed segment
// whose file bytes are data[0, size) (`header` decoded from them, version
// 1, 2 or 4, or 3 or 5 for a copy scavenged again): a version-5 header with
// `fields` and capacity equal to the file size, the records `keep` accepts
// in their order (each kept continuation naming the nearest head before
// it), and one CLOSED durable-end mark naming the end of the last record
// and fields.end_position. The source is scanned as a sealed segment first
// (every checksum, position and mark; Corruption naming `file`), and
// fields.end_position must not lie below the position after its last
// record (InvalidArgument). *out keeps its capacity: a caller that builds
// copy after copy into one string allocates it once. It is cleared before
// the source is read, so it must not hold `data`. Its contents are
// unspecified after a failure.
Status BuildScavengedSegment(const uint8_t* data, size_t size,
                             const SegmentHeader& header,
                             const std::string& file,
                             const ScavengedFields& fields,
                             const KeepRecord& keep, std::string* out,
                             ScavengeCopyStats* stats);

// Verifies a scavenged segment's file data[0, size): its version-3 or -5
// header (capacity equal to the size), then records back to back up to the
// end of the file with verified header and body checksums, well-formed
// bodies, strictly increasing positions in [first_position, end_position)
// and continuations naming the nearest head before them, and the CLOSED
// mark naming the end of the file and end_position. Corruption naming
// `file` and the offset otherwise. Calls on_record (may be empty) per
// record in order.
Status ScanScavengedSegment(
    const uint8_t* data, size_t size, const std::string& file,
    const std::function<void(const ScannedRecord&)>& on_record,
    SegmentHeader* header, ScavengedFields* fields);

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_SCAVENGED_SEGMENT_H_
