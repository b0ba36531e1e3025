// Copyright (c) Cairn authors. Public API.
//
// Store: an embeddable event store. Open one with Store::Open; it is
// thread-safe, and one process at a time may open a directory for writing.
#ifndef CAIRN_STORE_H_
#define CAIRN_STORE_H_

#include <cstdint>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/event.h"
#include "cairn/export.h"
#include "cairn/options.h"
#include "cairn/result.h"
#include "cairn/snapshot.h"
#include "cairn/status.h"
#include "cairn/store_metrics.h"
#include "cairn/stream_metadata.h"
#include "cairn/subscription.h"
#include "cairn/types.h"

namespace cairn {

struct AppendResult {
  // Revisions and global positions of the first and last appended event.
  // For an idempotent retry these are the original append's.
  StreamRevision first_revision;
  StreamRevision last_revision;
  GlobalPosition first_position;
  GlobalPosition last_position;
  // True when the append was recognised as a retry and nothing was written.
  bool idempotent_replay = false;
};

// Called once with the outcome of an asynchronous append, on one of the
// store's own writer threads (or, for an append the store refuses at once,
// on the calling thread): keep it short, and never call the synchronous
// Append, Sync or Close from it (they would wait on the thread running the
// callback). AppendAsync from it is fine.
using AppendCallback = std::function<void(Result<AppendResult>)>;

struct ReadStreamOptions {
  Direction direction = Direction::kForward;
  // First revision to return. nullopt: the start (forward) or the last
  // event (backward).
  std::optional<StreamRevision> from;
  // At most this many events are returned.
  uint64_t max_count = 4096;
  // When not 0, the read also stops at the event whose data, metadata and
  // type bytes bring the total to `max_bytes` or more: the result holds
  // about that many bytes, and at least one event however large. A reader
  // of events of unknown size bounds its memory with it, whatever
  // max_count is; such a read may return fewer events than max_count
  // before the end (end_of_stream false) and is continued from its last
  // event.
  uint64_t max_bytes = 0;
};

struct ReadStreamResult {
  std::vector<RecordedEvent> events;
  // The stream's last revision when the read ran.
  StreamRevision last_revision;
  // True when the read reached the end of the stream in its direction.
  bool end_of_stream = false;
};

struct ReadAllOptions {
  Direction direction = Direction::kForward;
  // First position to consider. nullopt: the start (forward) or the last
  // event (backward).
  std::optional<GlobalPosition> from;
  // At most this many matching events are returned (or visited).
  uint64_t max_count = 4096;
  // Only events whose stream name / event type starts with these prefixes.
  // Empty matches everything.
  std::string stream_prefix;
  std::string type_prefix;
  // Verify each record's body checksum before it is filtered or returned
  // (headers are always verified). The open verifies only the part of the
  // log its index does not cover, so turning this off trusts that no
  // record has been damaged since it was written (on disk or in memory):
  // a damaged record may then be returned as it is, or filtered out on a
  // damaged name or type. It roughly halves the CPU cost of a scan.
  // Default true.
  bool verify_checksums = true;
};

struct ReadAllResult {
  std::vector<RecordedEvent> events;
  // Where a following read in the same direction should start; nullopt when
  // the read reached the end of the log in its direction. With a filter,
  // this lets a reader checkpoint past long runs of unmatched events.
  std::optional<GlobalPosition> next_position;
};

struct BackupOptions {
  // Called after each copied or reused piece of the store with the bytes
  // handled so far and the bytes the backup handles in all. May be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct BackupResult {
  // The backup holds every event below this position: each one durable
  // when the backup started, and nothing after a gap.
  GlobalPosition end_position;
  uint64_t bytes_copied = 0;  // written to the destination by this run
  uint64_t bytes_reused = 0;  // already there from an older backup
  uint64_t files_copied = 0;
  uint64_t files_reused = 0;
};

// How a scavenge is going; passed to ScavengeOptions::progress.
struct ScavengeProgress {
  // Parts of the log the scavenge rewrites, and how many it has finished
  // (committed: their removed events are gone for good).
  uint64_t parts_total = 0;
  uint64_t parts_done = 0;
  uint64_t events_removed = 0;
  uint64_t bytes_reclaimed = 0;
};

struct ScavengeOptions {
  // Called on the scavenging thread before the first part and after each
  // finished one. May be empty.
  std::function<void(const ScavengeProgress&)> progress;
  // Memory for the map of moved events of the parts committed together
  // (about 4 bytes per event of those parts): parts are committed in
  // batches that fit, at least one part per batch. A run also holds a
  // 2 MiB buffer for the copy it writes, in pieces of 1 MiB (larger only
  // once it copies a record larger than a piece).
  uint64_t max_memory_bytes = uint64_t{64} << 20;
  // Streams whose deletion and retention state is kept in memory at once
  // while deciding what to remove.
  uint64_t max_cached_streams = uint64_t{1} << 16;
  // The range of throttle_percent.
  static constexpr uint32_t kMinThrottlePercent = 1;
  static constexpr uint32_t kMaxThrottlePercent = 100;
  // The share of the wall time the scavenge works, in percent (1 to 100;
  // anything else is InvalidArgument), as KurrentDB's throttlePercent:
  // after each piece of work (examining a part while planning, making and
  // writing `bytes_per_sync` of a part's copy, reading the copy back for
  // its hash, rewriting the index tables of a batch) it rests in
  // proportion to the time the piece took, leaving the disk and the CPUs
  // to appends and reads; the seal at the start and each batch's commit
  // are not paced.
  // It lowers the scavenge's mean cost to appends, not the tail latency
  // of those that meet its disk writes. 100 never rests. A rest ends at
  // once when the scavenge is stopped (StopScavenge, Close).
  uint32_t throttle_percent = 100;
  // A rewritten part is written and fdatasynced this many bytes at a time
  // (0: the whole part, then one fdatasync), so that the disk never holds
  // more of the scavenge's unsynced data than this in front of an
  // append's fdatasync. Crash semantics do not depend on it: a part
  // counts only once the commit that names it is durable.
  uint64_t bytes_per_sync = uint64_t{1} << 20;

  // Ok, or InvalidArgument naming the setting out of range: what
  // Store::Scavenge answers for these options before it starts. A caller
  // that starts scavenges later on (a server, on a client's request)
  // checks its settings up front with it.
  CAIRN_EXPORT Status Validate() const;
};

struct ScavengeResult {
  // StopScavenge or Close ended the scavenge early. What it had finished
  // stays done; a later Scavenge carries on with the rest.
  bool stopped = false;
  // Events examined (every event of the log below the position where the
  // scavenge started) and those removed.
  uint64_t events_examined = 0;
  uint64_t events_removed = 0;
  // Parts of the log examined and rewritten.
  uint64_t parts_examined = 0;
  uint64_t parts_rewritten = 0;
  // Disk bytes of the rewritten parts before and after.
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  uint64_t bytes_reclaimed() const { return bytes_before - bytes_after; }
  // Wall-clock time the scavenge took, in microseconds, and the part of it
  // spent resting for ScavengeOptions::throttle_percent.
  uint64_t duration_us = 0;
  uint64_t rested_us = 0;
  // Every event below this position was examined.
  GlobalPosition end_position;
};

// The stream index: derived data that maps streams to their events, kept
// in sorted tables on disk plus the newest entries in memory, and rebuilt
// from the log whenever it is lost or damaged. Counters count since open.
struct StoreIndexStats {
  uint64_t tables = 0;          // sorted tables (written, or being merged)
  uint64_t table_bytes = 0;     // their size on disk
  uint64_t memory_entries = 0;  // entries not yet in a table
  uint64_t flushes = 0;         // in-memory entries written out as a table
  uint64_t merges = 0;          // tables merged into one
  // Lookups of a stream's last revision answered from the bounded cache
  // (Options::index_cache_streams), and those that read the tables.
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  // The last failure of the index's background work (a flush or merge),
  // empty if none; it is also reported to Options::logger. Such work is
  // retried; answers stay correct.
  std::string background_error;
};

struct StoreStats {
  uint64_t events = 0;    // visible events (== next position)
  uint64_t streams = 0;   // streams with at least one event
  uint64_t segments = 0;  // segment files
  uint64_t bytes = 0;     // bytes of records in the segments
  // Every event below this position is on stable storage.
  GlobalPosition durable_position_end;
  // Events below this position are in durable index tables: an open after
  // a crash replays the log only from here.
  GlobalPosition index_checkpoint;
  StoreIndexStats index;
  StoreActivity activity;  // since open (cairn/store_metrics.h)
};

class CAIRN_EXPORT Store {
 public:
  // Opens (or with options.create_if_missing, creates) the store in
  // directory `path`. Recovers from a crash first: the log the stream index
  // does not cover yet is replayed and verified, a torn tail left by an
  // interrupted write is truncated (durably) before any append, and damage
  // to acknowledged data there is refused with a Corruption status naming
  // file and offset. Damage to older records is refused the same way by
  // the reads that reach them (every read verifies its records), and
  // `cairn verify` checks the whole store.
  static Result<std::unique_ptr<Store>> Open(const std::string& path,
                                             const Options& options);

  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes the store as Close() does.
  virtual ~Store() = default;

  // Appends `events` (at least one) to `stream` atomically if `expected`
  // holds, and returns once the append is durable (see Options::durability).
  // System streams (names starting with '$', e.g. "$users") are written
  // like any other, as in KurrentDB; "$all", "$ce-*"/"$et-*" (derived by
  // the store) and "$$<stream>" (metadata: SetStreamMetadataJson) are
  // refused with InvalidArgument (see Options::max_stream_name_length).
  // Errors: WrongExpectedVersion, InvalidArgument (nothing written; the
  // event type "$streamDeleted" is reserved for Tombstone), StreamDeleted
  // (the stream was tombstoned),
  // ReadOnly, IOError/NoSpace (outcome unknown: retry with the same event
  // ids, which is idempotent), Closed.
  virtual Result<AppendResult> Append(std::string_view stream,
                                      ExpectedVersion expected,
                                      std::span<const EventData> events) = 0;

  // Convenience: Append(stream, expected, {e1, e2}).
  Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected,
                              std::initializer_list<EventData> events) {
    return Append(stream, expected,
                  std::span<const EventData>(events.begin(), events.size()));
  }

  // The same append, without waiting: `done` runs once with the outcome.
  // Lets one thread keep many appends in flight for group commit.
  virtual void AppendAsync(std::string stream, ExpectedVersion expected,
                           std::vector<EventData> events,
                           AppendCallback done) = 0;

  // AppendAsync with a future.
  std::future<Result<AppendResult>> AppendFuture(std::string stream,
                                                 ExpectedVersion expected,
                                                 std::vector<EventData> events);

  // Reads a stream's events. NotFound if the stream has no events or was
  // soft-deleted (Delete) and not appended to since; StreamDeleted if it
  // was tombstoned. The stream's metadata applies at once: events below
  // $tb, beyond the newest $maxCount or created more than $maxAge seconds
  // ago are skipped (a forward read starting below them starts at the
  // first readable event), whether or not they are still stored.
  // last_revision and end_of_stream refer to the stored events.
  virtual Result<ReadStreamResult> ReadStream(
      std::string_view stream, const ReadStreamOptions& options) = 0;

  // The stream's metadata (stream_metadata.h), kept in its metadata stream
  // "$$<stream>" as events of type "$metadata". A stream without any gives
  // an empty StreamMetadata, json "{}" and no metastream_revision.
  // StreamDeleted if the stream was tombstoned; InvalidArgument for a
  // name Append refuses (a metadata stream has no metadata of its own).
  virtual Result<StreamMetadataResult> GetStreamMetadata(
      std::string_view stream) = 0;

  // Replaces the stream's metadata with `json` (stored byte for byte after
  // StreamMetadata::FromJson validates it), as an append to the metadata
  // stream: `expected` is checked against the metadata stream's revision
  // (StreamMetadataResult::metastream_revision), atomically and durably like
  // any append. Errors as Append, plus StreamDeleted if the stream was
  // tombstoned. The stream need not exist.
  virtual Result<AppendResult> SetStreamMetadataJson(std::string_view stream,
                                                     ExpectedVersion expected,
                                                     std::string_view json) = 0;

  // SetStreamMetadataJson with metadata.ToJson().
  Result<AppendResult> SetStreamMetadata(std::string_view stream,
                                         ExpectedVersion expected,
                                         const StreamMetadata& metadata);

  // Soft delete (KurrentDB semantics): `expected` is checked against the
  // stream's revision; then its metadata is rewritten with $tb set to
  // kSoftDeletedTruncateBefore (its other properties are kept), as an
  // append to the metadata stream. The stream then reads as NotFound; an
  // append continues its revisions after the old last one, and only
  // events appended after the delete are readable. WrongExpectedVersion if
  // the stream has neither events nor metadata; StreamDeleted if it was
  // tombstoned. Subscribers to $all see the metadata event. ReadAll and
  // VisitAll still return the deleted events: only a scavenge removes
  // them. Unlike KurrentDB, expected versions of later appends see the
  // stream's stored revision: NoStream fails and StreamExists holds on a
  // soft-deleted stream.
  virtual Result<DeleteResult> Delete(std::string_view stream,
                                      ExpectedVersion expected) = 0;

  // Tombstone (hard delete): appends one event of type "$streamDeleted" to
  // the stream if `expected` holds. From then on every read of the
  // stream, append to it, subscription to it and metadata call for it
  // fails with StreamDeleted, and the name can never be used again.
  // ReadAll and VisitAll still return its events (and the tombstone)
  // until a scavenge removes them.
  virtual Result<DeleteResult> Tombstone(std::string_view stream,
                                         ExpectedVersion expected) = 0;

  // Saves `snapshot` as the state of `stream` after its event at
  // `revision` (snapshot.h), durably, as an append to the system stream
  // "$snapshot-<stream>" whose $maxCount becomes options.keep (a metadata
  // append to "$$$snapshot-<stream>" when it changes). Errors: NotFound if
  // the stream has no readable events; InvalidArgument (nothing written)
  // if `revision` is beyond the stream's last revision or below its first
  // readable one, for a bad name, keep 0, or a schema or size out of
  // range; StreamDeleted if the stream was tombstoned; the errors of
  // Append otherwise. After a crash the snapshot is saved or not, as an
  // append is; a changed `keep` may have taken effect without it.
  virtual Result<SaveSnapshotResult> SaveSnapshot(
      std::string_view stream, StreamRevision revision,
      const SnapshotData& snapshot, const SaveSnapshotOptions& options) = 0;

  // Loads an aggregate in one call: the newest saved snapshot the stream
  // can still use plus the stream's readable events after it (at most
  // options.max_count; see AggregateResult for the rest). A snapshot is
  // never used when its revision is below the stream's $tb, from before a
  // soft delete (below the first revision appended after it), above the
  // stream's last revision, or when retention ($maxCount, $maxAge) hides
  // events after it: then the next older snapshot is tried, and without
  // one the events start at the first readable event. Errors as
  // ReadStream: NotFound (no readable events), StreamDeleted (tombstoned),
  // InvalidArgument (bad name, max_count 0). Under concurrent saves the
  // answer is consistent but may use an older snapshot than the newest.
  virtual Result<AggregateResult> LoadAggregate(
      std::string_view stream, const LoadAggregateOptions& options) = 0;

  // Reads the global log in position order.
  virtual Result<ReadAllResult> ReadAll(const ReadAllOptions& options) = 0;

  // Visits the global log without copying: `visitor` sees each matching
  // event (views valid only during the call) and returns false to stop.
  // Returns the position a following read should start from, as
  // ReadAllResult::next_position.
  virtual Result<std::optional<GlobalPosition>> VisitAll(
      const ReadAllOptions& options,
      const std::function<bool(const RecordedEventView&)>& visitor) = 0;

  // The stream's last revision, or nullopt if it has no events.
  virtual Result<std::optional<StreamRevision>> GetStreamRevision(
      std::string_view stream) = 0;

  virtual Result<StoreStats> GetStats() = 0;

  // Starts a subscription (see subscription.h). Works on read-only stores
  // too, following the writer's durable events across processes.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(
      const SubscriptionOptions& options,
      std::shared_ptr<SubscriptionHandler> handler) = 0;

  // Durable named checkpoints: a subscription's resume position, saved
  // crash-safely in the store directory (written to a temporary file,
  // fsynced, renamed, directory fsynced). Names: 1..200 bytes of
  // [A-Za-z0-9._-]. Load returns nullopt for an unknown name. A failed
  // fsync fails the save with IOError and makes the store read-only until
  // it is reopened, as on the append path; the checkpoint then holds its
  // old or its new position.
  virtual Status SaveCheckpoint(std::string_view name,
                                GlobalPosition position) = 0;
  virtual Result<std::optional<GlobalPosition>> LoadCheckpoint(
      std::string_view name) = 0;

  // Joins (creating if needed) the consumer group `group` of this store,
  // following $all or options.stream. The options of the join that
  // creates the group apply until every member left. The group resumes
  // from its durable checkpoint, which only advances past events every
  // member acknowledged: after a crash, events after it are delivered
  // again (at-least-once). Group names are 1..200 bytes; a $all group
  // named with [A-Za-z0-9._-] only keeps its checkpoint as
  // "group-<name>". LimitReached beyond options.max_members.
  virtual Result<std::unique_ptr<GroupMember>> JoinConsumerGroup(
      std::string_view group, const ConsumerGroupOptions& options) = 0;
  // A consumer group's figures (subscription.h); `stream` names a stream
  // group's stream (nullopt: the $all group). For a group with no member
  // joined, the durable ones: checkpoint and parked count.
  virtual Result<ConsumerGroupInfo> GetConsumerGroupInfo(
      std::string_view group, std::optional<std::string_view> stream) = 0;
  Result<ConsumerGroupInfo> GetConsumerGroupInfo(std::string_view group) {
    return GetConsumerGroupInfo(group, std::nullopt);
  }
  // Hands the events parked by `group` (at most `max_events`, all when
  // nullopt) to its members again, as retries, in the order they were
  // parked; events parked after the call began wait for the next replay. Their
  // links are truncated from the parked stream (its $tb advances, as KurrentDB
  // does) once they are handled, so a crash before that leaves them parked.
  // NotFound unless a member is joined.
  virtual Status ReplayParkedEvents(std::string_view group,
                                    std::optional<std::string_view> stream,
                                    std::optional<uint64_t> max_events) = 0;
  Status ReplayParkedEvents(std::string_view group,
                            std::optional<uint64_t> max_events) {
    return ReplayParkedEvents(group, std::nullopt, max_events);
  }
  // Ends a consumer group's membership: every member's calls return
  // `reason`'s kind from then on (Closed unless `forget`), and the group
  // saves its checkpoint. With `forget`, the group's checkpoint is removed
  // and its parked stream deleted instead, so a group joined again under
  // the name starts afresh (members get NotFound). OK when no member is
  // joined.
  virtual Status EndConsumerGroup(std::string_view group,
                                  std::optional<std::string_view> stream,
                                  bool forget) = 0;

  // Hot backup: copies a consistent prefix of the store into the directory
  // `destination` (created if missing) while appends and reads go on. The
  // copy opens as a store holding every event that was durable when the
  // backup started. Incremental: when `destination` holds an older backup
  // of this store, the parts of the log that cannot have changed since are
  // kept rather than copied again. Every copied event's checksums are
  // verified; damage is Corruption and the destination keeps its older
  // backup's events. The copy has no index (its first open builds one).
  // Errors: InvalidArgument when `destination` holds another store or was
  // written to since the last backup, Locked while a store or another
  // backup has it open. A crash during a backup leaves `destination`
  // openable, holding the older backup or a longer prefix. Works on
  // read-only opens too (then it copies what the writer has made durable).
  // docs/durability.md ("Backup and restore") gives the restore procedure.
  virtual Result<BackupResult> Backup(const std::string& destination,
                                      const BackupOptions& options) = 0;

  // Removes, online, the events no stream read can return any more:
  // those of tombstoned streams (all but the tombstone), soft-deleted
  // streams, and those beyond $maxCount, $maxAge and $tb, and every
  // metadata event but each stream's newest. The disk space they held is
  // given back and their bytes no longer exist in the store's files
  // (docs/durability.md, "Scavenging and physical erasure"). Every
  // surviving event keeps its position: ReadAll and subscriptions skip the
  // removed positions. Appends, reads and subscriptions go on meanwhile;
  // appends wait only for short moments. Retention becomes final: a
  // metadata change after a scavenge cannot bring removed events back.
  // Crash-safe: after a crash at any point the store opens with every
  // event that should be readable, and none that a committed part of the
  // scavenge removed; a later Scavenge carries on. Errors: Locked while
  // another scavenge runs, InvalidArgument on a read-only open or for a
  // throttle_percent outside 1 to 100; a failed
  // sync fails the store as for appends (it refuses writes until reopened,
  // and the reopen finishes what the scavenge committed).
  virtual Result<ScavengeResult> Scavenge(const ScavengeOptions& options) = 0;
  // Asks a running scavenge to stop after its current step; it returns
  // with `stopped`. NotFound if none runs.
  virtual Status StopScavenge() = 0;

  // Makes every acknowledged append durable now (useful with kInterval and
  // kNone; a no-op cost with kGroupCommit).
  virtual Status Sync() = 0;

  // Stops subscriptions and consumer groups (see subscription.h), finishes
  // queued appends, makes them durable, joins every background thread and
  // only then releases the writer lock. Calls racing with Close return
  // Closed or a correct answer; later calls return Closed. Idempotent.
  virtual Status Close() = 0;
};

}  // namespace cairn

#endif  // CAIRN_STORE_H_
