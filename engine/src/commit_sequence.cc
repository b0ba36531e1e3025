// Copyright (c) Cairn authors.
//
// Sequencing, on the commit thread: each append is decided against the
// published state (one index read for its stream's end) plus the groups
// not yet published. Optimistic concurrency, idempotent retries, and the
// lifecycle rules (no append to a tombstoned stream; a soft delete's
// expected version on the stream it deletes) are checked in the same step
// that assigns revisions and positions, so there is no check-then-write
// race.
#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/src/commit_pipeline.h"
#include "engine/src/stored_tombstone.h"
#include "engine/src/stream_metadata.h"
#include "segment/record.h"

namespace cairn::engine {
namespace {

Status TombstonedStatus(std::string_view stream) {
  return Status::StreamDeleted("stream '" + std::string(stream) +
                               "' was tombstoned");
}

}  // namespace

Status CommitPipeline::ReadTail(const CommitRequest& request,
                                StreamTail* tail) {
  tail->last_event.reset();
  tail->published = false;
  if (auto pending = PendingOf(request.stream)) {
    tail->current = pending->revision;
    return Status::Ok();
  }
  // The last revision (the stream cache's answer, as a rule), and the last
  // event only when the cache does not know whether it is a tombstone.
  tail->published = true;
  auto last = index_->LastRevision(request.stream, &tail->last_event);
  if (!last.ok()) return last.status();
  tail->current = *last;
  return Status::Ok();
}

std::optional<Result<AppendResult>> CommitPipeline::Sequence(
    CommitRequest* request) {
  // The index and the segment list are read under the state lock: the
  // sync thread may be publishing an earlier group meanwhile.
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  PruneOverlays();
  Status read = ReadTail(*request, &tail_);
  if (!read.ok()) return Result<AppendResult>(read);
  const std::optional<uint64_t> current = tail_.current;
  if (auto refused = CheckLifecycle(*request, tail_)) return refused;
  if (request->client_ids) {
    if (auto retry = CheckRetry(*request, tail_)) return retry;
  }
  const ExpectedVersion& expected = request->expected;
  if (!expected.Allows(current)) {
    return Result<AppendResult>(
        Status::WrongExpectedVersion(expected.ToString(), current));
  }
  const uint64_t first_revision = current ? *current + 1 : 0;
  const uint64_t first_position = group_.next_position;
  const uint64_t seed = log_->active().seed;
  const auto synced =
      static_cast<uint32_t>(synced_offset_.load(std::memory_order_relaxed));
  auto* record = reinterpret_cast<uint8_t*>(request->records.data());
  const size_t count = request->record_sizes.size();
  for (size_t i = 0; i < count; ++i) {
    segment::SealRecord(record, first_position + i, first_revision + i, synced,
                        i + 1 == count, seed);
    record += request->record_sizes[i];
  }
  group_.bytes.append(request->records);
  group_.next_position += count;
  group_.revisions[request->stream] = first_revision + count - 1;
  if (request->tombstone) group_.tombstones.insert(request->stream);
  if (request->client_ids) {
    for (const EventId& id : request->ids) {
      group_.id_tags.insert(index::IdTag(id));
    }
  }
  AppendResult result;
  result.first_revision = StreamRevision(first_revision);
  result.last_revision = StreamRevision(first_revision + count - 1);
  result.first_position = GlobalPosition(first_position);
  result.last_position = GlobalPosition(first_position + count - 1);
  request->result = result;
  return std::nullopt;
}

std::optional<Result<AppendResult>> CommitPipeline::CheckRetry(
    const CommitRequest& request, const StreamTail& tail) {
  const std::optional<uint64_t> current = tail.current;
  if (!current) return std::nullopt;  // an empty stream holds no retry
  using Decision = std::optional<Result<AppendResult>>;
  const std::string& stream = request.stream;
  const size_t n = request.ids.size();
  std::vector<uint32_t> tags;
  tags.reserve(n);
  for (const EventId& id : request.ids) tags.push_back(index::IdTag(id));
  // Whether the indexed event is the append's k-th: the index's 32-bit tag
  // rules out nearly every other event, the record decides.
  auto is = [&](const index::IndexedEvent& e, size_t k) -> Result<bool> {
    if (e.id_tag != tags[k]) return false;
    auto actual = locator_->EventIdAt(e.position, e.offset);
    if (!actual.ok()) return actual.status();
    return *actual == request.ids[k];
  };
  // The stream's events from revision `first`, and how many of them are
  // the append's, one for one from its first event.
  std::vector<index::IndexedEvent> events;
  auto matched_from = [&](uint64_t first) -> Result<size_t> {
    events.clear();
    Status s = index_->Read(stream, first, Direction::kForward, n, &events);
    if (!s.ok()) return s;
    size_t matched = 0;
    for (; matched < events.size(); ++matched) {
      auto same = is(events[matched], matched);
      if (!same.ok()) return same.status();
      if (!*same) break;
    }
    return matched;
  };
  // A whole match is the original append; part of one is refused.
  auto decide = [&](size_t matched) -> Decision {
    if (matched == n) {
      AppendResult result;
      result.first_revision = StreamRevision(events.front().revision);
      result.last_revision = StreamRevision(events.back().revision);
      result.first_position = GlobalPosition(events.front().position);
      result.last_position = GlobalPosition(events.back().position);
      result.idempotent_replay = true;
      return Decision(result);
    }
    if (matched == 0) return std::nullopt;
    return Decision(Status::WrongExpectedVersion(
        request.expected.ToString(), current,
        "idempotent retry matched only part of the append"));
  };

  switch (request.expected.kind()) {
    case ExpectedVersion::Kind::kNoStream:
    case ExpectedVersion::Kind::kExact: {
      // KurrentDB semantics: a retry is recognised at the place the append
      // would have written, however old; no match there is an ordinary
      // version conflict.
      uint64_t first = request.expected.kind() == ExpectedVersion::Kind::kExact
                           ? request.expected.revision() + 1
                           : 0;
      if (*current < first) return std::nullopt;  // not written there yet
      auto matched = matched_from(first);
      if (!matched.ok()) return Decision(matched.status());
      return decide(*matched);
    }
    case ExpectedVersion::Kind::kAny:
    case ExpectedVersion::Kind::kStreamExists: {
      // Recognised within the stream's last idempotency_window revisions.
      // When the stream's end is not published, its newest events are
      // unpublished appends, which hold none of this append's ids
      // (ProcessBatch publishes them first when one might:
      // PendingIdsOverlap), so only the published events in the rest of the
      // window can match. The index yields the events there whose id tags
      // are the append's, newest first: O(ids), not O(window).
      const uint64_t window = options_.idempotency_window;
      const uint64_t lo = *current >= window ? *current - window + 1 : 0;
      uint64_t hi = *current;
      if (!tail.published) {
        auto published = index_->LastRevision(stream);
        if (!published.ok()) return Decision(published.status());
        if (!published->has_value()) return std::nullopt;
        hi = **published;
      }
      std::vector<uint32_t> sorted_tags = tags;
      std::sort(sorted_tags.begin(), sorted_tags.end());
      sorted_tags.erase(std::unique(sorted_tags.begin(), sorted_tags.end()),
                        sorted_tags.end());
      std::vector<index::IndexedEvent> candidates;
      if (hi >= lo) {
        Status s = index_->FindTagged(stream, lo, hi, sorted_tags, &candidates);
        if (!s.ok()) return Decision(s);
      }
      // The append's ids with their index, sorted: each candidate costs a
      // binary search. Ids crafted to share a tag cost a record read each,
      // not a scan of the append.
      std::vector<std::pair<EventId, size_t>> sorted_ids;
      sorted_ids.reserve(n);
      for (size_t k = 0; k < n; ++k) sorted_ids.emplace_back(request.ids[k], k);
      std::sort(sorted_ids.begin(), sorted_ids.end());
      bool later_id_seen = false;
      for (const auto& e : candidates) {
        auto actual = locator_->EventIdAt(e.position, e.offset);
        if (!actual.ok()) return Decision(actual.status());
        // The lowest k whose id the event holds (pairs sort by k second).
        auto found = std::lower_bound(sorted_ids.begin(), sorted_ids.end(),
                                      std::make_pair(*actual, size_t{0}));
        if (found == sorted_ids.end() || found->first != *actual) continue;
        const size_t k = found->second;
        if (k > 0) {
          // A later event of the append is in the stream: the append is a
          // retry only if its first event is there too, further back.
          later_id_seen = true;
          continue;
        }
        auto matched = matched_from(e.revision);
        if (!matched.ok()) return Decision(matched.status());
        return decide(std::max<size_t>(*matched, 1));
      }
      if (later_id_seen) {
        return Decision(Status::WrongExpectedVersion(
            request.expected.ToString(), current,
            "some event ids of the append are already in the stream"));
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<Result<AppendResult>> CommitPipeline::CheckLifecycle(
    const CommitRequest& request, const StreamTail& tail) {
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
  if (tail.published && tail.last_event) last = &*tail.last_event;
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

Result<std::optional<uint64_t>> CommitPipeline::CurrentRevision(
    const std::string& stream) {
  if (auto pending = PendingOf(stream)) {
    return std::optional<uint64_t>(pending->revision);
  }
  // Sequence holds the state lock (shared): the sync thread may be
  // publishing.
  return index_->LastRevision(stream);
}

Result<bool> CommitPipeline::IsTombstoned(const std::string& stream,
                                          std::optional<uint64_t> current,
                                          const index::IndexedEvent* last) {
  if (!current) return false;
  // Its last event is unpublished: the group says what it is.
  if (auto pending = PendingOf(stream)) return pending->tombstone;
  return IsStoredTombstone(index_, *locator_, dir_, stream, *current, last);
}

}  // namespace cairn::engine
