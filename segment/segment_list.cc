// Copyright (c) Cairn authors.
#include "segment/segment_list.h"

#include <string>

namespace cairn::segment {

std::string SegmentListChecker::PathOf(uint64_t number) const {
  std::string path = dir_;
  if (!path.empty() && path.back() != '/') path += '/';
  return path + SegmentFileName(number);
}

Status SegmentListChecker::CheckNumber(uint64_t number) {
  const uint64_t expected = last_number_ ? *last_number_ + 1 : 0;
  last_number_ = number;
  if (number == expected) return Status::Ok();
  // The caller lists numbers in ascending order, so number > expected.
  std::string message = number == expected + 1
                            ? "segment file is missing"
                            : "segment files " + std::to_string(expected) +
                                  " to " + std::to_string(number - 1) +
                                  " are missing";
  if (expected == 0) {
    message +=
        " (the log starts at segment 0: without it, the events before "
        "segment " +
        std::to_string(number) + " are lost)";
  } else {
    message += " (a gap in the log between segments " +
               std::to_string(expected - 1) + " and " + std::to_string(number) +
               ")";
  }
  return Status::Corruption(PathOf(expected), 0, message);
}

Status SegmentListChecker::CheckHeader(uint64_t number,
                                       const SegmentHeader& header) {
  const std::string path = PathOf(number);
  if (header.segment_number != number) {
    return Status::Corruption(
        path, 0,
        "segment header says number " + std::to_string(header.segment_number) +
            " but the file name says " + std::to_string(number));
  }
  if (!store_id_) {
    store_id_ = header.store_id;
  } else if (header.store_id != *store_id_) {
    return Status::Corruption(path, 0, "segment belongs to another store");
  }
  const std::optional<uint64_t> previous = previous_first_position_;
  previous_first_position_ = header.first_position;
  if (number == 0 && header.first_position != 0) {
    return Status::Corruption(path, 0,
                              "first segment starts at position " +
                                  std::to_string(header.first_position) +
                                  ", not 0");
  }
  if (previous && header.first_position < *previous) {
    return Status::Corruption(
        path, 0,
        "segment starts at position " + std::to_string(header.first_position) +
            ", before the start of the segment before it (" +
            std::to_string(*previous) + ")");
  }
  return Status::Ok();
}

}  // namespace cairn::segment
