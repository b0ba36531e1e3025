// Copyright (c) Cairn authors.
#include "engine/src/record_locator.h"

#include <algorithm>
#include <string>

namespace cairn::engine {

Status RecordLocator::ReadHeader(const MappedSegment& segment, uint64_t offset,
                                 segment::RecordHeader* header) {
  if (offset >= segment.mapped_size() ||
      segment::DecodeRecordHeader(segment.data() + offset,
                                  segment.mapped_size() - offset, segment->seed,
                                  header) != segment::HeaderCheck::kOk) {
    return Status::Corruption(segment->path, offset,
                              "record header does not verify");
  }
  return Status::Ok();
}

Result<const uint8_t*> RecordLocator::RecordAt(uint64_t position,
                                               uint64_t offset,
                                               segment::RecordHeader* header,
                                               MappedSegment* pin) const {
  auto index = log_->SegmentStartingAtOrBefore(position);
  if (!index) {
    return Status::Corruption(dir_, 0,
                              "position " + std::to_string(position) +
                                  " is before the first segment");
  }
  const std::shared_ptr<Segment>& listed = log_->segments()[*index];
  auto pinned = log_->Pin(listed);
  if (!pinned.ok()) return pinned.status();
  *pin = std::move(pinned.value());
  const MappedSegment& seg = *pin;
  // A read-only handle's tables may be older than a file a scavenge
  // replaced; a removed record is reported as missing below.
  auto moved = OffsetInPin(seg, listed, position, offset);
  if (!moved.ok()) return moved.status();
  if (moved->has_value()) offset = **moved;
  if (offset < segment::kSegmentHeaderSize ||
      !ReadHeader(seg, offset, header).ok()) {
    return Status::Corruption(
        seg->path, offset,
        "the index points at offset " + std::to_string(offset) +
            " for position " + std::to_string(position) +
            ", where no record header verifies (`cairn index rebuild` "
            "recreates the index from the log)");
  }
  if (header->position != position) {
    return Status::Corruption(
        seg->path, offset,
        "the index points at the record of position " +
            std::to_string(header->position) + " for position " +
            std::to_string(position) +
            " (`cairn index rebuild` recreates the index from the log)");
  }
  return seg.data() + offset;
}

Result<const uint8_t*> RecordLocator::VerifiedRecordAt(
    uint64_t position, uint64_t offset, segment::RecordHeader* header,
    MappedSegment* pin) const {
  auto record = RecordAt(position, offset, header, pin);
  if (!record.ok()) return record.status();
  // The header checksum covers only the header: the stream name and the
  // event id are in the body, and an answer that depends on them (which
  // stream an index entry belongs to, whether an append is a retry) must
  // not rest on unverified bytes. A damaged name would otherwise read as
  // another stream's (a hash collision) and silently hide the event.
  const Segment& seg = **pin;
  if (!segment::VerifyRecordBody(*record, *header, seg.seed)) {
    return Status::Corruption(seg.path, offset,
                              "record body checksum does not match (position " +
                                  std::to_string(position) + ")");
  }
  return record;
}

Result<index::EventKey> RecordLocator::EventKeyAt(uint64_t position,
                                                  uint64_t offset) const {
  segment::RecordHeader header;
  MappedSegment pin;
  auto record = VerifiedRecordAt(position, offset, &header, &pin);
  if (!record.ok()) return record.status();
  std::string_view stream;
  std::string_view type;
  uint64_t revision = 0;
  segment::EventDecoder decoder(pin.data() + segment::kSegmentHeaderSize,
                                pin->seed);
  if (!decoder.PeekKey(*record, header, &stream, &type, &revision)) {
    return Status::Corruption(dir_, offset,
                              "event record body of position " +
                                  std::to_string(position) + " is malformed");
  }
  // The mapping may be unmapped once `pin` goes (the cache of open
  // segments evicts it), so the strings are copied to this thread's
  // buffers: valid until this thread's next call, which is as long as the
  // index needs them (it compares a name at once).
  thread_local std::string stream_copy;
  thread_local std::string type_copy;
  stream_copy.assign(stream);
  type_copy.assign(type);
  return index::EventKey{stream_copy, type_copy};
}

Result<std::string_view> RecordLocator::StreamNameAt(uint64_t position,
                                                     uint64_t offset) const {
  auto key = EventKeyAt(position, offset);
  if (!key.ok()) return key.status();
  return key->stream;
}

Result<EventId> RecordLocator::EventIdAt(uint64_t position,
                                         uint64_t offset) const {
  segment::RecordHeader header;
  MappedSegment pin;
  auto record = VerifiedRecordAt(position, offset, &header, &pin);
  if (!record.ok()) return record.status();
  return segment::PeekEventId(*record);
}

Status RecordLocator::ForEachEvent(
    uint64_t first, uint64_t end,
    const std::function<bool(const index::LoggedEvent&)>& visit) const {
  std::vector<Location> chunk;
  // Decodes the mapping at `decoding`: remade where the segment changes.
  std::optional<segment::EventDecoder> decoder;
  const uint8_t* decoding = nullptr;
  for (uint64_t from = first; from < end;) {
    const uint64_t last = from + std::min(end - from, kEventChunk) - 1;
    // The previous chunk's pins go: a mapping address may come back for
    // another file.
    decoding = nullptr;
    chunk.clear();
    Status s = LocateRange(from, last, &chunk);
    if (!s.ok()) return s;
    for (const Location& at : chunk) {
      segment::RecordHeader header;
      s = ReadHeader(at.segment, at.offset, &header);
      if (!s.ok()) return s;
      const uint8_t* record = at.segment.data() + at.offset;
      if (!segment::VerifyRecordBody(record, header, at.segment->seed)) {
        return Status::Corruption(at.segment->path, at.offset,
                                  "record body checksum does not match");
      }
      if (decoding != at.segment.data()) {
        decoding = at.segment.data();
        decoder.emplace(decoding + segment::kSegmentHeaderSize,
                        at.segment->seed);
      }
      index::LoggedEvent event;
      if (!decoder->PeekKey(record, header, &event.stream, &event.type,
                            &event.revision)) {
        return Status::Corruption(at.segment->path, at.offset,
                                  "event record body is malformed");
      }
      event.position = at.position;
      event.offset = static_cast<uint32_t>(at.offset);
      event.id = segment::PeekEventId(record);
      if (!visit(event)) return Status::Ok();
    }
    from = last + 1;
  }
  return Status::Ok();
}

Result<RecordLocator::Location> RecordLocator::Locate(uint64_t position) const {
  auto index = log_->SegmentIndexOf(position);
  if (!index) {
    return Status::Corruption(
        dir_, 0, "position " + std::to_string(position) + " is not in the log");
  }
  Location location;
  auto pinned = log_->Pin(log_->segments()[*index]);
  if (!pinned.ok()) return pinned.status();
  location.segment = std::move(pinned.value());
  const MappedSegment& seg = location.segment;
  if (seg->scavenged()) return LocateKept(std::move(location), position);
  uint64_t at = seg->header.first_position;
  uint64_t offset = segment::kSegmentHeaderSize;
  if (index_ != nullptr) {
    const uint64_t anchor = position - position % index_->anchor_stride();
    if (anchor > at) {
      if (auto anchored = index_->Anchor(anchor)) {
        at = anchor;
        offset = *anchored;
      }
    }
  }
  auto walked = WalkTo(seg, at, offset, position);
  if (!walked.ok() && read_only_ && at != seg->header.first_position) {
    // A read-only handle's anchors may be another generation's offsets
    // (see OffsetInPin): walk from the segment's first record.
    walked = WalkTo(seg, seg->header.first_position,
                    segment::kSegmentHeaderSize, position);
  }
  if (!walked.ok()) return walked.status();
  location.offset = *walked;
  location.position = position;
  return location;
}

Result<uint64_t> RecordLocator::WalkTo(const MappedSegment& seg, uint64_t at,
                                       uint64_t offset,
                                       uint64_t position) const {
  for (; at < position; ++at) {
    segment::RecordHeader header;
    Status s = ReadHeader(seg, offset, &header);
    if (!s.ok()) return s;
    if (header.position != at) {
      return Status::Corruption(seg->path, offset,
                                "record has position " +
                                    std::to_string(header.position) +
                                    ", expected " + std::to_string(at));
    }
    offset += header.RecordSize();
  }
  return offset;
}

Result<std::optional<uint64_t>> RecordLocator::OffsetInPin(
    const MappedSegment& pinned, const std::shared_ptr<Segment>& listed,
    uint64_t position, uint64_t offset) const {
  if (pinned.segment() == listed) {
    if (!read_only_) return std::optional<uint64_t>(offset);
    // A read-only handle adopts the writer's tables and the files of its
    // scavenges in separate steps (it cannot read both at one instant), so
    // for a while its offsets into a segment may be another generation's:
    // where the offset does not hold the position's record, the record is
    // found by its position.
    segment::RecordHeader header;
    if (ReadHeader(pinned, offset, &header).ok() &&
        header.position == position) {
      return std::optional<uint64_t>(offset);
    }
    if (!pinned->scavenged()) {
      auto walked = WalkTo(pinned, pinned->header.first_position,
                           segment::kSegmentHeaderSize, position);
      if (!walked.ok()) return walked.status();
      return std::optional<uint64_t>(*walked);
    }
  }
  auto kept = LocateKept(Location{pinned, 0, 0}, position);
  if (!kept.ok()) return kept.status();
  if (kept->position != position) return std::optional<uint64_t>();
  return std::optional<uint64_t>(kept->offset);
}

Result<RecordLocator::Location> RecordLocator::LocateKept(
    Location location, uint64_t position) const {
  const MappedSegment& seg = location.segment;
  uint64_t offset = segment::kSegmentHeaderSize;
  uint64_t at = seg->header.first_position;
  while (offset < seg->end_offset) {
    segment::RecordHeader header;
    Status s = ReadHeader(seg, offset, &header);
    if (!s.ok()) return s;
    if (header.position < at || header.position >= seg->end_position) {
      return Status::Corruption(
          seg->path, offset,
          "record position " + std::to_string(header.position) +
              " out of order in a scavenged segment (expected at least " +
              std::to_string(at) + ")");
    }
    if (header.position >= position) {
      location.offset = offset;
      location.position = header.position;
      return location;
    }
    at = header.position + 1;
    offset += header.RecordSize();
  }
  location.offset = seg->end_offset;
  location.position = seg->end_position;
  return location;
}

Status RecordLocator::LocateRange(uint64_t first, uint64_t last,
                                  std::vector<Location>* out) const {
  auto location = Locate(first);
  if (!location.ok()) return location.status();
  Location at = std::move(location.value());
  size_t segment_index = *log_->SegmentIndexOf(first);
  for (;;) {
    // A loop: a segment without records (a scavenged one can have none;
    // an original one the list rules accept, though the writer never
    // seals one) is skipped.
    while (at.position >= at.segment->end_position) {
      ++segment_index;
      if (segment_index >= log_->segments().size()) {
        return Status::Corruption(
            dir_, 0,
            "position " + std::to_string(at.position) + " is not in the log");
      }
      auto pinned = log_->Pin(log_->segments()[segment_index]);
      if (!pinned.ok()) return pinned.status();
      at.segment = std::move(pinned.value());
      at.offset = segment::kSegmentHeaderSize;
      at.position = at.segment->header.first_position;
      if (at.segment->scavenged()) {
        const uint64_t from = at.position;
        auto kept = LocateKept(std::move(at), from);
        if (!kept.ok()) return kept.status();
        at = std::move(kept.value());
      }
    }
    if (at.position > last) return Status::Ok();
    out->push_back(at);
    if (at.position == last) return Status::Ok();
    segment::RecordHeader header;
    Status s = ReadHeader(at.segment, at.offset, &header);
    if (!s.ok()) return s;
    at.offset += header.RecordSize();
    ++at.position;
    if (at.segment->scavenged()) {
      // The next kept record, or the end of this segment's records.
      if (at.offset >= at.segment->end_offset) {
        at.position = at.segment->end_position;
        continue;
      }
      s = ReadHeader(at.segment, at.offset, &header);
      if (!s.ok()) return s;
      if (header.position < at.position) {
        return Status::Corruption(at.segment->path, at.offset,
                                  "record position " +
                                      std::to_string(header.position) +
                                      " out of order in a scavenged segment");
      }
      at.position = header.position;
    }
  }
}

}  // namespace cairn::engine
