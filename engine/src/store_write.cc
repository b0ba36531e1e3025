// Copyright (c) Cairn authors.
//
// The write path: validate and encode on the caller's thread, then one
// commit thread sequences appends (optimistic concurrency, idempotency,
// revisions, positions), writes a whole group with one write and one
// fdatasync, publishes it to readers and acknowledges it.
#include <algorithm>
#include <chrono>
#include <limits>
#include <span>
#include <utility>

#include "engine/src/store_impl.h"
#include "engine/src/validation.h"
#include "engine/src/wall_clock.h"
#include "segment/durable_mark.h"
#include "segment/record.h"

namespace cairn::engine {
namespace {

// The commit thread and the sync thread of the store this thread serves,
// if it is one of them: their appends from callbacks never wait for queue
// room, since they are the ones that make it.
thread_local const StoreImpl* tls_writer_thread_of = nullptr;

// Producers wait when this many bytes are queued for the commit thread: a
// flood of asynchronous appends must not buffer without bound.
constexpr uint64_t kMaxQueuedBytes = 256ull << 20;

}  // namespace

Status StoreImpl::WriteGate() const {
  if (options_.read_only) {
    return Status::ReadOnly("the store was opened read-only");
  }
  if (failed_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(fatal_mu_);
    return Status::ReadOnly(
        "the store refuses writes after a fatal I/O error until it is "
        "reopened: " +
        fatal_.ToString());
  }
  return Status::Ok();
}

void StoreImpl::Fail(const Status& status) {
  std::lock_guard<std::mutex> lock(fatal_mu_);
  if (fatal_.ok()) fatal_ = status;
  failed_.store(true, std::memory_order_release);
}

Status StoreImpl::PrepareAppend(std::string_view stream,
                                ExpectedVersion expected,
                                std::span<const EventData> events,
                                Request* request, bool system) {
  Status s = ValidateAppend(stream, events, options_, system);
  if (!s.ok()) return s;
  request->stream = std::string(stream);
  request->expected = expected;
  request->ids.reserve(events.size());
  request->record_sizes.reserve(events.size());
  size_t estimate = 0;
  for (const EventData& e : events) {
    estimate += segment::kRecordHeaderSize + segment::kEventBodyFixedSize +
                stream.size() + e.type.size() + e.data.size() +
                e.metadata.size();
  }
  request->records.reserve(estimate);
  const int64_t now = WallClockMicros();
  for (const EventData& e : events) {
    EventId id = e.id;
    if (id.IsNil()) {
      id = EventId::Generate();
    } else {
      request->client_ids = true;
    }
    request->ids.push_back(id);
    segment::EventFields fields;
    fields.stream = stream;
    fields.type = e.type;
    fields.data = e.data;
    fields.metadata = e.metadata;
    fields.id = id;
    fields.created_us = now;
    fields.content_type = e.content_type;
    size_t size = segment::EncodeEventRecord(
        fields, options_.compression_threshold, &request->records);
    request->record_sizes.push_back(static_cast<uint32_t>(size));
  }
  return Status::Ok();
}

void StoreImpl::Enqueue(std::unique_ptr<Request> request) {
  {
    std::unique_lock<std::mutex> lock(queue_mu_);
    // The store's own threads (an append from a callback) never wait:
    // they are the ones that make room.
    if (tls_writer_thread_of != this) {
      space_cv_.wait(lock, [&] {
        return closed_ || queued_bytes_ == 0 ||
               queued_bytes_ + request->records.size() <= kMaxQueuedBytes;
      });
    }
    if (!closed_) {
      queued_bytes_ += request->records.size();
      queue_.push_back(std::move(request));
      commit_idle_ = false;  // woken below
    }
  }
  // Moved from only when queued: non-null means the store is closed.
  // NOLINTBEGIN(bugprone-use-after-move)
  if (request) {
    request->result = Status::Closed("the store is closed");
    Complete(std::move(request));
    return;
  }
  // NOLINTEND(bugprone-use-after-move)
  queue_cv_.notify_one();
}

void StoreImpl::Complete(std::unique_ptr<Request> request) {
  AppendCallback done = std::move(request->done);
  Result<AppendResult> result = std::move(request->result);
  request.reset();
  done(std::move(result));
}

Result<AppendResult> StoreImpl::Append(std::string_view stream,
                                       ExpectedVersion expected,
                                       std::span<const EventData> events) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  auto request = std::make_unique<Request>();
  Status s = PrepareAppend(stream, expected, events, request.get());
  if (!s.ok()) return s;
  return SubmitAndWait(std::move(request));
}

Result<AppendResult> StoreImpl::SubmitAndWait(
    std::unique_ptr<Request> request) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<AppendResult>> outcome;
  request->done = [&](Result<AppendResult> result) {
    // Notify under the lock: the waiter can not return (and destroy mu
    // and cv) before this callback lets go of them.
    std::lock_guard<std::mutex> lock(mu);
    outcome.emplace(std::move(result));
    cv.notify_one();
  };
  if (!CommitOnCaller(&request)) Enqueue(std::move(request));
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  return std::move(*outcome);
}

bool StoreImpl::TakeCommitState() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (closed_ || committing_ || !queue_.empty()) return false;
  committing_ = true;
  return true;
}

void StoreImpl::ReleaseCommitState() {
  bool wake = false;
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    committing_ = false;
    // The commit thread waits while the state is taken: wake it for the
    // appends queued meanwhile, a Close, or an interval sync to schedule.
    wake = !queue_.empty() || stopping_ || IntervalSyncPending();
    if (wake) commit_idle_ = false;  // woken below
    idle = commit_idle_;
  }
  if (wake) queue_cv_.notify_one();
  if (idle) idle_cv_.notify_all();
}

bool StoreImpl::CommitOnCaller(std::unique_ptr<Request>* request) {
  if (!TakeCommitState()) return false;
  // This thread now holds the commit state as the commit thread does
  // between taking a batch and finishing it. The group is sequenced and
  // written here; it is synced and published here too unless appends
  // queued meanwhile or groups are still in flight on the sync thread
  // (FlushGroup), which then acknowledges it.
  std::vector<std::unique_ptr<Request>> batch;
  batch.push_back(std::move(*request));
  CommitBatch(&batch);
  ReleaseCommitState();
  return true;
}

void StoreImpl::CommitBatch(std::vector<std::unique_ptr<Request>>* batch) {
  // Appends wait here (no lock held) while the index is behind writing
  // its in-memory tables out, which keeps its memory bounded.
  index_->Throttle();
  if (links_) links_->Throttle();
  ProcessBatch(batch);
  batch->clear();
}

void StoreImpl::AppendAsync(std::string stream, ExpectedVersion expected,
                            std::vector<EventData> events,
                            AppendCallback done) {
  Status gate = WriteGate();
  auto request = std::make_unique<Request>();
  if (gate.ok()) gate = PrepareAppend(stream, expected, events, request.get());
  if (!gate.ok()) {
    done(gate);
    return;
  }
  request->done = std::move(done);
  Enqueue(std::move(request));
}

Status StoreImpl::Sync() {
  if (options_.read_only) return Status::Ok();
  return Barrier(nullptr);
}

Status StoreImpl::Barrier(std::function<Status()> action) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  auto request = std::make_unique<Request>();
  request->is_sync = true;
  request->action = std::move(action);
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> outcome;
  request->done = [&](const Result<AppendResult>& result) {
    std::lock_guard<std::mutex> lock(mu);
    outcome.emplace(result.status());
    cv.notify_one();
  };
  Enqueue(std::move(request));
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  return *outcome;
}

void StoreImpl::MarkWriterThread() { tls_writer_thread_of = this; }

void StoreImpl::CommitLoop() {
  MarkWriterThread();
  std::vector<std::unique_ptr<Request>> batch;
  for (;;) {
    bool sync_due = false;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      // The commit state is this thread's only while no caller holds it
      // (committing_); dirty_ and last_sync_ are read only then.
      for (;;) {
        if (!committing_) {
          if (!queue_.empty() || stopping_) break;
          if (IntervalSyncPending()) {
            const auto due = last_sync_ + options_.sync_interval;
            if (std::chrono::steady_clock::now() >= due) {
              sync_due = true;
              break;
            }
            queue_cv_.wait_until(lock, due);
            continue;
          }
        }
        commit_idle_ = !committing_;
        if (commit_idle_) idle_cv_.notify_all();
        queue_cv_.wait(lock);
        commit_idle_ = false;
      }
      if (!sync_due && queue_.empty()) break;  // stopping, all done
      committing_ = true;
      if (!sync_due) {
        // Take as many queued appends as fit one group (at least one).
        uint64_t bytes = 0;
        while (!queue_.empty() &&
               (batch.empty() || bytes + queue_.front()->records.size() <=
                                     options_.max_group_bytes)) {
          bytes += queue_.front()->records.size();
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queued_bytes_ -= bytes;
      }
    }
    if (sync_due) {
      (void)SyncNow();
    } else {
      space_cv_.notify_all();
      CommitBatch(&batch);
      if (IntervalSyncPending() && std::chrono::steady_clock::now() >=
                                       last_sync_ + options_.sync_interval) {
        (void)SyncNow();
      }
    }
    std::lock_guard<std::mutex> lock(queue_mu_);
    committing_ = false;
  }
  // Close: everything acknowledged becomes durable, whatever the mode,
  // and the mark says so (and that this writer closed cleanly). Either
  // failing sets the fatal status, which Close() returns. No caller takes
  // the commit state any more (closed_ is set).
  if (SyncNow().ok()) (void)WriteDurableMark(/*closed=*/true);
}

void StoreImpl::ProcessBatch(std::vector<std::unique_ptr<Request>>* batch) {
  for (std::unique_ptr<Request>& request : *batch) {
    if (request->is_sync) {
      Status s = FlushGroup();
      if (s.ok()) s = SyncNow();
      if (s.ok() && request->action) s = request->action();
      if (s.ok()) {
        request->result = AppendResult{};
      } else {
        request->result = s;
      }
      Complete(std::move(request));
      continue;
    }
    // A retry check reads the stream's published events, so a stream with
    // unpublished appends is published first.
    if (request->client_ids) {
      PruneOverlays();
      if (PendingOf(request->stream)) {
        (void)FlushGroup();
        Drain();
      }
    }
    Status gate = WriteGate();
    if (gate.ok() &&
        group_.start_offset + group_.bytes.size() + request->records.size() >
            log_->active().header.capacity) {
      gate = FlushGroup();
      if (gate.ok()) gate = RollSegment();
    }
    if (!gate.ok()) {
      request->result = gate;
      Complete(std::move(request));
      continue;
    }
    if (auto decided = Sequence(request.get())) {
      request->result = std::move(*decided);
      Complete(std::move(request));
      continue;
    }
    group_.members.push_back(std::move(request));
    if (group_.bytes.size() >= options_.max_group_bytes) (void)FlushGroup();
  }
  (void)FlushGroup();
}

Status StoreImpl::ReadTail(const Request& request, StreamTail* tail) {
  tail->recent.clear();
  tail->last_event.reset();
  tail->published = false;
  if (auto pending = PendingOf(request.stream)) {
    tail->current = pending->revision;
    return Status::Ok();
  }
  // The retry check of an append without a fixed place looks through the
  // stream's last idempotency_window events; every other check needs only
  // the last revision (the stream cache's answer, as a rule), and the
  // tombstone check its last event only when the cache does not know it.
  tail->published = true;
  const ExpectedVersion::Kind kind = request.expected.kind();
  if (!request.client_ids || (kind != ExpectedVersion::Kind::kAny &&
                              kind != ExpectedVersion::Kind::kStreamExists)) {
    auto last = index_->LastRevision(request.stream, &tail->last_event);
    if (!last.ok()) return last.status();
    tail->current = *last;
    return Status::Ok();
  }
  Status s = index_->Read(request.stream, std::numeric_limits<uint64_t>::max(),
                          Direction::kBackward, options_.idempotency_window,
                          &tail->recent);
  if (!s.ok()) return s;
  tail->current.reset();
  if (!tail->recent.empty()) tail->current = tail->recent.front().revision;
  return Status::Ok();
}

std::optional<Result<AppendResult>> StoreImpl::Sequence(Request* request) {
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
  AppendResult result;
  result.first_revision = StreamRevision(first_revision);
  result.last_revision = StreamRevision(first_revision + count - 1);
  result.first_position = GlobalPosition(first_position);
  result.last_position = GlobalPosition(first_position + count - 1);
  request->result = result;
  return std::nullopt;
}

std::optional<Result<AppendResult>> StoreImpl::CheckRetry(
    const Request& request, const StreamTail& tail) {
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
      // Recognised within the stream's last idempotency_window events,
      // which ReadTail read: ProcessBatch publishes a group holding the
      // stream before its retry check, so `tail` is the published end
      // (read here only if that ever changes).
      std::vector<index::IndexedEvent> unread;
      std::span<const index::IndexedEvent> recent(
          tail.recent.data(),
          std::min<size_t>(tail.recent.size(), options_.idempotency_window));
      if (!tail.published) {
        Status s = index_->Read(stream, *current, Direction::kBackward,
                                options_.idempotency_window, &unread);
        if (!s.ok()) return Decision(s);
        recent = unread;
      }
      // The append's id tags, and its ids with their index, sorted: each
      // recent event costs a binary search or two, O((window + events) *
      // log events) on the commit thread with two allocations, not their
      // product (a large append would stall every other appender). Ids
      // crafted to share a tag cost a record read each, not a scan of the
      // append.
      std::vector<uint32_t> sorted_tags = tags;
      std::sort(sorted_tags.begin(), sorted_tags.end());
      std::vector<std::pair<EventId, size_t>> sorted_ids;
      sorted_ids.reserve(n);
      for (size_t k = 0; k < n; ++k) sorted_ids.emplace_back(request.ids[k], k);
      std::sort(sorted_ids.begin(), sorted_ids.end());
      bool later_id_seen = false;
      for (const auto& e : recent) {
        if (!std::binary_search(sorted_tags.begin(), sorted_tags.end(),
                                e.id_tag)) {
          continue;
        }
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

void StoreImpl::PublishWatermark() {
  uint64_t durable = durable_next_.load(std::memory_order_relaxed);
  // Other processes may read only durable events, except in kNone where
  // nothing is ever durable before Close.
  uint64_t visible = options_.durability == Durability::kNone
                         ? visible_next_.load(std::memory_order_relaxed)
                         : durable;
  watermark_->Publish(durable, visible);
}

Status StoreImpl::FlushGroup() {
  if (group_.members.empty()) return Status::Ok();
  // The sync thread may have failed the store since this group was
  // sequenced (its positions then follow groups that failed): nothing is
  // written after a fatal error.
  Status s = WriteGate();
  if (!s.ok()) {
    FailGroup(&group_, s);
    group_.next_position = group_.start_position;
    return s;
  }
  s = log_->WriteActive(group_.start_offset, group_.bytes.data(),
                        group_.bytes.size());
  if (!s.ok()) {
    // A full disk during the write leaves nothing acknowledged and the
    // next group overwrites the same bytes, so it is not fatal. Any other
    // failure is: the kernel may have dropped the dirty pages.
    bool fatal = !s.IsNoSpace();
    if (!fatal) {
      // Part of the write may have landed. A shorter next group would
      // leave stale whole records behind it, which recovery could read as
      // the next positions (or find after the last append once a roll
      // seals this segment): zero them, to be synced with the next group
      // or before a roll. If even that fails, give up writing.
      const std::string zeros(group_.bytes.size(), '\0');
      fatal =
          !log_->WriteActive(group_.start_offset, zeros.data(), zeros.size())
               .ok();
      if (!fatal) dirty_ = true;
    }
    if (fatal) Fail(s);
    FailGroup(&group_, s);
    group_.next_position = group_.start_position;
    return s;
  }
  const bool sync = options_.durability == Durability::kGroupCommit;
  const uint64_t end_offset = group_.start_offset + group_.bytes.size();
  if (sync && (!PipelineIdle() || !QueueEmpty())) {
    // More appends wait (or earlier groups are still syncing): the sync
    // thread syncs and publishes this group while this thread sequences
    // and writes the next one.
    Group written = std::move(group_);
    group_ = Group();
    group_.start_offset = end_offset;
    group_.start_position = written.next_position;
    group_.next_position = written.next_position;
    group_.bytes.reserve(written.bytes.capacity());
    HandOff(std::move(written));
    return Status::Ok();
  }
  if (sync) {
    // The pipeline is idle, so a failure of the sync thread's last
    // fdatasync is visible here. Syncing this file again after it would
    // retry that fdatasync, and could vouch for this group while the
    // groups before it are lost.
    s = WriteGate();
    if (s.ok()) s = SyncActiveCounted();
    if (!s.ok()) {
      // Every failed fdatasync is fatal: retrying could report success
      // over lost pages.
      Fail(s);
      FailGroup(&group_, s);
      group_.next_position = group_.start_position;
      return s;
    }
  }
  PublishGroup(&group_, sync);
  group_.bytes.clear();
  group_.revisions.clear();
  group_.tombstones.clear();
  group_.start_offset = end_offset;
  group_.start_position = group_.next_position;
  return Status::Ok();
}

bool StoreImpl::QueueEmpty() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.empty();
}

Status StoreImpl::IndexGroup(const Group& group) {
  uint64_t offset = group.start_offset;
  std::vector<uint32_t> offsets;
  for (const auto& member : group.members) {
    const AppendResult& r = member->result.value();
    offsets.clear();
    for (uint32_t size : member->record_sizes) {
      offsets.push_back(static_cast<uint32_t>(offset));
      offset += size;
    }
    // The stream cache learns whether the stream now ends in a tombstone,
    // which spares the next append to it reading its last record.
    Status s = index_->AddRun(member->stream, r.first_revision.value(),
                              r.first_position.value(), offsets, member->ids,
                              member->tombstone);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status StoreImpl::SyncActiveCounted() {
  const auto start = std::chrono::steady_clock::now();
  Status s = log_->SyncActive();
  activity_.CountSync(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start)
          .count()));
  return s;
}

Status StoreImpl::SyncNow() {
  Drain();
  // Checked after the drain, which may have failed the store (the sync
  // thread's fdatasync): a failed store syncs nothing more, and no roll or
  // mark may follow.
  if (failed_.load(std::memory_order_acquire)) return WriteGate();
  if (!dirty_) return Status::Ok();
  const uint64_t end_offset = log_->active().end_offset;
  const uint64_t next = visible_next_.load(std::memory_order_relaxed);
  Status s = SyncActiveCounted();
  last_sync_ = std::chrono::steady_clock::now();
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  dirty_ = false;
  synced_offset_ = end_offset;
  MarkDurable(next);
  PublishWatermark();
  return Status::Ok();
}

Status StoreImpl::WriteDurableMark(bool closed) {
  Segment& active = log_->active();
  if (!segment::HasDurableMarks(active.header)) return Status::Ok();
  // Never after a fail-stop: a failed sync is not retried, and the bytes
  // it covered are unknown.
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  segment::DurableMark mark;
  mark.sequence = mark_sequence_ + 1;
  mark.end_offset =
      static_cast<uint32_t>(synced_offset_.load(std::memory_order_relaxed));
  mark.next_position = durable_next_.load(std::memory_order_relaxed);
  mark.flags = closed ? segment::kMarkFlagClosed : 0;
  uint8_t bytes[segment::kDurableMarkSize];
  segment::EncodeDurableMark(mark, active.seed, bytes);
  // Only after the records below end_offset are durable (their sync has
  // returned): a crash can lose the mark, never make it claim too much.
  Status s = log_->WriteActive(segment::DurableMarkOffset(mark.sequence), bytes,
                               sizeof(bytes));
  if (s.ok()) s = SyncActiveCounted();
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  mark_sequence_ = mark.sequence;
  groups_since_mark_ = 0;
  return Status::Ok();
}

Status StoreImpl::RollSegment() {
  // Only the newest segment may ever hold unsynced bytes, which is what
  // lets recovery call damage in any older segment corruption.
  Status s = SyncNow();
  if (!s.ok()) return s;
  // An active segment without records is replaced rather than sealed
  // (SegmentLog::CreateNext): AddSegment then swaps it for the new one.
  auto next = log_->CreateNext(visible_next_.load(std::memory_order_relaxed));
  if (!next.ok()) return next.status();  // e.g. NoSpace: retried next append
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    (*next)->end_position = (*next)->header.first_position;
    log_->AddSegment(std::move(next.value()));
  }
  synced_offset_.store(segment::kSegmentHeaderSize, std::memory_order_relaxed);
  group_.start_offset = segment::kSegmentHeaderSize;
  mark_sequence_ = 0;  // a new segment has no mark yet
  groups_since_mark_ = 0;
  return Status::Ok();
}

Status StoreImpl::SealForScavenge() {
  // The active segment's records become sealed (RollSegment), and the
  // indexes' in-memory tables are frozen so that tables cover everything
  // below the new active segment: a scavenge rewrites only what is sealed
  // and in tables. Nothing is appended meanwhile: this is the commit
  // thread.
  if (log_->active().end_position > log_->active().header.first_position) {
    Status s = RollSegment();
    if (!s.ok()) return s;
  }
  const uint64_t end = visible_next_.load(std::memory_order_relaxed);
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    index_->FreezeBelow(end);
    if (links_) links_->FreezeBelow(end);
  }
  // Appends go on after this: the scavenge works below this end only
  // (later segments may still have index entries in memory).
  scavenge_seal_end_.store(end);
  return Status::Ok();
}

Status StoreImpl::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  // Subscriptions and consumer groups first, while the store still serves
  // them (a group saves its checkpoint): they are stopped, their threads
  // joined, and their handles detached (later calls return Closed).
  followers_->Close();
  // A running scavenge stops at its next step (a committed batch is
  // finished first) and no new one starts: it uses the commit thread and
  // the indexes, which close below.
  StopScavengeForClose();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    stopping_ = true;
  }
  closed_flag_.store(true, std::memory_order_release);
  // The zero-fill of the next segment is no longer needed: it stops while
  // the commit thread drains and the index is written out, and is joined
  // below.
  SegmentPreparer* preparer = log_ ? log_->preparer() : nullptr;
  if (preparer != nullptr) preparer->RequestStop();
  queue_cv_.notify_all();
  space_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  // The commit thread drained the pipeline before it ended.
  {
    std::lock_guard<std::mutex> lock(pipe_mu_);
    pipe_stop_ = true;
  }
  pipe_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  // Everything durable goes into index tables, so the next open replays
  // nothing. Derived data: a failure here loses nothing (the next open
  // replays the log), so it does not fail the Close. The index replaces
  // its in-memory table, which a reader that passed the closed check just
  // before may still be looking at: the state lock keeps them apart.
  if (index_) {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    (void)index_->Close();
    if (links_) (void)links_->Close();
  }
  // No background thread may write once the lock is released: the next
  // writer could adopt a file still being written.
  if (preparer != nullptr) preparer->Stop();
  lock_.reset();
  if (failed_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(fatal_mu_);
    return fatal_;
  }
  return Status::Ok();
}

}  // namespace cairn::engine
