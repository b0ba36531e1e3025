// Copyright (c) Cairn authors.
//
// The category and event-type streams (`$ce-<category>`, `$et-<type>`):
// feeding their index (index/link_index.h, opened by recovery.h beside the
// stream index) every published group. Reads go through ReadStream
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
