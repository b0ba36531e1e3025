// Copyright (c) Cairn authors.
//
// The category and event-type streams (`$ce-<category>`, `$et-<type>`):
// the store's checks on them, and the durable end their index learns. The
// index (index/link_index.h) is opened beside the stream index by
// recovery.h and fed each published group by the commit pipeline
// (commit_sync_stage.cc). Reads go through ReadStream (store_read.cc),
// which asks this index for names of such streams.
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

void StoreImpl::MarkDurable(uint64_t next) {
  durable_next_.store(next, std::memory_order_release);
  if (links_) links_->SetDurable(next);
}

}  // namespace cairn::engine
