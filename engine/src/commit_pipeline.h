// Copyright (c) Cairn authors.
//
// CommitPipeline: a writer's path from an encoded append to an
// acknowledgement. It sequences appends (optimistic concurrency,
// idempotency, tombstones, revisions, positions), writes a group of them
// with one write to the active segment, fdatasyncs, publishes the group to
// readers (the indexes, the segment end, the visible and durable ends, the
// watermark) and completes each append. docs/architecture.md, "The write
// path", walks through it.
//
// Threads:
// - One commit thread owns the active segment file: it takes queued
//   appends in batches, sequences them and writes each group with one
//   write. When nothing else waits it also fdatasyncs and publishes the
//   group; otherwise it hands the group to the sync thread
//   (commit_sync_stage.cc), which fdatasyncs every group handed to it with
//   one call, publishes them in order and passes them to the
//   acknowledgement thread, while the commit thread goes on. The
//   acknowledgement thread completes their appends (running their
//   callbacks) while the sync thread already syncs the next groups: an
//   fdatasync is never held back by the callbacks of the one before.
// - A synchronous append that finds the pipeline idle does the commit
//   thread's work on its own thread (caller-thread commit): the commit
//   state belongs to whichever thread holds committing_, never to two at
//   once. "The commit thread" below means that holder.
// - queue_mu_ guards the queue and committing_; pipe_mu_ the groups handed
//   to the sync thread. The store's state lock (Target::state_mu) is held
//   shared while sequencing reads the indexes, and exclusively, never
//   across I/O, while a synced group is published.
#ifndef CAIRN_ENGINE_SRC_COMMIT_PIPELINE_H_
#define CAIRN_ENGINE_SRC_COMMIT_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cairn/options.h"
#include "cairn/store.h"
#include "engine/src/activity_counters.h"
#include "engine/src/commit_request.h"
#include "engine/src/fail_stop.h"
#include "engine/src/record_locator.h"
#include "engine/src/request_pool.h"
#include "engine/src/segment_log.h"
#include "engine/src/watermark.h"
#include "index/link_index.h"
#include "index/persistent_index.h"

namespace cairn::engine {

// The context of a soft delete's conflict on the stream it deletes (as
// opposed to a concurrent metadata write, which the soft delete retries).
inline constexpr std::string_view kDeletedStreamConflict =
    "on the stream to delete";

class CommitPipeline {
 public:
  // What the pipeline writes to and publishes into. All of it is the
  // store's and outlives the pipeline; `links` may be null.
  struct Target {
    std::string dir;  // for error messages
    const Options* options = nullptr;
    SegmentLog* log = nullptr;
    RecordLocator* locator = nullptr;
    index::PersistentIndex* index = nullptr;
    index::LinkIndex* links = nullptr;
    // Guards the segment list and ends and the indexes' in-memory tables.
    std::shared_mutex* state_mu = nullptr;
    // What readers may see, and what is durable: published here.
    std::atomic<uint64_t>* visible_next = nullptr;
    std::atomic<uint64_t>* durable_next = nullptr;
    // Moves durable_next and tells the link index.
    std::function<void(uint64_t)> mark_durable;
    ActivityCounters* activity = nullptr;
    FailStop* fail_stop = nullptr;
  };

  explicit CommitPipeline(Target target);
  ~CommitPipeline();  // Stop()
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // At the recovered end of the log, which is durable (the active segment
  // synced, visible_next and durable_next at its end): marks that end in
  // the active segment, so that it is verifiable without the watermark,
  // and the mark (not closed) tells the next open that this writer may
  // leave unsynced pages behind. Before Start.
  Status MarkRecoveredEnd();
  // Starts the commit thread and, for group commit, the sync and
  // acknowledgement threads. Groups are published through `watermark` (the
  // store's, outliving the pipeline).
  void Start(Watermark* watermark);

  // An empty request to prepare an append in, from the pool of completed
  // ones (request_pool.h). Any thread.
  std::unique_ptr<CommitRequest> NewRequest() { return pool_.Take(); }

  // Commits a prepared append and waits for its outcome: on the calling
  // thread when the pipeline is idle, else through the commit thread.
  // Closed once Stop has begun.
  Result<AppendResult> Submit(std::unique_ptr<CommitRequest> request);
  // Queues a prepared append; its `done` runs on a pipeline thread (or on
  // this one, with Closed, after Stop). Waits while the queue holds
  // kMaxQueuedBytes, unless called from a pipeline thread (a callback).
  void SubmitAsync(std::unique_ptr<CommitRequest> request);
  // Queues a sync behind the queued appends, runs `action` (if any) on
  // the commit thread after it, and waits for both.
  Status Barrier(std::function<Status()> action);
  // From a Barrier's action (the commit thread, after a sync): rolls the
  // active segment if it holds records and freezes the indexes' in-memory
  // tables below the new one, so that sealed segments are wholly in
  // tables. Returns the end below which the log is sealed.
  Result<uint64_t> SealForScavenge();

  // Refuses new appends and barriers from now on (Closed); the queued ones
  // still complete.
  void RefuseNew();
  // RefuseNew, then completes the queued appends, makes everything
  // acknowledged durable and marks the active segment closed, and joins
  // the threads. Waits for a caller that holds the commit state. A second
  // call does nothing.
  void Stop();

  // Waits until the commit thread waits with nothing to do: no append
  // queued and no interval sync to schedule. For tests.
  void WaitIdleForTest();

 private:
  // Appends sequenced into the group being built.
  struct Group {
    uint64_t seq = 0;           // hand-off number (pipelined groups)
    uint64_t start_offset = 0;  // in the active segment
    uint64_t start_position = 0;
    uint64_t next_position = 0;
    std::string bytes;
    std::vector<std::unique_ptr<CommitRequest>> members;
    // Last revision per stream including this group's appends.
    std::unordered_map<std::string, uint64_t> revisions;
    // Streams this group tombstones.
    std::unordered_set<std::string> tombstones;
    // The id tags (index::IdTag) of its appends that carry client ids.
    std::unordered_set<uint32_t> id_tags;
  };

  // What a handed-off group changed, for sequencing until it is published.
  struct Overlay {
    uint64_t seq = 0;
    std::unordered_map<std::string, uint64_t> revisions;
    std::unordered_set<std::string> tombstones;
    std::unordered_set<uint32_t> id_tags;
  };

  // An appended stream's end as the commit thread sees it. One index lookup
  // (ReadTail) fills it for the version and tombstone checks; a stream with
  // appends in the unpublished groups is known from the groups alone.
  struct StreamTail {
    std::optional<uint64_t> current;  // last revision, groups included
    // Whether `current` is the published end (from the index); false when
    // it comes from an unpublished group.
    bool published = false;
    // The published last event's entry when the index lookup found it (not
    // on a stream-cache hit): the tombstone check reads that record.
    std::optional<index::IndexedEvent> last_event;
  };

  // The stream's last revision in the unpublished groups (the one being
  // built, then the handed-off ones, newest first), and whether that
  // event is a tombstone. nullopt: no unpublished appends to it.
  struct Pending {
    uint64_t revision = 0;
    bool tombstone = false;
  };

  // --- queue and commit thread (commit_pipeline.cc) ---
  // Takes the commit state (committing_) for the calling thread if the
  // pipeline is idle and open; ReleaseCommitState gives it back and wakes
  // the commit thread when it has work.
  bool TakeCommitState();
  void ReleaseCommitState();
  // Caller-thread commit: when nothing is queued and no group is being
  // committed, the waiting caller commits its own append as a group of
  // one, sparing the hand-off to the commit thread and back. Returns false
  // (the request untouched) when it committed nothing.
  bool CommitOnCaller(std::unique_ptr<CommitRequest>* request);
  // Runs a batch taken for the commit state: waits while the indexes are
  // behind writing their in-memory tables out (which bounds their memory),
  // then sequences, writes and syncs or hands off (ProcessBatch).
  void CommitBatch(std::vector<std::unique_ptr<CommitRequest>>* batch);
  void CommitLoop();
  void ProcessBatch(std::vector<std::unique_ptr<CommitRequest>>* batch);
  // Writes the group being built, then syncs and publishes it here, or
  // hands it to the sync thread when there is more to overlap with.
  Status FlushGroup();
  bool QueueEmpty();
  Status SyncNow();
  // log->SyncActive(), its duration counted in the activity counters.
  Status SyncActiveCounted();
  // Records in the active segment how far it is durable (synced_offset_,
  // durable_next) and syncs that: recovery then knows those records were
  // acknowledged without the watermark (segment/durable_mark.h). `closed`:
  // the last mark before Stop. A failure is fatal, as any failed sync.
  Status WriteDurableMark(bool closed);
  Status RollSegment();
  void Complete(std::unique_ptr<CommitRequest> request);
  void Fail(const Status& status) { fail_stop_->Fail(status); }
  Status WriteGate() const { return fail_stop_->Gate(); }
  // kInterval: written bytes wait for the timed sync. Never after a
  // fail-stop, which syncs nothing more (the commit thread would spin).
  bool IntervalSyncPending() const {
    return dirty_ && options_.durability == Durability::kInterval &&
           !fail_stop_->failed();
  }

  // --- sequencing (commit_sequence.cc) ---
  // Decides an append against the published state plus the unpublished
  // groups: an error, an idempotent replay, or sequenced into the group
  // being built (nullopt).
  std::optional<Result<AppendResult>> Sequence(CommitRequest* request);
  // Fills `tail` for `request`'s stream from the groups or one index read.
  Status ReadTail(const CommitRequest& request, StreamTail* tail);
  std::optional<Result<AppendResult>> CheckRetry(const CommitRequest& request,
                                                 const StreamTail& tail);
  // Refuses an append to a tombstoned stream (or to its metadata stream)
  // and checks a soft delete's guard on the stream it deletes. `tail` is
  // the appended stream's end.
  std::optional<Result<AppendResult>> CheckLifecycle(
      const CommitRequest& request, const StreamTail& tail);
  // The stream's last revision including the unpublished groups.
  Result<std::optional<uint64_t>> CurrentRevision(const std::string& stream);
  // Whether the stream's last event (revision `current`) is a tombstone.
  // `last`, when not null, is that event's index entry (read already).
  Result<bool> IsTombstoned(const std::string& stream,
                            std::optional<uint64_t> current,
                            const index::IndexedEvent* last);
  std::optional<Pending> PendingOf(const std::string& stream) const;
  // Whether an id tag of `request` is among those of the unpublished
  // groups' appends with client ids (whatever their streams): only then
  // can its retry check need an unpublished event.
  bool PendingIdsOverlap(const CommitRequest& request) const;

  // --- the sync stage (commit_sync_stage.cc) ---
  // Publishes a written group (synced when `durable`): indexes, segment
  // end, visible and durable ends, watermark, activity figures. Its
  // appends are completed afterwards (AcknowledgeGroup).
  void PublishGroup(Group* group, bool durable);
  // Completes the appends of a published group.
  void AcknowledgeGroup(Group* group);
  // Counts `groups` published durable groups; every kGroupsPerDurableMark
  // of them, writes a durable-end mark. Called by the thread that published
  // them, which alone has stored the offset and position the mark names
  // (a thread reading them beside it could pair one group's offset with
  // another's position), and which is the only one syncing the segment.
  void CountDurableGroups(uint64_t groups);
  // Adds a group to the stream index, then the link index (state lock
  // held exclusively).
  Status IndexGroup(const Group& group);
  Status IndexGroupLinks(const Group& group);
  void PublishWatermark();
  // Completes every member of an unpublished group with `status`.
  void FailGroup(Group* group, const Status& status);
  // Whether every handed-off group is published and acknowledged (commit
  // thread).
  bool PipelineIdle() const;
  // Hands a written group to the sync thread, waiting while
  // kMaxGroupsInFlight are unacknowledged; keeps its overlay.
  void HandOff(Group group);
  // Waits until every handed-off group is published and acknowledged; the
  // sync and acknowledgement threads are idle afterwards until the next
  // hand-off.
  void Drain();
  // Drops the overlays of published groups.
  void PruneOverlays();
  void SyncLoop();
  void AcknowledgeLoop();
  // Marks the calling thread as one of this pipeline's threads, whose
  // appends (from callbacks) never wait for queue room.
  void MarkPipelineThread();

  const std::string dir_;
  const Options& options_;
  SegmentLog* const log_;
  RecordLocator* const locator_;
  index::PersistentIndex* const index_;
  index::LinkIndex* const links_;
  std::shared_mutex& state_mu_;
  std::atomic<uint64_t>& visible_next_;
  std::atomic<uint64_t>& durable_next_;
  const std::function<void(uint64_t)> mark_durable_;
  Watermark* watermark_ = nullptr;  // set by Start
  ActivityCounters& activity_;
  FailStop* const fail_stop_;
  // Completed requests, for NewRequest.
  RequestPool pool_;

  // The commit state: owned by whichever thread set committing_ (the
  // commit thread, or a caller in CommitOnCaller), and by nobody else.
  Group group_;
  StreamTail tail_;  // of the append being sequenced (its memory reused)
  // Groups written and handed to the sync thread, not yet published: what
  // sequencing must see besides the index, oldest first.
  std::deque<Overlay> overlays_;
  uint64_t handed_seq_ = 0;  // groups handed to the sync thread so far
  // Of the active segment. Written by whoever publishes a synced group
  // (the sync thread while groups are in flight), read when sealing
  // records: a value at most the true durable offset is always correct.
  std::atomic<uint64_t> synced_offset_{0};
  bool dirty_ = false;  // written but not yet fdatasynced
  // Sequence of the active segment's newest durable-end mark (0: none),
  // and group commits since then. Used by whoever publishes synced groups:
  // the sync thread while groups are in flight, else the thread holding
  // the commit state.
  uint64_t mark_sequence_ = 0;
  uint64_t groups_since_mark_ = 0;
  std::chrono::steady_clock::time_point last_sync_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<CommitRequest>> queue_;
  std::condition_variable space_cv_;  // producers waiting for queue room
  uint64_t queued_bytes_ = 0;         // guarded by queue_mu_
  bool stopping_ = false;             // guarded by queue_mu_
  // Some thread holds the commit state. Guarded by queue_mu_.
  bool committing_ = false;
  // The commit thread waits with nothing to do (no timed wait for an
  // interval sync). Guarded by queue_mu_; idle_cv_ tells tests.
  bool commit_idle_ = false;
  std::condition_variable idle_cv_;
  bool closed_ = false;  // guarded by queue_mu_
  std::thread committer_;

  // The sync stage (group commit only): groups the commit thread wrote,
  // waiting for one fdatasync that covers them all, then, published (or
  // failed, with the status), waiting to be acknowledged in order on the
  // acknowledgement thread.
  struct Synced {
    Group group;
    Status status;
  };
  std::mutex pipe_mu_;
  std::condition_variable pipe_cv_;  // the sync thread waits here
  std::condition_variable ack_cv_;   // the acknowledgement thread waits here
  std::condition_variable pipe_done_cv_;  // the commit thread waits here
  std::deque<Group> pipe_;                // guarded by pipe_mu_
  std::deque<Synced> acks_;               // guarded by pipe_mu_
  bool pipe_stop_ = false;                // guarded by pipe_mu_
  bool ack_stop_ = false;                 // guarded by pipe_mu_
  // Hand-off number of the newest group published (or failed): set after
  // its index entries are in, so that its overlay may go.
  std::atomic<uint64_t> indexed_seq_{0};
  // Hand-off number of the newest group whose appends are completed too:
  // the groups in flight, and the pipeline idle, are counted by it.
  std::atomic<uint64_t> published_seq_{0};
  std::thread syncer_;
  std::thread acker_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_COMMIT_PIPELINE_H_
