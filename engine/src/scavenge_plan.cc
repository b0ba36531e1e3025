// Copyright (c) Cairn authors.
#include "engine/src/scavenge_plan.h"

#include <algorithm>
#include <utility>

#include "segment/segment_header.h"

namespace cairn::engine {

bool IsRemovable(const StreamRetention& retention, uint64_t revision,
                 int64_t created_us) {
  if (retention.erase_all) return true;
  if (revision >= retention.last) return false;
  if (retention.tombstoned) return true;
  if (revision < retention.first_readable) return true;
  return retention.min_created_us.has_value() &&
         created_us < *retention.min_created_us;
}

bool WorthRewriting(const ScavengeUnitPlan& unit) {
  return unit.removable_records != 0 ||
         unit.file_bytes >
             2 * (unit.record_bytes + segment::kSegmentHeaderSize);
}

ScavengePlanner::ScavengePlanner(RetentionLookup lookup,
                                 size_t max_cached_streams)
    : lookup_(std::move(lookup)),
      max_cached_streams_(std::max<size_t>(max_cached_streams, 1)) {}

Result<bool> ScavengePlanner::Removable(std::string_view stream,
                                        uint64_t revision, int64_t created_us) {
  if (last_ == nullptr || stream != last_stream_) {
    last_ = nullptr;
    last_stream_.assign(stream);
    auto cached = cache_.find(last_stream_);
    if (cached == cache_.end()) {
      auto looked_up = lookup_(stream);
      if (!looked_up.ok()) return looked_up.status();
      if (cache_.size() >= max_cached_streams_) cache_.clear();
      cached = cache_.emplace(last_stream_, *looked_up).first;
    }
    last_ = &cached->second;
  }
  return last_->has_value() && IsRemovable(**last_, revision, created_us);
}

Result<bool> ScavengePlanner::RemovableRecord(
    segment::EventDecoder* decoder, const uint8_t* record,
    const segment::RecordHeader& header, const std::string& file,
    uint64_t offset) {
  // Its stream, revision and creation time ($maxAge) in one parse.
  segment::EventParts parts;
  if (!decoder->Parse(record, header, &parts)) {
    return Status::Corruption(file, offset, "event record body is malformed");
  }
  return Removable(parts.head.stream, parts.head.revision,
                   parts.head.created_us);
}

}  // namespace cairn::engine
