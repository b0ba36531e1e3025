// Copyright (c) Cairn authors.
#include "engine/src/stored_tombstone.h"

#include <vector>

#include "engine/src/stream_metadata.h"
#include "segment/record.h"

namespace cairn::engine {

Result<bool> IsStoredTombstone(index::PersistentIndex* index,
                               const RecordLocator& locator,
                               const std::string& dir, std::string_view stream,
                               uint64_t last_revision,
                               const index::IndexedEvent* last) {
  if (auto known = index->KnownTombstone(stream, last_revision)) {
    return *known;
  }
  std::vector<index::IndexedEvent> read;
  if (last == nullptr) {
    Status s =
        index->Read(stream, last_revision, Direction::kForward, 1, &read);
    if (!s.ok()) return s;
    if (read.empty()) {
      return Status::Corruption(dir, 0,
                                "stream index lacks the last revision of '" +
                                    std::string(stream) + "'");
    }
    last = &read.front();
  }
  segment::RecordHeader header;
  MappedSegment pin;
  auto record =
      locator.VerifiedRecordAt(last->position, last->offset, &header, &pin);
  if (!record.ok()) return record.status();
  std::string_view name_in_log;
  std::string_view type;
  uint64_t revision = 0;
  segment::EventDecoder decoder(pin.data() + segment::kSegmentHeaderSize,
                                pin->seed);
  if (!decoder.PeekKey(*record, header, &name_in_log, &type, &revision)) {
    return Status::Corruption(dir, last->offset,
                              "event record body of position " +
                                  std::to_string(last->position) +
                                  " is malformed");
  }
  const bool tombstone = type == kStreamDeletedEventType;
  index->NoteTombstone(stream, last_revision, tombstone);
  return tombstone;
}

}  // namespace cairn::engine
