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
//     only a scan of the records can tell (segment_scan.h);
//   - a scavenged segment (version 3, file `NNN.gGGGG.seg` of its header's
//     generation) covers [first_position, end_position) with gaps, and
//     the segment after it starts exactly at its end_position;
//   - per number, the file of the highest generation is the segment: a
//     lower one is what a committed scavenge replaced (ListSegmentFiles).
#ifndef CAIRN_SEGMENT_SEGMENT_LIST_H_
#define CAIRN_SEGMENT_SEGMENT_LIST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cairn/status.h"
#include "segment/segment_header.h"

namespace cairn::segment {

// The segment files among the names of a directory.
struct SegmentFileListing {
  // Per number the file of the highest generation, ascending by number.
  std::vector<SegmentFileId> current;
  // Names of the lower generations: garbage a writer open removes.
  std::vector<std::string> superseded;
};
SegmentFileListing ListSegmentFiles(const std::vector<std::string>& names);

class SegmentListChecker {
 public:
  explicit SegmentListChecker(std::string dir) : dir_(std::move(dir)) {}

  // The number of the next segment file of the directory, in ascending
  // order, and the generation of its file (ListSegmentFiles). Corruption
  // naming the first missing file when numbers were skipped since the
  // previous one (or, for the first call, since 0).
  Status CheckNumber(uint64_t number, uint32_t generation = 0);

  // The verified header (DecodeSegmentHeader, or for a version-3 header
  // DecodeScavengedSegmentHeader with its `fields`, else null) of segment
  // file `number`, in ascending number order, after CheckNumber(number);
  // a segment whose header does not decode is left out. Corruption naming
  // the file when the header does not fit its name or the segments
  // checked before it.
  Status CheckHeader(uint64_t number, const SegmentHeader& header,
                     const ScavengedFields* fields = nullptr);

  // The path of segment `number` in the directory (of the generation
  // CheckNumber was given for it).
  std::string PathOf(uint64_t number) const;

 private:
  const std::string dir_;
  std::optional<uint64_t> last_number_;
  std::optional<uint64_t> store_id_;
  // Generation of every number given to CheckNumber with one above 0.
  std::map<uint64_t, uint32_t> generations_;
  std::optional<uint64_t> previous_first_position_;
  // The end_position of the previous segment if it was a scavenged one.
  std::optional<uint64_t> previous_scavenged_end_;
};

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_SEGMENT_LIST_H_
