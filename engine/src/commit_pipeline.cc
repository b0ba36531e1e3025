// Copyright (c) Cairn authors.
//
// The commit pipeline's queue, its commit thread and what the commit
// state does with the active segment: write a group, sync, mark the
// durable end, roll to the next segment.
#include "engine/src/commit_pipeline.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/io/thread_name.h"
#include "segment/durable_mark.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::engine {
namespace {

// The commit, sync and acknowledgement threads of the pipeline this thread
// serves, if it is one of them: their appends from callbacks never wait
// for queue room, since they are the ones that make it.
thread_local const CommitPipeline* tls_writer_thread_of = nullptr;

// Producers wait when this many bytes are queued for the commit thread: a
// flood of asynchronous appends must not buffer without bound.
constexpr uint64_t kMaxQueuedBytes = 256ull << 20;

}  // namespace

CommitPipeline::CommitPipeline(Target target)
    : dir_(std::move(target.dir)),
      options_(*target.options),
      log_(target.log),
      locator_(target.locator),
      index_(target.index),
      links_(target.links),
      state_mu_(*target.state_mu),
      visible_next_(*target.visible_next),
      durable_next_(*target.durable_next),
      mark_durable_(std::move(target.mark_durable)),
      activity_(*target.activity),
      fail_stop_(target.fail_stop) {}

CommitPipeline::~CommitPipeline() { Stop(); }

Status CommitPipeline::MarkRecoveredEnd() {
  const Segment& active = log_->active();
  synced_offset_ = active.end_offset;
  last_sync_ = std::chrono::steady_clock::now();
  auto mark = segment::NewestDurableMark(active.map->data(), active.map->size(),
                                         active.header);
  mark_sequence_ = mark ? mark->sequence : 0;
  return WriteDurableMark(/*closed=*/false);
}

void CommitPipeline::Start(Watermark* watermark) {
  watermark_ = watermark;
  const uint64_t next = visible_next_.load(std::memory_order_relaxed);
  group_.start_offset = log_->active().end_offset;
  group_.next_position = next;
  group_.start_position = next;
  if (options_.durability == Durability::kGroupCommit) {
    syncer_ = io::StartThread("cairn-sync", [this] { SyncLoop(); });
    acker_ = io::StartThread("cairn-ack", [this] { AcknowledgeLoop(); });
  }
  committer_ = io::StartThread("cairn-commit", [this] { CommitLoop(); });
}

void CommitPipeline::RefuseNew() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  closed_ = true;
  stopping_ = true;
}

void CommitPipeline::Stop() {
  RefuseNew();
  queue_cv_.notify_all();
  space_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  // The commit thread drained the sync stage before it ended: both
  // threads are idle.
  {
    std::lock_guard<std::mutex> lock(pipe_mu_);
    pipe_stop_ = true;
    ack_stop_ = true;
  }
  pipe_cv_.notify_all();
  ack_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (acker_.joinable()) acker_.join();
}

void CommitPipeline::WaitIdleForTest() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  idle_cv_.wait(lock, [this] { return commit_idle_ && !committing_; });
}

void CommitPipeline::SubmitAsync(std::unique_ptr<CommitRequest> request) {
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

void CommitPipeline::Complete(std::unique_ptr<CommitRequest> request) {
  AppendCallback done = std::move(request->done);
  Result<AppendResult> result =
      request->result ? std::move(*request->result)
                      : Result<AppendResult>(Status::Closed("not run"));
  pool_.Give(std::move(request));
  done(std::move(result));
}

Result<AppendResult> CommitPipeline::Submit(
    std::unique_ptr<CommitRequest> request) {
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
  if (!CommitOnCaller(&request)) SubmitAsync(std::move(request));
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  return std::move(*outcome);
}

bool CommitPipeline::TakeCommitState() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (closed_ || committing_ || !queue_.empty()) return false;
  committing_ = true;
  return true;
}

void CommitPipeline::ReleaseCommitState() {
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

bool CommitPipeline::CommitOnCaller(std::unique_ptr<CommitRequest>* request) {
  if (!TakeCommitState()) return false;
  // This thread now holds the commit state as the commit thread does
  // between taking a batch and finishing it. The group is sequenced and
  // written here; it is synced and published here too unless appends
  // queued meanwhile or groups are still in flight on the sync thread
  // (FlushGroup), which then acknowledges it.
  std::vector<std::unique_ptr<CommitRequest>> batch;
  batch.push_back(std::move(*request));
  CommitBatch(&batch);
  ReleaseCommitState();
  return true;
}

void CommitPipeline::CommitBatch(
    std::vector<std::unique_ptr<CommitRequest>>* batch) {
  // Appends wait here (no lock held) while the index is behind writing
  // its in-memory tables out, which keeps its memory bounded.
  index_->Throttle();
  if (links_) links_->Throttle();
  ProcessBatch(batch);
  batch->clear();
}

Status CommitPipeline::Barrier(std::function<Status()> action) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  auto request = std::make_unique<CommitRequest>();
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
  SubmitAsync(std::move(request));
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  return *outcome;
}

void CommitPipeline::MarkPipelineThread() { tls_writer_thread_of = this; }

void CommitPipeline::CommitLoop() {
  MarkPipelineThread();
  std::vector<std::unique_ptr<CommitRequest>> batch;
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

void CommitPipeline::ProcessBatch(
    std::vector<std::unique_ptr<CommitRequest>>* batch) {
  for (std::unique_ptr<CommitRequest>& request : *batch) {
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
    // A retry check reads the stream's published events (the index), and
    // the unpublished groups hold none of the append's ids unless their
    // tags match: then, and only then, a stream with unpublished appends
    // is published first. Appends with fresh ids to one stream share
    // groups like any others.
    if (request->client_ids) {
      PruneOverlays();
      if (PendingOf(request->stream) && PendingIdsOverlap(*request)) {
        (void)FlushGroup();
        Drain();
      }
    }
    Status gate = WriteGate();
    // An append of several events has continuation records, which an
    // active segment of an older format (written by an older build) may
    // not hold: it is sealed first, as a full one is.
    const bool older_format =
        request->record_sizes.size() > 1 &&
        !segment::HasContinuationRecords(log_->active().header.format_version);
    if (gate.ok() &&
        (older_format ||
         group_.start_offset + group_.bytes.size() + request->records.size() >
             log_->active().header.capacity)) {
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

Status CommitPipeline::FlushGroup() {
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
  AcknowledgeGroup(&group_);
  if (sync) CountDurableGroups(1);
  group_.bytes.clear();
  group_.revisions.clear();
  group_.tombstones.clear();
  group_.id_tags.clear();
  group_.start_offset = end_offset;
  group_.start_position = group_.next_position;
  return Status::Ok();
}

bool CommitPipeline::QueueEmpty() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.empty();
}

Status CommitPipeline::SyncActiveCounted() {
  const auto start = std::chrono::steady_clock::now();
  Status s = log_->SyncActive();
  activity_.CountSync(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start)
          .count()));
  return s;
}

Status CommitPipeline::SyncNow() {
  Drain();
  // Checked after the drain, which may have failed the store (the sync
  // thread's fdatasync): a failed store syncs nothing more, and no roll or
  // mark may follow.
  if (fail_stop_->failed()) return WriteGate();
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
  mark_durable_(next);
  PublishWatermark();
  return Status::Ok();
}

Status CommitPipeline::WriteDurableMark(bool closed) {
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

Status CommitPipeline::RollSegment() {
  // Only the newest segment may ever hold unsynced bytes, which is what
  // lets recovery call damage in any older segment corruption.
  Status s = SyncNow();
  if (!s.ok()) return s;
  // An active segment without records is replaced rather than sealed
  // (SegmentLog::CreateNext): AddSegment then swaps it for the new one.
  auto next = log_->CreateNext(visible_next_.load(std::memory_order_relaxed));
  if (!next.ok()) {
    // A failed directory fsync is fatal, as a failed fdatasync is, and so
    // is a new segment left on disk; other failures (e.g. NoSpace) leave
    // the roll to the next append.
    if (log_->must_stop()) Fail(next.status());
    return next.status();
  }
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

Result<uint64_t> CommitPipeline::SealForScavenge() {
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
  return end;
}

}  // namespace cairn::engine
