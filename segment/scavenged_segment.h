// Copyright (c) Cairn authors.
//
// Scavenged segments (format versions 3 and 5, docs/format.md "Scavenged
// segments"): the kept records of a sealed segment, with gaps where removed
// records were. Records are copied byte for byte, except continuations
// whose head moved (relinked) or was removed (the first kept one becomes
// the append's head). A scavenge writes one with StreamScavengedSegment,
// which checks each piece of the copy before it hands it on; the log
// checks a file it did not write with ScanScavengedSegment.
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

// Receives a scavenged copy as StreamScavengedSegment makes it.
class ScavengedCopySink {
 public:
  virtual ~ScavengedCopySink() = default;
  // `size` bytes of the copy at `offset`: the records in pieces of
  // increasing offsets from kSegmentHeaderSize on, then the header region
  // (offset 0, kSegmentHeaderSize bytes) once, last. A failure ends the
  // copy with that status.
  virtual Status Write(uint64_t offset, const uint8_t* bytes, size_t size) = 0;
  // A kept record as the copy holds it (r.offset is its offset in the
  // copy), checked, before the piece that holds it is written.
  virtual void Kept(const ScannedRecord& r) = 0;
};

// Where StreamScavengedSegment puts the copy.
struct ScavengedCopyOutput {
  std::string file;  // the copy's name, for errors
  // Bytes per Write of records (a record larger than this is a piece of
  // its own).
  size_t piece_size = size_t{1} << 20;
  // Holds one piece at a time: reserved to twice piece_size (more only
  // for a record larger than piece_size), and keeps its capacity, so that
  // a caller that makes copy after copy allocates it once. Must not hold
  // the source.
  std::string* piece = nullptr;
  ScavengedCopySink* sink = nullptr;
};

// The scavenged copy of a sealed segment, as BuildScavengedSegment
// describes it, handed to output.sink a piece at a time instead of built
// whole: memory is two pieces (more only for a record larger than a
// piece), whatever the segment's size. Each record is
// checked as it is added, with the checks ScanScavengedSegment makes of a
// file (Corruption naming output.file and the copy's offset), and so is
// the header with its mark, which comes last. The source is scanned as
// BuildScavengedSegment scans it, with its errors. *copy_size: the size of
// the whole copy (its file). After a failure the sink may have received
// part of the copy.
Status StreamScavengedSegment(const uint8_t* data, size_t size,
                              const SegmentHeader& header,
                              const std::string& file,
                              const ScavengedFields& fields,
                              const KeepRecord& keep,
                              const ScavengedCopyOutput& output,
                              ScavengeCopyStats* stats, uint64_t* copy_size);

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
