// Copyright (c) Cairn authors.
//
// Retention on reads: ReadStream applies a stream's tombstone and metadata
// ($tb, $maxCount, $maxAge, soft delete) to the stored events at once, so
// what a scavenge will remove is already invisible before it runs. The
// cut-offs are computed from the stream's last event and its newest
// metadata event on every read; nothing is cached, so there is no state to
// go stale and no memory per stream.
#include <algorithm>
#include <chrono>
#include <string>

#include "engine/src/store_impl.h"
#include "engine/src/stream_metadata.h"
#include "engine/src/wall_clock.h"
#include "index/link_streams.h"

namespace cairn::engine {
namespace {

Status NotFoundStatus(std::string_view stream, std::string_view why) {
  return Status::NotFound("stream '" + std::string(stream) + "' " +
                          std::string(why));
}

}  // namespace

Result<uint64_t> StoreImpl::FirstRevisionAfter(std::string_view stream,
                                               uint64_t position,
                                               uint64_t last) {
  // Positions grow with revisions: a binary search over the index, which
  // costs a lookup per step and no record reads.
  uint64_t lo = 0;
  uint64_t hi = last + 1;
  std::vector<index::IndexedEvent> found;
  // One shared lock for the whole search, not one per step.
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    found.clear();
    Status s = index_->Read(stream, mid, Direction::kForward, 1, &found);
    if (!s.ok()) return s;
    if (found.empty()) {
      return Status::Corruption(dir_, 0,
                                "stream index lacks revision " +
                                    std::to_string(mid) + " of '" +
                                    std::string(stream) + "'");
    }
    if (found[0].position > position) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

Result<StoreImpl::Visibility> StoreImpl::VisibilityFromHead(
    std::string_view stream, const StreamHead& head) {
  Visibility v;
  v.last = *head.last;
  if (IsMetadataStream(stream)) {
    // A metadata stream reads as its newest event (KurrentDB's implicit
    // $maxCount of 1 for metadata streams): only that one decides, and a
    // scavenge removes the others.
    v.first = v.last;
    return v;
  }
  if (!head.metadata_event) return v;
  const uint64_t metadata_position = head.metadata_event->position.value();
  const StreamMetadata& m = head.metadata;
  if (m.truncate_before == kSoftDeletedTruncateBefore) {
    // Soft-deleted: only the events appended after the delete are
    // readable, and without any the stream reads as not found.
    auto first = FirstRevisionAfter(stream, metadata_position, v.last);
    if (!first.ok()) return first.status();
    v.first = *first;
    v.deleted = *first > v.last;
  } else if (m.truncate_before) {
    v.first = *m.truncate_before;
  }
  v.truncated_before = v.first;
  if (m.max_count) {
    const uint64_t keep_from =
        v.last + 1 >= *m.max_count ? v.last + 1 - *m.max_count : 0;
    v.first = std::max(v.first, keep_from);
  }
  if (m.max_age_seconds) {
    // Saturates: an age beyond the epoch hides nothing.
    const auto age_us = static_cast<int64_t>(
        std::min<uint64_t>(*m.max_age_seconds, INT64_MAX / 1'000'000) *
        1'000'000);
    const int64_t test_now =
        retention_now_for_test_.load(std::memory_order_relaxed);
    v.min_created_us = (test_now != 0 ? test_now : WallClockMicros()) - age_us;
  }
  return v;
}

Result<StoreImpl::Visibility> StoreImpl::VisibilityOf(std::string_view stream) {
  auto head = ReadHead(stream);
  if (!head.ok()) return head.status();
  if (!head->last) return NotFoundStatus(stream, "has no events");
  auto v = VisibilityFromHead(stream, *head);
  if (v.ok() && v->deleted) return NotFoundStatus(stream, "was deleted");
  return v;
}

Result<ReadStreamResult> StoreImpl::ReadStream(
    std::string_view stream, const ReadStreamOptions& options) {
  activity_.CountStreamRead(index::IsLinkStreamName(stream));
  return ReadVisibleStream(stream, options);
}

Result<ReadStreamResult> StoreImpl::ReadVisibleStream(
    std::string_view stream, const ReadStreamOptions& options) {
  // Category and event-type streams have no metadata of their own, and
  // their revisions are link revisions: they are read as stored.
  if (index::IsLinkStreamName(stream)) return ReadStoredStream(stream, options);
  auto visible = VisibilityOf(stream);
  if (!visible.ok()) return visible.status();
  const Visibility& v = *visible;
  ReadStreamResult result;
  result.last_revision = StreamRevision(v.last);
  const bool forward = options.direction == Direction::kForward;
  uint64_t from = options.from ? options.from->value() : (forward ? 0 : v.last);
  if (forward) {
    from = std::max(from, v.first);
  } else {
    from = std::min(from, v.last);
  }
  if (v.first > v.last || (forward && from > v.last) ||
      (!forward && from < v.first)) {
    result.end_of_stream = true;
    return result;
  }
  // Chunks of stored events until max_count readable ones: events the
  // $maxAge filter hides are read and skipped.
  ReadStreamOptions chunk;
  chunk.direction = options.direction;
  uint64_t bytes = 0;  // of the events kept, against options.max_bytes
  while (result.events.size() < options.max_count) {
    const uint64_t wanted = options.max_count - result.events.size();
    chunk.from = StreamRevision(from);
    chunk.max_count = forward ? wanted : std::min(wanted, from - v.first + 1);
    // Hidden events count against a chunk's bytes too, so a chunk is never
    // larger than the budget left.
    if (options.max_bytes != 0) chunk.max_bytes = options.max_bytes - bytes;
    auto stored = ReadStoredStream(stream, chunk);
    if (!stored.ok()) return stored.status();
    // The stream may have grown since VisibilityOf: report what this read
    // saw, as a read of the stored events would.
    result.last_revision = stored->last_revision;
    for (RecordedEvent& e : stored->events) {
      // A tombstone appended since VisibilityOf ends the stream.
      if (e.type == kStreamDeletedEventType) {
        return Status::StreamDeleted("stream '" + std::string(stream) +
                                     "' was tombstoned");
      }
      if (v.min_created_us && e.created_us < *v.min_created_us) continue;
      bytes += e.type.size() + e.data.size() + e.metadata.size();
      result.events.push_back(std::move(e));
    }
    if (stored->events.empty()) {
      result.end_of_stream = true;
      break;
    }
    const uint64_t reached = stored->events.back().revision.value();
    if (forward) {
      if (stored->end_of_stream) {
        result.end_of_stream = true;
        break;
      }
      from = reached + 1;
    } else {
      if (reached <= v.first) {
        result.end_of_stream = true;
        break;
      }
      from = reached - 1;
    }
    if (options.max_bytes != 0 && bytes >= options.max_bytes) break;
  }
  return result;
}

}  // namespace cairn::engine
