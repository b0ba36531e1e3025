// Copyright (c) Cairn authors.
#include "engine/src/log_indexer.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::engine {

template <typename Index>
Status LogIndexer::SkipScavengedHole(Index* index, uint64_t to,
                                     uint32_t to_offset) {
  const auto& segments = log_->segments();
  while (index->next_position() < to) {
    const uint64_t p = index->next_position();
    auto at = log_->SegmentIndexOf(p);
    if (!at || !segments[*at]->scavenged()) {
      return Status::Corruption(
          at ? segments[*at]->path : log_->dir(), 0,
          "positions " + std::to_string(p) + " to " + std::to_string(to) +
              " are missing from the log outside a scavenged segment");
    }
    const Segment& holder = *segments[*at];
    const uint64_t end = std::min(to, holder.end_position);
    const uint32_t anchor = to < holder.end_position
                                ? to_offset
                                : static_cast<uint32_t>(holder.end_offset);
    Status s = index->SkipRemoved(end, anchor);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status LogIndexer::Add(const MappedSegment& segment,
                       std::span<const segment::ScannedRecord> records) {
  // An append's records are one stream's, at consecutive revisions.
  std::string_view stream;
  uint64_t first_revision = 0;
  std::vector<uint32_t> offsets;
  std::vector<EventId> ids;
  std::vector<std::string_view> types;
  offsets.reserve(records.size());
  ids.reserve(records.size());
  types.reserve(records.size());
  segment::EventDecoder decoder(segment.data() + segment::kSegmentHeaderSize,
                                segment->seed);
  for (const segment::ScannedRecord& r : records) {
    const uint8_t* record = segment.data() + r.offset;
    std::string_view name;
    std::string_view type;
    uint64_t revision = 0;
    if (!decoder.PeekKey(record, r.header, &name, &type, &revision)) {
      return Status::Corruption(segment->path, r.offset,
                                "event record body is malformed");
    }
    if (offsets.empty()) {
      stream = name;
      first_revision = revision;
    } else if (name != stream || revision != first_revision + offsets.size()) {
      return Status::Corruption(segment->path, r.offset,
                                "record does not continue its append's "
                                "stream and revisions");
    }
    offsets.push_back(static_cast<uint32_t>(r.offset));
    ids.push_back(segment::PeekEventId(record));
    types.push_back(type);
  }
  // The records of one visit have consecutive positions (a scavenged
  // segment's are visited one at a time).
  const uint64_t first_position = records.front().header.position;
  const auto first_offset = static_cast<uint32_t>(records.front().offset);
  Status s;
  if (first_position > index_->next_position()) {
    s = SkipScavengedHole(index_, first_position, first_offset);
  }
  if (s.ok() && links_ && first_position > links_->next_position()) {
    s = SkipScavengedHole(links_, first_position, first_offset);
  }
  const uint64_t next = index_->next_position();
  if (s.ok() && first_position + records.size() > next) {
    const size_t skip =
        next > first_position ? static_cast<size_t>(next - first_position) : 0;
    s = index_->AddRun(stream, first_revision + skip, first_position + skip,
                       std::span(offsets).subspan(skip),
                       std::span(ids).subspan(skip));
  }
  for (size_t i = 0; s.ok() && links_ && i < records.size(); ++i) {
    s = links_->Add(stream, types[i], records[i].header.position, offsets[i],
                    ids[i]);
  }
  if (!s.ok()) {
    return Status::Corruption(segment->path, records.front().offset,
                              s.message());
  }
  return Status::Ok();
}

Status LogIndexer::SkipToEnd(uint64_t end) {
  const bool scavenged =
      std::any_of(log_->segments().begin(), log_->segments().end(),
                  [](const auto& segment) { return segment->scavenged(); });
  if (!scavenged) return Status::Ok();
  Status s;
  if (index_->next_position() < end) {
    s = SkipScavengedHole(index_, end, 0);
  }
  if (s.ok() && links_ && links_->next_position() < end) {
    s = SkipScavengedHole(links_, end, 0);
  }
  return s;
}

}  // namespace cairn::engine
