// Copyright (c) Cairn authors.
//
// Stream lifecycle: metadata writes, soft delete and tombstones. Each is an
// ordinary append in the global log (atomic, durable, seen by $all
// subscribers), made by the store itself: metadata and soft deletes to the
// metadata stream "$$S", a tombstone as the "$streamDeleted" event at the
// end of S. The commit pipeline refuses appends to a tombstoned stream and
// checks a soft delete's expected version on S in the same step that
// sequences it (commit_sequence.cc), so there is no check-then-write race.
#include <string>
#include <utility>

#include "engine/src/store_impl.h"
#include "engine/src/stored_tombstone.h"
#include "engine/src/stream_metadata.h"
#include "engine/src/validation.h"
#include "index/link_streams.h"
#include "segment/record.h"

namespace cairn::engine {
namespace {

Status TombstonedStatus(std::string_view stream) {
  return Status::StreamDeleted("stream '" + std::string(stream) +
                               "' was tombstoned");
}

// A soft delete retries its read-modify-write of the metadata this often
// when metadata writes race with it, then reports the conflict.
constexpr int kSoftDeleteAttempts = 8;

}  // namespace

Result<StoreImpl::StreamHead> StoreImpl::ReadHead(std::string_view stream) {
  StreamHead head;
  if (index::IsLinkStreamName(stream)) {
    // Category and event-type streams: their newest link, resolved.
    ReadStreamOptions newest;
    newest.direction = Direction::kBackward;
    newest.max_count = 1;
    auto tail = ReadStoredStream(stream, newest);
    if (!tail.ok() && !tail.status().IsNotFound()) return tail.status();
    if (tail.ok() && !tail->events.empty()) {
      const RecordedEvent& newest_event = tail->events.back();
      if (newest_event.type == kStreamDeletedEventType) {
        return TombstonedStatus(stream);
      }
      head.last = newest_event.revision.value();
    }
  } else {
    // The last revision and whether that event is a tombstone, from the
    // index and its stream cache; the event itself is read (and verified)
    // only when the cache does not know the answer.
    if (closed_flag_.load(std::memory_order_acquire)) {
      return Status::Closed("the store is closed");
    }
    if (stream.empty()) {
      return Status::InvalidArgument("stream name must not be empty");
    }
    Status s = Refresh();
    if (!s.ok()) return s;
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    std::optional<index::IndexedEvent> last_event;
    auto last = index_->LastRevision(stream, &last_event);
    if (!last.ok()) return last.status();
    if (last->has_value()) {
      auto tombstone =
          IsStoredTombstone(index_.get(), *locator_, dir_, stream, **last,
                            last_event ? &*last_event : nullptr);
      if (!tombstone.ok()) return tombstone.status();
      if (*tombstone) return TombstonedStatus(stream);
      head.last = **last;
    }
  }
  if (IsMetadataStream(stream)) return head;
  ReadStreamOptions newest;
  newest.direction = Direction::kBackward;
  newest.max_count = 1;
  auto meta = ReadStoredStream(MetastreamOf(stream), newest);
  if (!meta.ok() && !meta.status().IsNotFound()) return meta.status();
  if (!meta.ok() || meta->events.empty()) return head;
  head.metadata_event = std::move(meta->events.back());
  auto parsed = StreamMetadata::FromJson(head.metadata_event->data);
  if (!parsed.ok()) {
    // Only SetStreamMetadataJson and Delete write metadata streams, and
    // they validate: a record that verified but does not parse is a bug.
    return Status::Corruption(
        dir_, head.metadata_event->position.value(),
        "metadata event of stream '" + std::string(stream) +
            "' does not parse: " + parsed.status().message());
  }
  head.metadata = std::move(parsed.value());
  return head;
}

Result<StreamMetadataResult> StoreImpl::GetStreamMetadata(
    std::string_view stream) {
  Status s = ValidateStreamName(stream, options_);
  if (!s.ok()) return s;
  auto head = ReadHead(stream);
  if (!head.ok()) return head.status();
  StreamMetadataResult result;
  result.json = "{}";
  if (!head->metadata_event) return result;
  result.metadata = std::move(head->metadata);
  result.json = std::move(head->metadata_event->data);
  result.metastream_revision = head->metadata_event->revision;
  return result;
}

Result<AppendResult> StoreImpl::SetStreamMetadataJson(std::string_view stream,
                                                      ExpectedVersion expected,
                                                      std::string_view json) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  Status s = ValidateStreamName(stream, options_);
  if (!s.ok()) return s;
  auto parsed = StreamMetadata::FromJson(json);
  if (!parsed.ok()) return parsed.status();
  std::string data(json);
  if (parsed->truncate_before == kSoftDeletedTruncateBefore) {
    // Keeping a soft delete's $tb would hide the events appended since the
    // delete (the delete's cut is where its metadata event is in the log):
    // like KurrentDB, the cut becomes an ordinary $tb at the first of them.
    // The cut alone, not $maxCount's, which the new metadata may change.
    auto visible = VisibilityOf(stream);
    if (visible.ok() && visible->truncated_before <= visible->last) {
      auto rewritten = WithTruncateBefore(json, visible->truncated_before);
      if (!rewritten.ok()) return rewritten.status();
      data = std::move(rewritten.value());
    }
  }
  EventData event;
  event.type = std::string(kMetadataEventType);
  event.data = std::move(data);
  event.content_type = ContentType::kJson;
  auto request = std::make_unique<Request>();
  s = PrepareAppend(MetastreamOf(stream), expected, {&event, 1}, request.get(),
                    /*system=*/true);
  if (!s.ok()) return s;
  return SubmitAndWait(std::move(request));
}

Result<DeleteResult> StoreImpl::Delete(std::string_view stream,
                                       ExpectedVersion expected) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  Status s = ValidateStreamName(stream, options_);
  if (!s.ok()) return s;
  for (int attempt = 1;; ++attempt) {
    // Read-modify-write of the metadata: the append expects the metadata
    // revision read here, so a concurrent metadata write is never lost.
    auto current = GetStreamMetadata(stream);
    if (!current.ok()) return current.status();
    auto json = WithTruncateBefore(current->json, kSoftDeletedTruncateBefore);
    if (!json.ok()) return json.status();
    EventData event;
    event.type = std::string(kMetadataEventType);
    event.data = std::move(json.value());
    auto request = std::make_unique<Request>();
    const ExpectedVersion meta_expected =
        current->metastream_revision
            ? ExpectedVersion::Exact(current->metastream_revision->value())
            : ExpectedVersion::NoStream();
    s = PrepareAppend(MetastreamOf(stream), meta_expected, {&event, 1},
                      request.get(), /*system=*/true);
    if (!s.ok()) return s;
    request->owner_expected = expected;
    auto appended = SubmitAndWait(std::move(request));
    if (appended.ok()) return DeleteResult{appended->first_position};
    // A conflict on the metadata stream (a metadata write raced with the
    // read above) is retried; one on the stream itself is the caller's.
    const bool metadata_raced =
        appended.status().IsWrongExpectedVersion() &&
        appended.status().message().find(kDeletedStreamConflict) ==
            std::string::npos;
    if (!metadata_raced || attempt == kSoftDeleteAttempts) {
      return appended.status();
    }
  }
}

Result<DeleteResult> StoreImpl::Tombstone(std::string_view stream,
                                          ExpectedVersion expected) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  // Also refuses "$$S": a metadata stream is never tombstoned on its own.
  Status s = ValidateStreamName(stream, options_);
  if (!s.ok()) return s;
  EventData event;
  event.type = std::string(kStreamDeletedEventType);
  event.content_type = ContentType::kBinary;
  auto request = std::make_unique<Request>();
  s = PrepareAppend(std::string(stream), expected, {&event, 1}, request.get(),
                    /*system=*/true);
  if (!s.ok()) return s;
  request->tombstone = true;
  auto appended = SubmitAndWait(std::move(request));
  if (!appended.ok()) return appended.status();
  return DeleteResult{appended->first_position};
}

}  // namespace cairn::engine
