// Copyright (c) Cairn authors.
//
// Stream lifecycle: metadata writes, soft delete and tombstones. Each is an
// ordinary append in the global log (atomic, durable, seen by $all
// subscribers), made by the store itself: metadata and soft deletes to the
// metadata stream "$$S", a tombstone as the "$streamDeleted" event at the
// end of S. The commit thread refuses appends to a tombstoned stream and
// checks a soft delete's expected version on S in the same step that
// sequences it, so there is no check-then-write race.
#include <string>
#include <utility>

#include "engine/src/store_impl.h"
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

// The context of a soft delete's conflict on the stream it deletes (as
// opposed to a concurrent metadata write, which it retries).
constexpr std::string_view kDeletedStreamConflict = "on the stream to delete";

// A soft delete retries its read-modify-write of the metadata this often
// when metadata writes race with it, then reports the conflict.
constexpr int kSoftDeleteAttempts = 8;

}  // namespace

Result<std::optional<uint64_t>> StoreImpl::CurrentRevision(
    const std::string& stream) {
  if (auto pending = PendingOf(stream)) {
    return std::optional<uint64_t>(pending->revision);
  }
  // Sequence holds the state lock (shared): the sync thread may be
  // publishing.
  return index_->LastRevision(stream);
}

Result<bool> StoreImpl::IsTombstoned(const std::string& stream,
                                     std::optional<uint64_t> current,
                                     const index::IndexedEvent* last) {
  if (!current) return false;
  // Its last event is unpublished: the group says what it is.
  if (auto pending = PendingOf(stream)) return pending->tombstone;
  return IsStoredTombstone(stream, *current, last);
}

Result<bool> StoreImpl::IsStoredTombstone(std::string_view stream,
                                          uint64_t last_revision,
                                          const index::IndexedEvent* last) {
  if (auto known = index_->KnownTombstone(stream, last_revision)) {
    return *known;
  }
  std::vector<index::IndexedEvent> read;
  if (last == nullptr) {
    Status s =
        index_->Read(stream, last_revision, Direction::kForward, 1, &read);
    if (!s.ok()) return s;
    if (read.empty()) {
      return Status::Corruption(dir_, 0,
                                "stream index lacks the last revision of '" +
                                    std::string(stream) + "'");
    }
    last = &read.front();
  }
  segment::RecordHeader header;
  MappedSegment pin;
  auto record =
      locator_->VerifiedRecordAt(last->position, last->offset, &header, &pin);
  if (!record.ok()) return record.status();
  std::string_view name_in_log;
  std::string_view type;
  uint64_t revision = 0;
  if (!segment::PeekEventKey(*record, header, &name_in_log, &type, &revision)) {
    return Status::Corruption(dir_, last->offset,
                              "event record body of position " +
                                  std::to_string(last->position) +
                                  " is malformed");
  }
  const bool tombstone = type == kStreamDeletedEventType;
  index_->NoteTombstone(stream, last_revision, tombstone);
  return tombstone;
}

std::optional<Result<AppendResult>> StoreImpl::CheckLifecycle(
    const Request& request, const StreamTail& tail) {
  using Decision = std::optional<Result<AppendResult>>;
  // The stream whose tombstone refuses the append: the appended one itself
  // (no copy of its name on this per-append path), or the owner of a
  // metadata stream.
  const std::string_view owner_name = LifecycleOwner(request.stream);
  const bool own = owner_name.size() == request.stream.size();
  const std::string owner_copy = own ? std::string() : std::string(owner_name);
  const std::string& owner = own ? request.stream : owner_copy;
  const std::optional<uint64_t> current = tail.current;
  std::optional<uint64_t> owner_current = current;
  // The appended stream's last event, when the tail read it already.
  const index::IndexedEvent* last = nullptr;
  if (tail.published && !tail.recent.empty()) {
    last = &tail.recent.front();
  } else if (tail.published && tail.last_event) {
    last = &*tail.last_event;
  }
  if (!own) {
    auto revision = CurrentRevision(owner);
    if (!revision.ok()) return Decision(revision.status());
    owner_current = *revision;
    last = nullptr;
  }
  auto tombstoned = IsTombstoned(owner, owner_current, last);
  if (!tombstoned.ok()) return Decision(tombstoned.status());
  if (*tombstoned) return Decision(TombstonedStatus(owner));
  if (request.owner_expected) {
    // KurrentDB: deleting a stream that has neither events nor metadata
    // is a wrong expected version.
    if (!owner_current && !current) {
      return Decision(Status::WrongExpectedVersion(
          request.owner_expected->ToString(), std::nullopt,
          std::string(kDeletedStreamConflict) + ", which does not exist"));
    }
    if (!request.owner_expected->Allows(owner_current)) {
      return Decision(
          Status::WrongExpectedVersion(request.owner_expected->ToString(),
                                       owner_current, kDeletedStreamConflict));
    }
  }
  return std::nullopt;
}

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
      auto tombstone = IsStoredTombstone(stream, **last,
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
    auto visible = VisibilityOf(stream);
    if (visible.ok() && visible->first <= visible->last) {
      auto rewritten = WithTruncateBefore(json, visible->first);
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
  s = PrepareAppend(stream, expected, {&event, 1}, request.get(),
                    /*system=*/true);
  if (!s.ok()) return s;
  request->tombstone = true;
  auto appended = SubmitAndWait(std::move(request));
  if (!appended.ok()) return appended.status();
  return DeleteResult{appended->first_position};
}

}  // namespace cairn::engine
