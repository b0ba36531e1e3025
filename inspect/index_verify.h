// Copyright (c) Cairn authors.
//
// The index part of `cairn verify`: checks every index file's checksums
// and structure, then the index against the log it was derived from:
//   - every entry's (position, offset) names a record with that position,
//     whose stream name hashes to the entry's hash, with the entry's
//     revision and event-id tag;
//   - the manifest's tables cover exactly [first position, checkpoint),
//     every position once, and the checkpoint is not past the log's end;
//   - every anchor and each table's last_offset point at the record of
//     their position.
// The index is derived data: damage to it is reported apart from damage
// to the log, since an open or `cairn index rebuild` recreates it.
#ifndef CAIRN_INSPECT_INDEX_VERIFY_H_
#define CAIRN_INSPECT_INDEX_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "segment/segment_header.h"

namespace cairn::inspect {

// The log as the segment checks of `cairn verify` found it.
struct VerifiedLog {
  struct Segment {
    std::string path;
    segment::SegmentHeader header;  // as verified
    uint64_t end_position = 0;      // after the last whole append
    uint64_t seed = 0;              // of its record checksums
  };
  uint64_t store_id = 0;
  std::vector<Segment> segments;  // in position order, without gaps
  // False if the log has problems: the index is then only checked on its
  // own, not against the log.
  bool healthy = false;
};

struct IndexFinding {
  std::string file;
  uint64_t offset = 0;
  std::string message;
  bool warning = false;
};

struct IndexReport {
  bool present = false;  // DIR/index exists
  std::vector<IndexFinding> findings;
  uint64_t problems = 0;
  uint64_t warnings = 0;
  uint64_t tables = 0;
  uint64_t entries = 0;
  uint64_t checkpoint = 0;
  bool checked_against_log = false;
};

IndexReport VerifyIndex(const std::string& store_dir, const VerifiedLog& log);

}  // namespace cairn::inspect

#endif  // CAIRN_INSPECT_INDEX_VERIFY_H_
