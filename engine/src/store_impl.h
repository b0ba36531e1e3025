// Copyright (c) Cairn authors.
//
// StoreImpl: the Store behind the public API. It composes the parts of a
// store, each in its own file pair: the segment log (segment_log.h), the
// record locator (record_locator.h), crash recovery (recovery.h), the
// commit pipeline (commit_pipeline.h), a reader's refresh
// (follower_refresh.h), and the followers (follower_registry.h). Its own
// files hold the API: store_write.cc (validation, encoding), store_read.cc,
// store_open.cc and the lifecycle, retention, snapshot, scavenge and backup
// files. docs/architecture.md walks through the paths.
//
// Threads and locks:
// - Any thread may call any method.
// - The commit pipeline's threads (and a caller committing its own
//   append) write the log; commit_pipeline.h states their rules.
// - state_mu_ (shared_mutex) guards what readers look at: the segment list
//   and segment ends, the stream index's in-memory table and
//   visible_next_. Readers, and the commit thread while it sequences, hold
//   it shared only to find locations; whoever publishes a synced group
//   holds it exclusively, never across I/O. Record bytes below
//   visible_next_ never change, so readers decode them without the lock.
//   The index writes its tables on its own background threads
//   (index/persistent_index.h).
// - Subscriptions and consumer groups follow the log on their own threads;
//   Close() stops them first, and follower_registry.h says how they and the
//   store may be destroyed in either order. Close() joins every thread of
//   the store before it releases the writer lock.
#ifndef CAIRN_ENGINE_SRC_STORE_IMPL_H_
#define CAIRN_ENGINE_SRC_STORE_IMPL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cairn/store.h"
#include "engine/io/file_system.h"
#include "engine/src/activity_counters.h"
#include "engine/src/checkpoint_store.h"
#include "engine/src/commit_pipeline.h"
#include "engine/src/commit_request.h"
#include "engine/src/fail_stop.h"
#include "engine/src/follower_refresh.h"
#include "engine/src/follower_registry.h"
#include "engine/src/record_locator.h"
#include "engine/src/recovery.h"
#include "engine/src/scavenge_file.h"
#include "engine/src/scavenge_pacer.h"
#include "engine/src/scavenge_plan.h"
#include "engine/src/scavenge_remap.h"
#include "engine/src/segment_log.h"
#include "engine/src/watermark.h"
#include "index/link_index.h"
#include "index/persistent_index.h"
#include "segment/scavenged_segment.h"

namespace cairn::engine {

class ConsumerGroup;

class StoreImpl final : public Store {
 public:
  // Store::Open with an explicit file system (tests pass the in-memory or
  // fault-injecting one).
  static Result<std::unique_ptr<Store>> Open(io::FileSystem* fs,
                                             const std::string& path,
                                             const Options& options);
  ~StoreImpl() override;

  using Store::Append;

  Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected,
                              std::span<const EventData> events) override;
  void AppendAsync(std::string stream, ExpectedVersion expected,
                   std::vector<EventData> events, AppendCallback done) override;
  Result<ReadStreamResult> ReadStream(
      std::string_view stream, const ReadStreamOptions& options) override;
  Result<ReadAllResult> ReadAll(const ReadAllOptions& options) override;
  Result<std::optional<GlobalPosition>> VisitAll(
      const ReadAllOptions& options,
      const std::function<bool(const RecordedEventView&)>& visitor) override;
  Result<StreamMetadataResult> GetStreamMetadata(
      std::string_view stream) override;
  Result<AppendResult> SetStreamMetadataJson(std::string_view stream,
                                             ExpectedVersion expected,
                                             std::string_view json) override;
  Result<DeleteResult> Delete(std::string_view stream,
                              ExpectedVersion expected) override;
  Result<DeleteResult> Tombstone(std::string_view stream,
                                 ExpectedVersion expected) override;
  Result<std::optional<StreamRevision>> GetStreamRevision(
      std::string_view stream) override;
  Result<StoreStats> GetStats() override;
  Result<std::unique_ptr<Subscription>> Subscribe(
      const SubscriptionOptions& options,
      std::shared_ptr<SubscriptionHandler> handler) override;
  Status SaveCheckpoint(std::string_view name,
                        GlobalPosition position) override;
  Result<std::optional<GlobalPosition>> LoadCheckpoint(
      std::string_view name) override;
  Result<std::unique_ptr<GroupMember>> JoinConsumerGroup(
      std::string_view group, const ConsumerGroupOptions& options) override;
  using Store::GetConsumerGroupInfo;
  Result<ConsumerGroupInfo> GetConsumerGroupInfo(
      std::string_view group, std::optional<std::string_view> stream) override;
  using Store::ReplayParkedEvents;
  Status ReplayParkedEvents(std::string_view group,
                            std::optional<std::string_view> stream,
                            std::optional<uint64_t> max_events) override;
  Status EndConsumerGroup(std::string_view group,
                          std::optional<std::string_view> stream,
                          bool forget) override;
  Result<BackupResult> Backup(const std::string& destination,
                              const BackupOptions& options) override;
  Result<SaveSnapshotResult> SaveSnapshot(
      std::string_view stream, StreamRevision revision,
      const SnapshotData& snapshot,
      const SaveSnapshotOptions& options) override;
  Result<AggregateResult> LoadAggregate(
      std::string_view stream, const LoadAggregateOptions& options) override;
  Result<ScavengeResult> Scavenge(const ScavengeOptions& options) override;
  Status StopScavenge() override;
  Status Sync() override;
  Status Close() override;

 private:
  using Request = CommitRequest;

  StoreImpl(io::FileSystem* fs, std::string dir, const Options& options);

  // --- open (store_open.cc) ---
  // Each takes the writer lock or finds the writer, lists the log, runs
  // Recovery (recovery.h) and takes its indexes; the writer then starts
  // the commit and sync threads, a reader the FollowerRefresh.
  Status OpenWriter();
  Status OpenReader();
  // Takes the indexes `recovery` opened and brought level with the log.
  void AdoptIndexes(Recovery* recovery);
  // --- category and event-type streams (store_links.cc) ---
  // The log is durable below `next`: durable_next_ and the link index.
  void MarkDurable(uint64_t next);
  // NotSupported when the store keeps no category and event-type streams.
  Status CheckLinksEnabled(std::string_view stream) const;
  // The decoded event (its body verified) really is in the category or
  // type stream `link_stream` the link index filed it under: Corruption
  // naming the record otherwise, never a wrong answer.
  Status CheckLinkMember(std::string_view link_stream,
                         const RecordedEventView& event,
                         const MappedSegment& segment, uint64_t offset) const;
  // Read-only beside a writer: lists what the writer made durable since
  // the last call (FollowerRefresh). Ok at once for a writer.
  Status Refresh() { return refresh_ ? refresh_->Run() : Status::Ok(); }

  // --- write path (store_write.cc) ---
  // Validates an append and encodes its records on the calling thread.
  // `system`: an append of the store's own to "$$<stream>" or of a
  // tombstone (store_lifecycle.cc), which user appends may not make.
  // Takes the stream name by value: it moves into the request.
  Status PrepareAppend(std::string stream, ExpectedVersion expected,
                       std::span<const EventData> events, Request* request,
                       bool system = false);
  // Commits a prepared append through the pipeline and waits for it.
  Result<AppendResult> SubmitAndWait(std::unique_ptr<Request> request);
  // An empty request, reused from the pipeline's pool when there is one.
  std::unique_ptr<Request> NewRequest() {
    return pipeline_ ? pipeline_->NewRequest() : std::make_unique<Request>();
  }
  // The pipeline's Barrier, after the write gate.
  Status Barrier(std::function<Status()> action);
  void Fail(const Status& status) { fail_stop_.Fail(status); }
  // fsyncs the store's directory for a running writer. A failure stops
  // the writer: it may have lost entries other than the caller's (a
  // segment just created), and the directory is never synced again
  // after it; a stopped writer gets its fatal status back instead.
  Status SyncStoreDirectory();
  // ReadOnly for a read-only store or after a fatal error.
  Status WriteGate() const;

  // --- locating records (RecordLocator) ---
  using Location = RecordLocator::Location;

  // --- read path (store_read.cc) ---
  // The stream's stored events, without metadata or tombstones applied
  // (ReadStream, in store_retention.cc, applies them).
  Result<ReadStreamResult> ReadStoredStream(std::string_view stream,
                                            const ReadStreamOptions& options);
  // A stream's newest stored event and newest metadata (store_lifecycle.cc).
  struct StreamHead {
    std::optional<uint64_t> last;                 // revision; nullopt: none
    std::optional<RecordedEvent> metadata_event;  // nullopt: none set
    StreamMetadata metadata;                      // parsed metadata_event
  };
  // StreamDeleted if the stream's last event is its tombstone. A metadata
  // stream has no metadata of its own.
  Result<StreamHead> ReadHead(std::string_view stream);
  // --- retention (store_retention.cc) ---
  // Which of a stream's stored events a read may return.
  struct Visibility {
    uint64_t last = 0;   // the stored last revision
    uint64_t first = 0;  // the first readable revision (> last: none)
    // The first revision $tb or a soft delete leaves readable (first
    // without $maxCount).
    uint64_t truncated_before = 0;
    // Events created before this (microseconds since the epoch) are
    // hidden ($maxAge).
    std::optional<int64_t> min_created_us;
    // Soft-deleted with no event appended since: the stream reads as not
    // found.
    bool deleted = false;
  };
  // NotFound for a stream without events or soft-deleted (`deleted`),
  // StreamDeleted for a tombstoned one.
  Result<Visibility> VisibilityOf(std::string_view stream);
  // The same from a head with a last event, `deleted` reported, not
  // refused.
  Result<Visibility> VisibilityFromHead(std::string_view stream,
                                        const StreamHead& head);
  // The first revision of `stream` whose position is above `position`, or
  // last + 1.
  Result<uint64_t> FirstRevisionAfter(std::string_view stream,
                                      uint64_t position, uint64_t last);
  // --- snapshots (store_snapshots.cc) ---
  // Appends a snapshot of `stream` at `revision` to its snapshot stream,
  // first setting that stream's $maxCount to `keep` if it differs; checks
  // nothing about `revision`.
  Result<SaveSnapshotResult> AppendSnapshot(std::string_view stream,
                                            uint64_t revision,
                                            const SnapshotData& snapshot,
                                            uint64_t keep);
  // The stream's readable events after `snapshot` (from the first readable
  // one without), or nullopt when retention or a concurrent delete hides
  // some event right after the snapshot.
  Result<std::optional<AggregateResult>> ReadAfterSnapshot(
      std::string_view stream, std::optional<Snapshot> snapshot,
      uint64_t max_count);
  // Verifies and decodes the record at `offset`. `header` is the record's
  // already verified header, or null to read and verify it here.
  // `decoder` reads `segment` (a reader keeps one per segment it reads,
  // so that an append's head is checked once).
  Status DecodeAt(const MappedSegment& segment, uint64_t offset,
                  uint64_t expected_position, std::string* scratch,
                  RecordedEventView* view, const segment::RecordHeader* header,
                  bool verify_body, segment::EventDecoder* decoder) const;
  // Decodes the record if it passes the filter (stream/type prefixes);
  // *matched is false for a record filtered out. `decoder` as for
  // DecodeAt.
  Status FilterAndDecode(const MappedSegment& seg, uint64_t offset,
                         uint64_t position, const segment::RecordHeader& header,
                         const ReadAllOptions& filter, std::string* scratch,
                         RecordedEventView* view, bool* matched,
                         segment::EventDecoder* decoder) const;

 public:
  // --- for subscriptions and consumer groups (subscription.cc,
  // consumer_group.cc) ---
  // Visits events matching `filter` in [from, end) in order; stops after
  // `max_matches` matches or `max_examined` records, or when the visitor
  // returns false. Returns the next position to examine.
  Result<uint64_t> ScanForward(
      uint64_t from, uint64_t end, const ReadAllOptions& filter,
      uint64_t max_matches, uint64_t max_examined,
      const std::function<bool(const RecordedEventView&)>& visitor);
  // The end of what subscriptions may deliver: the durable end (read-only
  // openers first catch up with the writer).
  Result<uint64_t> DurableEnd();
  // Change notification for followers: read the sequence, check the
  // condition, then wait for the sequence to move (or the timeout).
  uint32_t ChangeSequence() const;
  void WaitForChange(uint32_t seen, std::chrono::milliseconds timeout);
  void WakeFollowers();
  bool closed() const { return closed_flag_.load(std::memory_order_acquire); }
  // Waits until the indexes' background work has caught up (every durable
  // event in a listed table, no merge due). For tests and tools.
  void WaitIndexIdle() {
    if (index_) index_->WaitIdle();
    if (links_) links_->WaitIdle();
  }
  // The stream index's statistics (state lock held shared). For tests.
  index::IndexStats IndexStatsForTest() const {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    return index_->Stats();
  }
  // Entries of the consumer-group map (live groups and, until the next
  // group is created, ended ones). For tests.
  size_t ConsumerGroupEntriesForTest() {
    std::lock_guard<std::mutex> lock(groups_mu_);
    return groups_.size();
  }
  // Waits until the commit thread waits with nothing to do: no append
  // queued and no interval sync to schedule. For tests.
  void WaitCommitThreadIdleForTest() { pipeline_->WaitIdleForTest(); }
  // Makes $maxAge judge event ages against `now_us` (microseconds since the
  // epoch) instead of the system clock, so tests need no sleeps. 0 restores
  // the system clock.
  void SetRetentionClockForTest(int64_t now_us) {
    retention_now_for_test_.store(now_us, std::memory_order_relaxed);
  }
  // Saves a snapshot without checking its revision against the stream,
  // as a store damaged or changed behind the engine's back could hold one.
  // For tests of LoadAggregate's checks.
  Result<SaveSnapshotResult> AppendSnapshotForTest(std::string_view stream,
                                                   uint64_t revision,
                                                   const SnapshotData& snapshot,
                                                   uint64_t keep) {
    return AppendSnapshot(stream, revision, snapshot, keep);
  }
  // --- scavenging (store_scavenge.cc) ---
  // What a scavenge may remove from the stream (scavenge_plan.h): its last
  // event and newest metadata as they are now. nullopt: no events.
  Result<std::optional<StreamRetention>> RetentionOf(std::string_view stream);
  // Walks every sealed segment (those ending at or below `end`) and
  // decides each record against the retention of its stream; reads only,
  // changes nothing. Retention is
  // cached for at most `max_cached_streams` streams at a time. `pacer`
  // (may be null) rests after each segment.
  Result<ScavengePlan> PlanScavenge(size_t max_cached_streams,
                                    uint64_t end = UINT64_MAX,
                                    ScavengePacer* pacer = nullptr);
  // A planner that looks retention up through RetentionOf.
  ScavengePlanner MakeScavengePlanner(size_t max_cached_streams);
  // Bytes a scavenge makes and writes (and reads back to hash) at a time;
  // a run's buffer holds two of them, whatever the segments' size.
  static constexpr size_t kScavengePieceSize = size_t{1} << 20;
  // What the units of a scavenge run share. The piece buffer keeps its
  // capacity from unit to unit (two pieces, more only for a record larger
  // than a piece), so its pages are allocated once per run.
  struct ScavengeWriting {
    std::string piece;
    uint64_t bytes_per_sync = 0;     // ScavengeOptions::bytes_per_sync
    ScavengePacer* pacer = nullptr;  // rests between pieces; may be null
  };
  // Writes the rewritten copy of the sealed segment numbered `unit` to its
  // `.scv` name (docs/format.md, "Scavenged segments"), keeping the records
  // `planner` does not find removable now: made, checked and written a
  // piece at a time, fdatasynced every `bytes_per_sync` bytes and at the
  // end, and the directory fsynced. The log does not change:
  // the file is garbage until a SCAVENGE file names it. InvalidArgument if
  // `unit` is not a sealed segment. A run passes the same `writing` for
  // every unit (nullptr: buffers of this call only, one fdatasync, no
  // rests).
  Result<ScavengeUnitEntry> WriteScavengedUnit(
      uint64_t unit, ScavengePlanner* planner,
      segment::ScavengeCopyStats* stats,
      std::optional<UnitRemap>* remap = nullptr,
      ScavengeWriting* writing = nullptr);
  // Lists the scavenged segment file `number`.g`generation` (renamed to
  // its final name after a scavenge's commit point) in place of the
  // sealed segment `number` (store_scavenge_swap.cc). The file is read and
  // verified before the state lock is taken; under it (exclusive) only
  // the log's entry is exchanged. Readers holding the old entry keep its
  // mapping; once its file is unlinked, one that must reopen it reads the
  // successor. The stream index is not touched: its tables for the range
  // are replaced by the index's own step. InvalidArgument if the file does
  // not replace a sealed segment (number, start and end).
  Status SwapScavengedSegment(uint64_t number, uint32_t generation);
  // The first half of the swap: the scavenged segment file, loaded and
  // verified whole, ready for SegmentLog::Replace.
  Result<std::shared_ptr<Segment>> LoadScavengedSegment(uint64_t number,
                                                        uint32_t generation);
  // At a writer open (lock held), before the log is listed and the
  // indexes opened: finishes a committed scavenge (a valid SCAVENGE file:
  // FinishCommittedScavenge), then removes what a scavenge that never
  // reached its commit point left (`.scv` files, a SCAVENGE.tmp). A
  // SCAVENGE file that does not verify is Corruption (its commit can not
  // be judged).
  Status DiscardUnfinishedScavenge();
  // Renames the committed units' `.scv` files (each checked against its
  // size and hash) to their final names and installs the staged index
  // tables; an index that is not the one the tables were staged against
  // is dropped, to be rebuilt from the log. Idempotent.
  Status FinishCommittedScavenge(const ScavengeCommit& commit);

  // ReadStream without counting a read: subscriptions poll through it.
  Result<ReadStreamResult> ReadVisibleStream(std::string_view stream,
                                             const ReadStreamOptions& options);
  ActivityCounters& activity() { return activity_; }

  CheckpointStore& checkpoints() { return checkpoints_; }
  const Options& options() const { return options_; }

 private:
  // --- the scavenge run (store_scavenge_run.cc) ---
  // Rewritten units committed together.
  struct ScavengeBatch {
    std::vector<ScavengeUnitEntry> entries;
    std::vector<UnitRemap> remaps;  // same order
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t events_removed = 0;
  };
  Result<ScavengeResult> RunScavenge(const ScavengeOptions& options);
  // Stages the index tables, writes the SCAVENGE file (the commit point)
  // and applies it; `pacer` (may be null) rests after the staging. A
  // failure after the commit point fails the store.
  Status CommitScavengeBatch(ScavengeBatch* batch, ScavengePacer* pacer);
  Status ApplyScavengeCommit(const ScavengeCommit& commit);
  // Removes a batch's `.scv` files (not committed).
  void DiscardBatch(const ScavengeBatch& batch);
  // Removes the index tables staged for a commit that failed before its
  // commit point.
  void DiscardStagedTables(const ScavengeCommit& commit);
  // Close: stops a running scavenge, waits for it, refuses new ones.
  void StopScavengeForClose();

  io::FileSystem* const fs_;
  const std::string dir_;
  const Options options_;
  std::unique_ptr<io::FileLock> lock_;
  std::unique_ptr<Watermark> watermark_;

  mutable std::shared_mutex state_mu_;
  std::unique_ptr<SegmentLog> log_;
  // Over log_ (made with it), with index_'s anchors once it is open.
  // Before index_ and links_, whose threads call it: destroyed after them.
  std::unique_ptr<RecordLocator> locator_;
  std::atomic<uint64_t> visible_next_{0};
  std::atomic<uint64_t> durable_next_{0};
  // After log_ and durable_next_, which its threads and callbacks use: it
  // is destroyed first.
  std::unique_ptr<index::PersistentIndex> index_;
  // The category and event-type streams (null when the option is off).
  // Destroyed before index_ and log_, which its threads and reader use.
  std::unique_ptr<index::LinkIndex> links_;

  // Set once by the pipeline (or a scavenge's commit), then every write
  // fails with ReadOnly until the store is reopened.
  FailStop fail_stop_;
  bool closed_ = false;                   // guarded by close_mu_
  std::atomic<bool> closed_flag_{false};  // for the read path

  // A read-only opener's way of following the writer (null for a writer,
  // and for a reader of a store without a watermark). After the log and
  // indexes it points into: destroyed before them.
  std::unique_ptr<FollowerRefresh> refresh_;

  CheckpointStore checkpoints_;
  // Followers wait here when there is no watermark to wait on (a read-only
  // open of a store without one).
  std::mutex follow_mu_;
  std::condition_variable follow_cv_;
  std::atomic<uint32_t> follow_seq_{0};

  // Live subscriptions and consumer groups, stopped by Close(); shared
  // with them so that they may outlive the store.
  const std::shared_ptr<FollowerRegistry> followers_ =
      std::make_shared<FollowerRegistry>(this);
  std::mutex close_mu_;  // one Close() at a time; a second one waits

  std::mutex scavenge_mu_;
  // A scavenge run ended, or was asked to stop (which ends its rests).
  std::condition_variable scavenge_cv_;
  bool scavenge_running_ = false;  // guarded by scavenge_mu_
  bool scavenge_closed_ = false;   // guarded by scavenge_mu_
  std::atomic<bool> scavenge_stop_{false};

 public:
  const std::shared_ptr<FollowerRegistry>& followers() const {
    return followers_;
  }

 private:
  std::mutex groups_mu_;
  std::unordered_map<std::string, std::weak_ptr<ConsumerGroup>> groups_;
  // The group keyed `key` (ConsumerGroup::Key) if a member is joined to
  // it, else null.
  std::shared_ptr<ConsumerGroup> LiveGroup(const std::string& key);
  std::atomic<int64_t> retention_now_for_test_{0};
  ActivityCounters activity_;
  // A writer's commit pipeline (null for a reader). Last: it writes into
  // the members above, and is stopped by Close() and destroyed first.
  std::unique_ptr<CommitPipeline> pipeline_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_STORE_IMPL_H_
