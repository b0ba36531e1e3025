// Copyright (c) Cairn authors.
//
// Reading segment files below the Store, for the inspection API
// (cairn/inspect.h: verify and dump): listing a directory's segments, mapping
// one, and walking its records without trusting any of them. Unlike the
// engine's scan (which stops at the first problem, because recovery must), the
// walk reports a damaged record and carries on: after a record whose header
// verified it continues behind the record; otherwise it resynchronises by
// trying every following byte offset until a header verifies again, and reports
// the bytes it skipped.
#ifndef CAIRN_INSPECT_SEGMENT_WALK_H_
#define CAIRN_INSPECT_SEGMENT_WALK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/inspect.h"
#include "cairn/result.h"
#include "engine/io/file_system.h"
#include "segment/record.h"

namespace cairn::inspect {

// "dir/name" -> "dir" ("." without a slash), and -> "name".
std::string ParentDir(const std::string& path);
std::string BaseName(const std::string& path);

// A segment file mapped read-only.
struct SegmentFile {
  std::string path;
  // From the file name; nullopt when the name is not a segment name.
  std::optional<uint64_t> number;
  std::unique_ptr<io::File> file;
  std::unique_ptr<io::MappedRegion> map;  // null for an empty file

  const uint8_t* data() const { return map ? map->data() : nullptr; }
  size_t size() const { return map ? map->size() : 0; }
};

Result<SegmentFile> OpenSegmentFile(const std::string& path);

struct SegmentName {
  uint64_t number = 0;
  uint32_t generation = 0;  // of a scavenged segment's file, else 0
  std::string path;
};
// The segment files of a store directory, in segment-number order: per
// number the newest generation (segment::ListSegmentFiles). *superseded
// (may be null) gets the paths of older generations.
Result<std::vector<SegmentName>> ListSegmentFiles(
    const std::string& dir, std::vector<std::string>* superseded = nullptr);

struct WalkedRecord {
  uint64_t offset = 0;  // of the record's header in the file
  // Bytes the record spans: header + body when the header verified, else
  // what is left of the file for a truncated header, else 0 (unknown).
  uint64_t length = 0;
  RecordStatus status = RecordStatus::kOk;
  // The header's fields are meaningful (it verified).
  bool header_valid = false;
  segment::RecordHeader header;
  // The body decoded; the fields' views are valid during the callback only.
  bool body_valid = false;
  segment::EventFields fields;
};

// A byte range the walk could not read as records.
struct SkippedBytes {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool all_zero = false;
};

struct WalkResult {
  // Just past the last record whose header verified (the segment header's
  // end if none): in a healthy segment, where the zeroed space begins.
  uint64_t end_of_records = 0;
  uint64_t records_ok = 0;
  // Records with any status but kOk, plus skipped ranges that are not all
  // zero outside of such records.
  uint64_t problems = 0;
};

// Walks the records of a segment's bytes `data[0, size)` (the whole file;
// records start at segment::kSegmentHeaderSize) whose records are sealed
// with `seed`. Never reads outside the buffer.
WalkResult WalkSegment(
    const uint8_t* data, size_t size, uint64_t seed,
    const std::function<void(const WalkedRecord&)>& on_record,
    const std::function<void(const SkippedBytes&)>& on_skip);

}  // namespace cairn::inspect

#endif  // CAIRN_INSPECT_SEGMENT_WALK_H_
