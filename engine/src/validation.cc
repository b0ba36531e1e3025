// Copyright (c) Cairn authors.
#include "engine/src/validation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cairn/text.h"
#include "engine/src/stream_metadata.h"
#include "index/link_streams.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::engine {
namespace {

constexpr uint64_t kMinSegmentSize = uint64_t{64} * 1024;
constexpr uint64_t kMaxSegmentSize = (1ull << 32) - 1;  // offsets are u32
constexpr uint64_t kMaxFieldLength = 65535;             // u16 on disk
// vm.max_map_count defaults to 65530 mappings per process, shared with
// the index tables and the application.
constexpr uint64_t kMaxOpenSegments = 32768;

std::string Quote(std::string_view s) {
  constexpr size_t kShown = 64;
  std::string out = "'";
  out += s.substr(0, kShown);
  if (s.size() > kShown) out += "...";
  out += "'";
  return out;
}

}  // namespace

Status ValidateOptions(const Options& options) {
  if (options.segment_size < kMinSegmentSize ||
      options.segment_size > kMaxSegmentSize) {
    return Status::InvalidArgument(
        "segment_size must be between 64 KiB and 4 GiB - 1, got " +
        std::to_string(options.segment_size));
  }
  if (options.max_open_segments == 0 ||
      options.max_open_segments > kMaxOpenSegments) {
    return Status::InvalidArgument(
        "max_open_segments must be between 1 and 32768, got " +
        std::to_string(options.max_open_segments));
  }
  if (options.max_stream_name_length == 0 ||
      options.max_stream_name_length > kMaxFieldLength) {
    return Status::InvalidArgument(
        "max_stream_name_length must be between 1 and 65535");
  }
  if (options.max_type_length == 0 ||
      options.max_type_length > kMaxFieldLength) {
    return Status::InvalidArgument(
        "max_type_length must be between 1 and 65535");
  }
  if (options.max_event_size == 0 || options.max_append_size == 0) {
    return Status::InvalidArgument(
        "max_event_size and max_append_size must be positive");
  }
  if (options.durability == Durability::kInterval &&
      options.sync_interval.count() <= 0) {
    return Status::InvalidArgument("sync_interval must be positive");
  }
  if (options.max_group_bytes == 0) {
    return Status::InvalidArgument("max_group_bytes must be positive");
  }
  if (options.index_memtable_events == 0 ||
      options.index_memtable_events > (1ull << 31)) {
    return Status::InvalidArgument(
        "index_memtable_events must be between 1 and 2^31");
  }
  if (options.index_cache_streams == 0) {
    return Status::InvalidArgument("index_cache_streams must be positive");
  }
  if (options.idempotency_window == 0 ||
      options.idempotency_window > (1ull << 20)) {
    return Status::InvalidArgument(
        "idempotency_window must be between 1 and 1048576");
  }
  if (options.rebuild_index && options.read_only) {
    return Status::InvalidArgument(
        "rebuild_index needs a writer (read_only is set)");
  }
  return Status::Ok();
}

uint64_t EffectiveMaxAppendSize(const Options& options) {
  // Leave room for the per-record framing of a worst case of tiny events:
  // an append's encoded size is at most its payload plus 80 bytes per
  // event plus the stream name per event, which the writer checks exactly;
  // this cap keeps the common case from ever hitting that check.
  uint64_t room = options.segment_size - segment::kSegmentHeaderSize;
  return std::min(options.max_append_size, room / 2);
}

Status ValidateStreamName(std::string_view stream, const Options& options) {
  if (stream.empty()) {
    return Status::InvalidArgument("stream name must not be empty");
  }
  if (stream.size() > options.max_stream_name_length) {
    return Status::InvalidArgument(
        "stream name " + Quote(stream) + " is " +
        std::to_string(stream.size()) + " bytes, more than the limit of " +
        std::to_string(options.max_stream_name_length));
  }
  if (index::IsLinkStreamName(stream)) {
    return Status::InvalidArgument(
        "stream " + Quote(stream) +
        " is a category or event-type stream: the store maintains it, "
        "appends to it are refused");
  }
  // KurrentDB's rule: any client may write a '$' (system) stream, except
  // the ones the store derives ($all above, $ce-/$et-), metadata streams,
  // which only SetStreamMetadataJson and Delete write, and snapshot
  // streams, which only SaveSnapshot writes.
  if (stream == "$all") {
    return Status::InvalidArgument(
        "stream '$all' is the global log: it can not be written or deleted");
  }
  if (IsMetadataStream(stream)) {
    return Status::InvalidArgument(
        "stream name " + Quote(stream) +
        " is a metadata stream: write it with SetStreamMetadataJson");
  }
  if (IsSnapshotStream(stream)) {
    return Status::InvalidArgument(
        "stream name " + Quote(stream) +
        " is a snapshot stream: write it with SaveSnapshot");
  }
  if (!IsUtf8Text(stream)) {
    return Status::InvalidArgument(
        "stream name must be valid UTF-8 without control characters");
  }
  return Status::Ok();
}

Status ValidateAppend(std::string_view stream,
                      std::span<const EventData> events, const Options& options,
                      bool system) {
  Status s =
      ValidateStreamName(system ? LifecycleOwner(stream) : stream, options);
  if (!s.ok()) return s;
  if (stream.size() > kMaxFieldLength) {
    // A system stream's prefix ("$$", "$snapshot-") can push a valid
    // owner name past what a record can hold.
    return Status::InvalidArgument("stream name " + Quote(stream) + " is " +
                                   std::to_string(stream.size()) +
                                   " bytes, more than a record holds (" +
                                   std::to_string(kMaxFieldLength) + ")");
  }
  if (events.empty()) {
    return Status::InvalidArgument("an append needs at least one event");
  }
  uint64_t total = 0;
  uint64_t encoded = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const EventData& e = events[i];
    std::string which = "event " + std::to_string(i);
    if (e.type.empty()) {
      return Status::InvalidArgument(which + ": event type must not be empty");
    }
    if (e.type.size() > options.max_type_length) {
      return Status::InvalidArgument(which + ": event type is " +
                                     std::to_string(e.type.size()) +
                                     " bytes, more than the limit of " +
                                     std::to_string(options.max_type_length));
    }
    if (!system && e.type == kStreamDeletedEventType) {
      return Status::InvalidArgument(which + ": event type " +
                                     std::string(kStreamDeletedEventType) +
                                     " is reserved for Store::Tombstone");
    }
    if (!IsUtf8Text(e.type)) {
      return Status::InvalidArgument(
          which +
          ": event type must be valid UTF-8 without control "
          "characters");
    }
    uint64_t size = e.type.size() + e.data.size() + e.metadata.size();
    if (size > options.max_event_size) {
      return Status::InvalidArgument(
          which + " is " + std::to_string(size) +
          " bytes (type + data + metadata), more than max_event_size " +
          std::to_string(options.max_event_size));
    }
    total += size;
    encoded += size + stream.size() + segment::kRecordHeaderSize +
               segment::kEventBodyFixedSize;
  }
  uint64_t max_append = EffectiveMaxAppendSize(options);
  if (total > max_append) {
    return Status::InvalidArgument("append is " + std::to_string(total) +
                                   " bytes, more than the limit of " +
                                   std::to_string(max_append));
  }
  if (encoded > options.segment_size - segment::kSegmentHeaderSize) {
    return Status::InvalidArgument(
        "append does not fit one segment (" + std::to_string(encoded) +
        " bytes encoded); raise segment_size or split the append");
  }
  // Two events of one append with the same id would make a retry ambiguous.
  if (events.size() > 1) {
    std::vector<EventId> ids;
    ids.reserve(events.size());
    for (const EventData& e : events) {
      if (!e.id.IsNil()) ids.push_back(e.id);
    }
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
      return Status::InvalidArgument("two events of one append share an id");
    }
  }
  return Status::Ok();
}

}  // namespace cairn::engine
