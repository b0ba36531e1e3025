// Copyright (c) Cairn authors.
//
// Snapshots (cairn/snapshot.h): SaveSnapshot appends to the system stream
// "$snapshot-S" through the store's own write path, whose lifecycle check
// refuses it once S is tombstoned; LoadAggregate picks the newest snapshot
// the stream can still use and reads the events after it. Nothing is
// cached: every decision is made from the stream's head and metadata read
// for the call, so there is no state to go stale and no memory per stream.
#include <string>
#include <utility>

#include "engine/src/snapshots.h"
#include "engine/src/store_impl.h"
#include "engine/src/stream_metadata.h"
#include "engine/src/validation.h"

namespace cairn::engine {
namespace {

// Snapshot events read per step of LoadAggregate's backward scan: one, so
// that a load holds at most one candidate snapshot at a time (they can be
// as large as Options::max_event_size), and the newest, usually usable,
// is all a load reads.
constexpr uint64_t kSnapshotScanChunk = 1;

// Whether a snapshot at `revision` is usable for a stream with visibility
// `v`: not truncated or deleted below, not beyond the stored end, and no
// event after it hidden by $maxCount. ($maxAge is judged on the events
// read, in ReadAfterSnapshot.)
template <typename Visibility>
bool SnapshotFits(uint64_t revision, const Visibility& v) {
  return revision >= v.truncated_before && revision <= v.last &&
         revision + 1 >= v.first;
}

}  // namespace

Result<SaveSnapshotResult> StoreImpl::SaveSnapshot(
    std::string_view stream, StreamRevision revision,
    const SnapshotData& snapshot, const SaveSnapshotOptions& options) {
  Status s = WriteGate();
  if (!s.ok()) return s;
  s = ValidateStreamName(stream, options_);
  if (!s.ok()) return s;
  if (options.keep == 0) {
    return Status::InvalidArgument("SaveSnapshotOptions::keep must be >= 1");
  }
  s = ValidateSnapshotSchema(snapshot.schema);
  if (!s.ok()) return s;
  auto visible = VisibilityOf(stream);
  if (!visible.ok()) return visible.status();
  const uint64_t r = revision.value();
  if (r > visible->last) {
    return Status::InvalidArgument("snapshot revision " + std::to_string(r) +
                                   " is beyond the last "
                                   "revision " +
                                   std::to_string(visible->last) +
                                   " of stream '" + std::string(stream) + "'");
  }
  if (!SnapshotFits(r, *visible)) {
    return Status::InvalidArgument(
        "snapshot revision " + std::to_string(r) + " of stream '" +
        std::string(stream) +
        "' is below its first readable revision (truncated, deleted or "
        "beyond $maxCount): a load could not use it");
  }
  return AppendSnapshot(stream, r, snapshot, options.keep);
}

Result<SaveSnapshotResult> StoreImpl::AppendSnapshot(
    std::string_view stream, uint64_t revision, const SnapshotData& snapshot,
    uint64_t keep) {
  const std::string snapshots = SnapshotStreamOf(stream);
  const std::string metastream = MetastreamOf(snapshots);
  // Both appends take the store's own path, which refuses them once
  // `stream` is tombstoned (CheckLifecycle sees through both names).
  auto system_append = [this](std::string_view to, const EventData& event) {
    auto request = std::make_unique<Request>();
    Status s = PrepareAppend(std::string(to), ExpectedVersion::Any(),
                             {&event, 1}, request.get(), /*system=*/true);
    if (!s.ok()) return Result<AppendResult>(s);
    return SubmitAndWait(std::move(request));
  };
  // The snapshot stream's retention: its newest metadata, when it says
  // anything but $maxCount = keep, is replaced (last writer wins; only
  // this function writes it).
  ReadStreamOptions newest;
  newest.direction = Direction::kBackward;
  newest.max_count = 1;
  auto meta = ReadStoredStream(metastream, newest);
  if (!meta.ok() && !meta.status().IsNotFound()) return meta.status();
  std::optional<uint64_t> current_keep;
  if (meta.ok() && !meta->events.empty()) {
    auto parsed = StreamMetadata::FromJson(meta->events.back().data);
    if (parsed.ok()) current_keep = parsed->max_count;
  }
  if (current_keep != keep) {
    StreamMetadata retention;
    retention.max_count = keep;
    auto json = retention.ToJson();
    if (!json.ok()) return json.status();
    EventData event;
    event.type = std::string(kMetadataEventType);
    event.data = std::move(json.value());
    auto set = system_append(metastream, event);
    if (!set.ok()) return set.status();
  }
  EventData event;
  event.type = std::string(kSnapshotEventType);
  event.data = snapshot.data;
  event.metadata = EncodeSnapshotHeader({revision, snapshot.schema});
  event.content_type = snapshot.content_type;
  auto appended = system_append(snapshots, event);
  if (!appended.ok()) return appended.status();
  return SaveSnapshotResult{appended->first_revision, appended->first_position};
}

Result<std::optional<AggregateResult>> StoreImpl::ReadAfterSnapshot(
    std::string_view stream, std::optional<Snapshot> snapshot,
    uint64_t max_count) {
  ReadStreamOptions read_options;
  read_options.max_count = max_count;
  if (snapshot) {
    read_options.from = StreamRevision(snapshot->revision.value() + 1);
  }
  auto read = ReadStream(stream, read_options);
  if (!read.ok()) return read.status();
  if (snapshot) {
    // The events must continue the snapshot without a hole: $maxAge, or a
    // delete or truncation since the snapshot was chosen, can hide some.
    const uint64_t r = snapshot->revision.value();
    const bool continues = read->events.empty()
                               ? read->last_revision.value() <= r
                               : read->events.front().revision.value() == r + 1;
    if (!continues) return std::optional<AggregateResult>();
  }
  AggregateResult result;
  result.snapshot = std::move(snapshot);
  result.events = std::move(read->events);
  result.last_revision = read->last_revision;
  result.end_of_stream = read->end_of_stream;
  result.next_revision = StreamRevision(
      result.events.empty() ? result.last_revision.value() + 1
                            : result.events.back().revision.value() + 1);
  return std::optional<AggregateResult>(std::move(result));
}

Result<AggregateResult> StoreImpl::LoadAggregate(
    std::string_view stream, const LoadAggregateOptions& options) {
  Status s = ValidateStreamName(stream, options_);
  if (!s.ok()) return s;
  if (options.max_count == 0) {
    return Status::InvalidArgument(
        "LoadAggregateOptions::max_count must be >= 1");
  }
  auto visible = VisibilityOf(stream);
  if (!visible.ok()) return visible.status();
  // Newest snapshot first; the snapshot stream's $maxCount bounds the scan.
  const std::string snapshots = SnapshotStreamOf(stream);
  ReadStreamOptions scan;
  scan.direction = Direction::kBackward;
  scan.max_count = kSnapshotScanChunk;
  for (;;) {
    auto chunk = ReadStream(snapshots, scan);
    if (!chunk.ok() && !chunk.status().IsNotFound()) return chunk.status();
    if (!chunk.ok() || chunk->events.empty()) break;
    for (RecordedEvent& e : chunk->events) {
      auto header = DecodeSnapshotHeader(e.metadata);
      if (e.type != kSnapshotEventType || !header.ok()) {
        // Only AppendSnapshot writes snapshot streams: a verified record
        // that is not one of its snapshots is damage, never skipped.
        return Status::Corruption(
            dir_, e.position.value(),
            "event " + std::to_string(e.revision.value()) + " of '" +
                snapshots + "' is not a snapshot" +
                (header.ok() ? "" : ": " + header.status().message()));
      }
      if (!SnapshotFits(header->revision, *visible)) continue;
      Snapshot candidate;
      candidate.revision = StreamRevision(header->revision);
      candidate.data = std::move(e.data);
      candidate.schema = std::move(header->schema);
      candidate.content_type = e.content_type;
      candidate.position = e.position;
      candidate.created_us = e.created_us;
      auto loaded =
          ReadAfterSnapshot(stream, std::move(candidate), options.max_count);
      if (!loaded.ok()) return loaded.status();
      if (loaded->has_value()) return std::move(**loaded);
    }
    const uint64_t oldest = chunk->events.back().revision.value();
    if (chunk->end_of_stream || oldest == 0) break;
    scan.from = StreamRevision(oldest - 1);
  }
  auto whole = ReadAfterSnapshot(stream, std::nullopt, options.max_count);
  if (!whole.ok()) return whole.status();
  return std::move(**whole);
}

}  // namespace cairn::engine
