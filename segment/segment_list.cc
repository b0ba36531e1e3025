// Copyright (c) Cairn authors.
#include "segment/segment_list.h"

#include <algorithm>
#include <string>

namespace cairn::segment {

SegmentFileListing ListSegmentFiles(const std::vector<std::string>& names) {
  std::map<uint64_t, uint32_t> highest;
  std::vector<SegmentFileId> all;
  for (const std::string& name : names) {
    auto id = ParseAnySegmentFileName(name);
    if (!id) continue;
    all.push_back(*id);
    uint32_t& generation = highest.try_emplace(id->number, 0).first->second;
    generation = std::max(generation, id->generation);
  }
  SegmentFileListing listing;
  for (const auto& [number, generation] : highest) {
    listing.current.push_back(SegmentFileId{number, generation});
  }
  for (const SegmentFileId& id : all) {
    if (id.generation < highest[id.number]) {
      listing.superseded.push_back(SegmentFileName(id));
    }
  }
  std::sort(listing.superseded.begin(), listing.superseded.end());
  return listing;
}

std::string SegmentListChecker::PathOf(uint64_t number) const {
  std::string path = dir_;
  if (!path.empty() && path.back() != '/') path += '/';
  auto it = generations_.find(number);
  const uint32_t generation = it == generations_.end() ? 0 : it->second;
  return path + SegmentFileName(SegmentFileId{number, generation});
}

Status SegmentListChecker::CheckNumber(uint64_t number, uint32_t generation) {
  const uint64_t expected = last_number_ ? *last_number_ + 1 : 0;
  last_number_ = number;
  if (generation != 0) generations_[number] = generation;
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
                                       const SegmentHeader& header,
                                       const ScavengedFields* fields) {
  const std::string path = PathOf(number);
  const uint32_t generation = fields != nullptr ? fields->generation : 0;
  auto named_at = generations_.find(number);
  const uint32_t named = named_at == generations_.end() ? 0 : named_at->second;
  if (generation != named) {
    return Status::Corruption(
        path, 0,
        "segment header says generation " + std::to_string(generation) +
            " but the file name says " + std::to_string(named));
  }
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
  const std::optional<uint64_t> scavenged_end = previous_scavenged_end_;
  previous_first_position_ = header.first_position;
  previous_scavenged_end_.reset();
  if (fields != nullptr) previous_scavenged_end_ = fields->end_position;
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
  if (scavenged_end && header.first_position != *scavenged_end) {
    // A scavenged segment says where it ends; no scan is needed to check
    // that the next one continues there.
    return Status::Corruption(
        path, 0,
        "segment starts at position " + std::to_string(header.first_position) +
            " but the scavenged segment before it ends at position " +
            std::to_string(*scavenged_end));
  }
  return Status::Ok();
}

}  // namespace cairn::segment
