// Copyright (c) Cairn authors.
//
// The rules the segment files of a store directory follow as a list
// (docs/format.md, "Files in a store directory"). The engine's open and
// `cairn verify` both check a store's segments through this one class, so
// a store the engine refuses is never one verify calls healthy:
//   - segments are numbered 0, 1, 2, ... without a gap; a missing file, the
//     oldest included, is damage (never a shorter log);
//   - each header carries the number of its file name and the store id of
//     the first segment;
//   - segment 0 starts at position 0, and each later segment at or after
//     the start of the one before it. The same start is allowed only for a
//     predecessor without records: whether it has none, and whether each
//     segment starts exactly where the records of the one before it end,
//     only a scan of the records can tell (segment_scan.h).
#ifndef CAIRN_SEGMENT_SEGMENT_LIST_H_
#define CAIRN_SEGMENT_SEGMENT_LIST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "cairn/status.h"
#include "segment/segment_header.h"

namespace cairn::segment {

class SegmentListChecker {
 public:
  explicit SegmentListChecker(std::string dir) : dir_(std::move(dir)) {}

  // The number of the next segment file of the directory, in ascending
  // order. Corruption naming the first missing file when numbers were
  // skipped since the previous one (or, for the first call, since 0).
  Status CheckNumber(uint64_t number);

  // The verified header (DecodeSegmentHeader) of segment file `number`,
  // in ascending number order; a segment whose header does not decode is
  // left out. Corruption naming the file when the header does not fit
  // the segments checked before it.
  Status CheckHeader(uint64_t number, const SegmentHeader& header);

  // The path of segment `number` in the directory.
  std::string PathOf(uint64_t number) const;

 private:
  const std::string dir_;
  std::optional<uint64_t> last_number_;
  std::optional<uint64_t> store_id_;
  std::optional<uint64_t> previous_first_position_;
};

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_SEGMENT_LIST_H_
