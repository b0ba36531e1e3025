// Copyright (c) Cairn authors.
//
// The category and event-type streams (`$ce-<category>`, `$et-<type>`):
// opening their index (index/link_index.h) beside the stream index, and
// feeding it every published group. Reads go through ReadStream
// (store_read.cc), which asks this index for names of such streams.
#include <string>

#include "engine/src/store_impl.h"
#include "index/link_streams.h"
#include "segment/record.h"

namespace cairn::engine {

Status StoreImpl::CheckLinksEnabled(std::string_view stream) const {
  if (links_) return Status::Ok();
  return Status::NotSupported(
      "stream '" + std::string(stream) +
      "' is a category or event-type stream, which this store does not "
      "maintain (Options::category_and_type_streams is false, or a "
      "read-only opener found no link index)");
}

Status StoreImpl::CheckLinkMember(std::string_view link_stream,
                                  const RecordedEventView& event,
                                  const MappedSegment& segment,
                                  uint64_t offset) const {
  index::LinkStreamNames names = index::LinkStreamsOf(event.stream, event.type);
  if (names.category == link_stream || names.type == link_stream) {
    return Status::Ok();
  }
  return Status::Corruption(segment->path, offset,
                            "the link index files the event at position " +
                                std::to_string(event.position.value()) +
                                " under '" + std::string(link_stream) +
                                "', but it is not in that stream");
}

Status StoreImpl::OpenLinkIndex(bool read_only,
                                SegmentLog::ReplayStart* start) {
  if (!options_.category_and_type_streams) return Status::Ok();
  const std::string dir =
      io::JoinPath(io::JoinPath(dir_, kIndexDirName), kLinkIndexDirName);
  // A read-only opener keeps the link index only when a writer maintains
  // one: otherwise it would index the whole log in memory, with no writer
  // tables ever bounding it.
  if (read_only && !fs_->Exists(dir)) return Status::Ok();
  const uint64_t first_position =
      log_->segments().front()->header.first_position;
  index::IndexOptions index_options;
  // Two entries per event: the same number of events per table as the
  // stream index, so their tables end at the same positions.
  index_options.memtable_entries = 2 * options_.index_memtable_events;
  index_options.cache_streams = options_.index_cache_streams;
  index_options.read_only = read_only;
  index::EventKeyReader keys = [this](uint64_t position, uint32_t offset) {
    return locator_->EventKeyAt(position, offset);
  };
  for (int attempt = 1;; ++attempt) {
    auto opened = index::LinkIndex::Open(fs_, dir, log_->store_id(),
                                         first_position, index_options, keys);
    if (!opened.ok()) return opened.status();
    links_ = std::move(opened.value());
    if (!read_only || links_->open_note().empty() ||
        attempt == kReaderIndexAttempts) {
      break;
    }
  }
  bool reset = options_.rebuild_index;
  SegmentLog::ReplayStart link_start{0, 0, first_position};
  if (!reset) {
    if (auto last = links_->last_indexed_position()) {
      std::string mismatch;
      // Only half of the last event's entries can not come from a table
      // (tables end between events); if it happens, start again.
      reset =
          links_->next_position() != *last + 1 ||
          !ReplayStartFor(*last + 1, links_->loaded_last_position(),
                          links_->loaded_last_offset(), &link_start, &mismatch);
    }
  }
  if (reset) {
    link_start = SegmentLog::ReplayStart{0, 0, first_position};
    Status s = links_->Reset(first_position);
    if (!s.ok()) return s;
  }
  // One replay feeds both indexes, from where the one behind needs it.
  if (link_start.position < start->position) *start = link_start;
  return Status::Ok();
}

Status StoreImpl::IndexGroupLinks(const Group& group) {
  const Segment& active = log_->active();
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(group.bytes.data());
  uint64_t offset = group.start_offset;
  for (const auto& member : group.members) {
    const AppendResult& r = member->result.value();
    uint64_t position = r.first_position.value();
    for (size_t i = 0; i < member->record_sizes.size(); ++i, ++position) {
      const uint64_t at = offset - group.start_offset;
      segment::RecordHeader header;
      std::string_view stream;
      std::string_view type;
      uint64_t revision = 0;
      if (segment::DecodeRecordHeader(bytes + at, group.bytes.size() - at,
                                      active.seed,
                                      &header) != segment::HeaderCheck::kOk ||
          !segment::PeekEventKey(bytes + at, header, &stream, &type,
                                 &revision)) {
        return Status::Corruption(active.path, offset,
                                  "record just sealed does not decode");
      }
      Status s = links_->Add(member->stream, type, position,
                             static_cast<uint32_t>(offset), member->ids[i]);
      if (!s.ok()) return s;
      offset += member->record_sizes[i];
    }
  }
  return Status::Ok();
}

void StoreImpl::MarkDurable(uint64_t next) {
  durable_next_.store(next, std::memory_order_release);
  if (links_) links_->SetDurable(next);
}

}  // namespace cairn::engine
