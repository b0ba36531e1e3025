// Copyright (c) Cairn authors.
//
// The persistent stream index: (stream, revision) -> log location, the
// last revision of each stream (optimistic concurrency), a fingerprint of
// every event id (idempotency), and sparse position anchors (locating a
// global position in the log). docs/architecture.md ("The stream index")
// explains the design, docs/format.md ("Index files") the files.
//
// Shape: a log-structured merge of sorted, immutable index tables on disk
// (dir/NNNNNNNNNNNN.idx, listed by dir/MANIFEST) and a small in-memory
// table of the newest entries. When the in-memory table is full it is
// frozen and written out as a level-0 table by a background thread; tables
// of one level are merged into one of the next level in the background.
// The manifest only ever lists tables whose positions the log has made
// durable, so the index never claims an event a crash can take back; at
// open the log is replayed from the end of the last listed table.
//
// Stream names are hashed to 64 bits. Nothing trusts a hash alone: every
// answer that depends on which stream an entry belongs to is checked
// against the stream name in the log record (NameReader), except where the
// entries themselves rule out another stream (one entry per revision
// within the stream's known revision range).
//
// Thread-safety: as the engine uses it. Add, Reset and Close need
// exclusive access (the engine's state lock held exclusively, or the
// commit thread); the const lookups may run concurrently with each other
// (the state lock held shared). Background threads only touch frozen
// tables, files and the version pointer, under their own locks.
#ifndef CAIRN_INDEX_PERSISTENT_INDEX_H_
#define CAIRN_INDEX_PERSISTENT_INDEX_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"
#include "cairn/types.h"
#include "engine/io/file_system.h"
#include "index/format.h"
#include "index/manifest.h"
#include "index/memtable.h"
#include "index/stream_cache.h"
#include "index/table.h"
#include "index/table_rewrite.h"

namespace cairn::index {

using StreamHashFn = uint64_t (*)(std::string_view);

// One event of the log, as LogEventReader reports it. The views are valid
// during the visit only.
struct LoggedEvent {
  std::string_view stream;
  std::string_view type;
  uint64_t revision = 0;
  uint64_t position = 0;
  uint32_t offset = 0;
  EventId id;
};

// Visits the events the log holds at positions [first, end), in position
// order, each record verified (header and body checksums), until `visit`
// returns false. Called on the thread of a lookup, with what the lookup
// holds (the engine's state lock, shared, or the commit thread: what
// reading the log's segment list needs). Corruption where the log is
// damaged.
using LogEventReader =
    std::function<Status(uint64_t first, uint64_t end,
                         const std::function<bool(const LoggedEvent&)>& visit)>;

struct IndexOptions {
  // Entries the in-memory table takes before it is frozen and written out
  // as a table. Bounds the index's anonymous memory (about 65 bytes per
  // entry, at most twice over while a frozen table is being written) and
  // what a crash makes the next open replay.
  uint64_t memtable_entries = 1 << 18;
  // Streams whose last revision is kept in memory (StreamCache).
  uint64_t cache_streams = 1 << 16;
  // This many tables of one level are merged into one of the next level.
  uint32_t merge_fan_in = 4;
  // A position anchor (segment offset) is kept for every multiple of this.
  uint32_t anchor_stride = 64;
  // Never writes or removes a file: new entries stay in memory until
  // AdoptWriterTables takes up a writer's tables that cover them.
  bool read_only = false;
  // Flushes and merges run on two background threads. false: they run
  // inline in Add (when the in-memory table freezes) and Close, which
  // makes file operations deterministic for crash tests.
  bool background = true;
  // The stream-name hash (null: DefaultStreamHash) and the id the manifest
  // records for it. Tests force collisions with a custom one.
  StreamHashFn stream_hash = nullptr;
  uint32_t stream_hash_id = kStreamHashId;
  // Where a lookup that finds a table's entry block damaged reads the
  // block's events back from (Table::set_block_source): the lookup then
  // answers from the rebuilt block, which must match the checksum the
  // table recorded for it, and the table is still marked damaged, so the
  // next open rebuilds it from the log. Null: the lookup fails with
  // Corruption, as it does when the log cannot reproduce the block.
  LogEventReader log_events;
  // How the log's events map to this index's entries, for log_events.
  // Null: one entry per event, at its position, of its stream and
  // revision (the stream index). Set: `slots_per_event` entries per event,
  // entry k at position * slots_per_event + k, of the stream slot_name(
  // event, k) names, each at the next revision of its stream (the link
  // index); a rebuild then takes the revision a block's streams start the
  // table at from the older tables.
  std::function<std::string(const LoggedEvent& event, uint32_t k)> slot_name;
  uint32_t slots_per_event = 1;
  // Called with each failure of background work (a flush, a manifest
  // commit, a merge) on the thread that met it, possibly with an index
  // lock held: it must not call the index. Null: none.
  std::function<void(const Status&)> on_background_error;
};

// Reads the stream name of the log record at (position, offset), after
// verifying its header (checksum, and that it has that position). The view
// must stay valid until the next call of the reader on the same thread
// (the index compares each name before it reads another). The log is the
// source of truth the index is checked against.
using NameReader =
    std::function<Result<std::string_view>(uint64_t position, uint32_t offset)>;

// One event of a stream, as the index locates it.
struct IndexedEvent {
  uint64_t revision = 0;
  uint64_t position = 0;
  uint32_t offset = 0;
  uint32_t id_tag = 0;
};

struct IndexStats {
  struct TableStats {
    uint64_t number = 0;
    uint32_t level = 0;
    uint64_t first_position = 0;
    uint64_t end_position = 0;
    uint64_t entries = 0;
    uint64_t bytes = 0;
    bool durable = false;  // listed in the manifest
    // Damaged entry blocks lookups rebuilt from the log (Table).
    uint64_t repaired_blocks = 0;
  };
  std::vector<TableStats> tables;
  uint64_t checkpoint = 0;  // end of the tables listed in the manifest
  uint64_t next_position = 0;
  uint64_t memtable_entries = 0;  // in-memory (active and frozen)
  uint64_t memtable_bytes = 0;
  uint64_t frozen_memtables = 0;
  uint64_t cache_streams = 0;
  uint64_t cache_bytes = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t streams = 0;
  uint64_t flushes = 0;
  uint64_t merges = 0;
  uint64_t merged_entries = 0;
  std::string background_error;  // the last flush/merge failure, if any
};

class PersistentIndex {
 public:
  // Opens the index in `dir` (created unless read-only) for the store
  // `store_id` whose log starts at `first_position`. Tables that are
  // missing, damaged, or belong to another store are dropped together with
  // every newer table (open_note() says why); the caller replays the log
  // from next_position(). `durable_end` (may be null: everything durable)
  // is the log's durable end: no table past it is listed in the manifest.
  static Result<std::unique_ptr<PersistentIndex>> Open(
      io::FileSystem* fs, const std::string& dir, uint64_t store_id,
      uint64_t first_position, const IndexOptions& options, NameReader names,
      const std::atomic<uint64_t>* durable_end);
  ~PersistentIndex();
  PersistentIndex(const PersistentIndex&) = delete;
  PersistentIndex& operator=(const PersistentIndex&) = delete;

  // Every position below this is indexed; Add expects it next.
  uint64_t next_position() const { return next_position_; }
  // Position and segment offset of the last event of the tables loaded at
  // open (to check the index against the log): next_position() - 1 unless
  // a scavenge removed events below it. None if no table has an entry.
  std::optional<uint32_t> loaded_last_offset() const {
    return loaded_last_offset_;
  }
  std::optional<uint64_t> loaded_last_position() const {
    return loaded_last_position_;
  }
  // Why tables were dropped at open (empty if nothing was).
  const std::string& open_note() const { return open_note_; }

  // Forgets everything (the index does not match the log): removes the
  // tables and starts again at `first_position`.
  Status Reset(uint64_t first_position);

  // Indexes the event at `position` (which must be next_position()).
  // Corruption if `revision` does not follow the stream's last revision
  // (once a scavenge removed events: is not above it).
  Status Add(std::string_view stream, uint64_t revision, uint64_t position,
             uint32_t offset, const EventId& id);
  // Indexes consecutive events of one stream (an append): revisions from
  // `first_revision` at positions from `first_position`, one offset and id
  // each. One stream lookup, hash and cache update for the whole run.
  // `last_is_tombstone`: whether the run's last event is the stream's
  // tombstone, when the caller knows (the stream cache keeps it for
  // KnownTombstone); nullopt when it does not (a replay).
  Status AddRun(std::string_view stream, uint64_t first_revision,
                uint64_t first_position, std::span<const uint32_t> offsets,
                std::span<const EventId> ids,
                std::optional<bool> last_is_tombstone = std::nullopt);

  // Positions [next_position(), end) were removed by a scavenge: a replay
  // of a scavenged log calls this at each hole, with the anchor of the
  // stride's multiples in it (the offset of the next kept record in their
  // segment, or the end of that segment's records; call once per segment
  // the hole spans). InvalidArgument unless end > next_position().
  Status SkipRemoved(uint64_t end, uint32_t anchor);

  // The stream's last revision (nullopt: no events). When the stream cache
  // does not know it and the lookup searches the index, `*last_event`
  // (if given) receives that event's entry, which spares a caller that
  // reads the event a second search; it is left empty on a cache hit.
  Result<std::optional<uint64_t>> LastRevision(
      std::string_view stream,
      std::optional<IndexedEvent>* last_event = nullptr) const;
  // Whether the stream's event at `last_revision`, its last, is a
  // tombstone, when the stream cache knows (from AddRun or NoteTombstone);
  // nullopt otherwise, and the caller reads the record. The answer is
  // derived from the immutable record, so any thread may note it; the
  // revision ties it to that record.
  std::optional<bool> KnownTombstone(std::string_view stream,
                                     uint64_t last_revision) const;
  void NoteTombstone(std::string_view stream, uint64_t last_revision,
                     bool tombstone) const;
  // Up to `max_count` events of `stream` from revision `from` (clamped to
  // the last revision when reading backward), in `direction` order. After a
  // scavenge the revisions it removed are skipped: the read goes on to the
  // next kept ones.
  Status Read(std::string_view stream, uint64_t from, Direction direction,
              uint64_t max_count, std::vector<IndexedEvent>* out) const;
  // The events of `stream` with revision in [lo, hi] whose id tag (IdTag)
  // is one of `tags` (sorted, each once), newest first: the candidates of
  // an idempotency check.
  // Revisions a scavenge removed are simply absent. Costs a lookup per tag
  // in each in-memory table, plus a scan of [lo, hi] in the index files
  // for the revisions older than the in-memory tables hold, and a record
  // read per candidate (its stream name, against hash collisions).
  Status FindTagged(std::string_view stream, uint64_t lo, uint64_t hi,
                    std::span<const uint32_t> tags,
                    std::vector<IndexedEvent>* out) const;
  // The event of exactly `revision`; none if it does not exist or a
  // scavenge removed it.
  Result<std::optional<IndexedEvent>> Find(std::string_view stream,
                                           uint64_t revision) const;
  // The segment offset of the record at `position`, which must be a
  // multiple of anchor_stride() below next_position().
  std::optional<uint32_t> Anchor(uint64_t position) const;
  uint32_t anchor_stride() const { return options_.anchor_stride; }
  uint64_t StreamCount() const;
  IndexStats Stats() const;
  uint64_t StreamHash(std::string_view stream) const { return hash_(stream); }

  // A lookup found damage in an index table (an entry block that fails its
  // checksum: blocks are verified when read, not at open). The index is
  // derived data, so the next open must not trust that table: a writer
  // records its number in DIR/DAMAGED, and the next open (any opener)
  // drops it and every later table and replays the log from there. Until
  // then, the lookups that need the block rebuild it from the log (Table::
  // set_block_source) or fail with Corruption (never a wrong answer).
  // Other statuses, and tables no longer listed, are ignored. Called by
  // the index's own lookups and tables; thread-safe.
  void NoteDamage(const Status& status) const;

  // Writer, with no engine lock held: waits while more than
  // kMaxFrozenTables in-memory tables wait to be written (appends outrun
  // the disk), so the index's memory stays bounded. Returns at once in
  // read-only or inline mode, or while the last flush failed (a full disk:
  // the tables then stay in memory until a write succeeds).
  void Throttle();
  static constexpr size_t kMaxFrozenTables = 2;

  // --- read-only: following a live writer ---
  // A read-only index (a follower) holds the writer's tables as loaded at
  // open, and indexes what it catches up with in memory. To keep that
  // memory bounded whatever the log's length, the follower picks up the
  // tables the writer lists later (AdoptWriterTables) and drops the
  // in-memory entries they cover. docs/architecture.md ("Read-only
  // openers") describes the policy.

  // Entries held in memory: the active and frozen in-memory tables.
  uint64_t memory_entries() const;
  // Every position below this is in one of the loaded tables (the log's
  // first position if there is none); the in-memory entries follow it.
  uint64_t tables_end() const;
  // A follower holds at most this many in-memory tables' worth of entries
  // past tables_end() while a live writer lists tables (the engine stops
  // catching up there until the writer's tables catch up). A writer keeps
  // up to kMaxFrozenTables + 1 frozen tables and its active one unlisted.
  static constexpr uint64_t kFollowerMemTables = kMaxFrozenTables + 2;

  // Read-only: reads the writer's manifest and, if it lists tables reaching
  // at least tables_end(), takes them as its tables and drops the entries
  // they cover from memory. *adopted tells whether anything changed. If the
  // tables reach past next_position(), next_position() moves to their end:
  // the caller must not index the positions in between (they are in the
  // tables), and lists them in the log before the next lookup. A manifest
  // that is missing, damaged, belongs to another index, or lists a table
  // that does not open (the writer merged it away meanwhile, again after
  // retries), or one no newer than a manifest Reset discarded, changes
  // nothing: the loaded tables stay valid (tables are
  // immutable, and a table the writer removes stays readable through its
  // open file and mapping). Needs exclusive access, like Add.
  Status AdoptWriterTables(bool* adopted);

  // --- scavenge: rewriting the tables over rewritten segments ---
  // (table_rewrite.h). The engine holds a MergePause from before the stage
  // until the scavenge is finished (its SCAVENGE file removed): a merge
  // would replace the tables being rewritten. Flushes continue; they only
  // add tables above the rewritten range.

  // While one exists, no merge starts; PauseMerges returns once a running
  // merge has finished. Any thread; pauses nest. A pause must be destroyed
  // before its index (it holds a pointer to it).
  class MergePause {
   public:
    MergePause(MergePause&& other) noexcept
        : index_(std::exchange(other.index_, nullptr)) {}
    MergePause& operator=(MergePause&&) = delete;
    ~MergePause();

   private:
    friend class PersistentIndex;
    explicit MergePause(PersistentIndex* index) : index_(index) {}
    PersistentIndex* index_;
  };
  MergePause PauseMerges();

  // Writer, with the access Add needs: freezes the in-memory table when it
  // covers positions below `end` (entries, or a hole SkipRemoved skipped),
  // so that the flusher writes them out (a scavenge needs tables, not
  // memory, to cover what it rewrites).
  void FreezeBelow(uint64_t end);
  // Writer, any thread: waits until the manifest lists tables reaching
  // `end` (the log must be durable there). Ok once it does; the flush's
  // error if flushing fails meanwhile; Closed if the index stops or
  // `*stop` (may be null) turns true.
  Status WaitListed(uint64_t end, const std::atomic<bool>* stop);

  // Writer, under a MergePause, any thread: writes and syncs new tables for
  // the listed tables overlapping positions [first, end) (those of the
  // rewritten segments), as RewriteTable does, without changing the
  // manifest or what lookups see. InvalidArgument if merges are not paused
  // or the manifest does not yet cover `end` (in-memory entries would lie
  // in the range: the caller first waits for the flushes, WaitIdle). The
  // staged tables are garbage for the next open until InstallRewrite.
  Status StageRewrite(uint64_t first, uint64_t end, const PositionRemap& remap,
                      StagedTables* staged);
  // Staged tables listed in the manifest but not yet what lookups read.
  class ListedRewrite {
   public:
    ListedRewrite() = default;

   private:
    friend class PersistentIndex;
    std::vector<std::shared_ptr<const Table>> tables;
    std::vector<uint64_t> replaced_numbers;
    std::vector<std::string> replaced_paths;  // filled by PublishRewrite
  };
  // Writer, under the same MergePause, any thread: lists the staged tables
  // instead of those they replace (one manifest write, synced), without
  // changing what lookups read. Ok with nothing to publish if listed
  // already; errors as InstallStagedTables. Until PublishRewrite, lookups
  // read the replaced tables, whose offsets still match the log.
  Status ListRewrite(const StagedTables& staged, ListedRewrite* listed);
  // Writer, any thread, after ListRewrite: publishes the listed tables to
  // lookups instead of those they replace (readers holding the old tables
  // keep them). No I/O, so the engine calls it under its state lock
  // together with the swap of the rewritten segments.
  void PublishRewrite(ListedRewrite* listed);
  // After PublishRewrite: removes the replaced tables' files (best effort:
  // the next open removes unlisted tables).
  void RemoveReplaced(ListedRewrite* listed);
  // ListRewrite, PublishRewrite and RemoveReplaced in one call.
  Status InstallRewrite(const StagedTables& staged);

  // Writer: stops background work, writes out what the log has made
  // durable and lists it in the manifest. Idempotent. It replaces the
  // in-memory table that lookups read, so the engine holds its state lock
  // exclusively across the call, as for Add.
  Status Close();
  // Waits until background work has caught up: nothing frozen is waiting,
  // every durable table is listed, no merge is due (or a background error
  // stopped progress). For tests and tools.
  void WaitIdle();

 private:
  // What readers see besides the active memtable: immutable once published.
  struct Version {
    std::vector<std::shared_ptr<const Table>> tables;     // position order
    std::vector<std::shared_ptr<const MemTable>> frozen;  // after the tables
  };

  PersistentIndex(io::FileSystem* fs, std::string dir, uint64_t store_id,
                  const IndexOptions& options, NameReader names,
                  const std::atomic<uint64_t>* durable_end);
  Status Load(uint64_t first_position);
  void StartThreads();
  void StopThreads();

  std::shared_ptr<const Version> Current() const;
  void Publish(std::shared_ptr<const Version> version);
  uint64_t DurableEnd() const;
  std::string TablePath(uint64_t number) const;
  // Table::Open of table `number` here, with the block source attached.
  Result<std::shared_ptr<Table>> OpenTable(uint64_t number) const;
  // Gives `table` its block source (options_.log_events), if there is one.
  void AttachBlockSource(Table* table) const;
  // The block source: the entries of `table`'s range with key in [lo, hi],
  // made from the log's events.
  Status RebuildEntries(const Table& table, EntryKey lo, EntryKey hi,
                        std::vector<Entry>* out) const;
  // RebuildEntries with options_.slot_name.
  Status RebuildSlotEntries(const Table& table, EntryKey lo, EntryKey hi,
                            std::vector<Entry>* out) const;
  // The first entry for_each(visit) visits whose record names `stream`
  // (colliding streams' entries are passed over), or none: with sources
  // visited newest first, the stream's newest entry.
  template <typename ForEach>
  Result<std::optional<Entry>> NewestNamed(std::string_view stream,
                                           ForEach&& for_each) const;
  // One past the newest revision of `stream` (whose hash is `hash`) in
  // the tables older than `table` (0 if they have none).
  Result<uint64_t> RevisionAfterOlderTables(const Table& table,
                                            std::string_view stream,
                                            uint64_t hash) const;

  // Visits the entries with `hash` newest first across all sources, until
  // fn returns false or an error.
  template <typename Fn>
  Status ForEachNewest(const Version& v, uint64_t hash, Fn&& fn) const;
  // Appends the events of `stream` with revisions in [lo, hi] to *out in
  // ascending order; with `gaps`, missing revisions are skipped instead of
  // being Corruption, and only the `max_picks` lowest (`newest_first`:
  // highest) are found.
  Status ReadWindow(const Version& v, std::string_view stream, uint64_t hash,
                    uint64_t lo, uint64_t hi, uint64_t last, bool gaps,
                    uint64_t max_picks, bool newest_first,
                    std::vector<IndexedEvent>* out) const;
  Result<std::optional<uint64_t>> LastRevisionUncached(
      const Version& v, std::string_view stream, uint64_t hash,
      std::optional<IndexedEvent>* last_event = nullptr) const;

  void Freeze();
  // A memtable for entries from `first`; a writer's has room for a whole
  // memtable's entries (up to 2^20) reserved (MemTable::Reserve).
  std::unique_ptr<MemTable> NewMemTable(uint64_t first) const;
  // Background steps (also run inline when !options_.background). Each
  // returns false when there was nothing to do.
  bool FlushOne(Status* status);
  Status Commit();
  bool MergeOne(Status* status);
  void RunInline();
  void FlusherLoop();
  void MergerLoop();
  bool MergeDue() const;  // requires manifest_mu_
  // A merge is due whose inputs hold at most one in-memory table's worth
  // of entries (cheap enough to run inside Close).
  bool SmallMergeDue() const;
  void NoteError(const Status& s);

  io::FileSystem* const fs_;
  const std::string dir_;
  const uint64_t store_id_;
  const IndexOptions options_;
  const StreamHashFn hash_;
  const NameReader names_;
  const std::atomic<uint64_t>* const durable_end_;

  // Engine-serialised (see the class comment).
  uint64_t first_position_ = 0;  // of the log
  std::unique_ptr<MemTable> active_;
  uint64_t next_position_ = 0;
  std::optional<uint32_t> loaded_last_offset_;
  std::optional<uint64_t> loaded_last_position_;
  // A scavenge removed events below next_position_ (a table has gaps, or
  // SkipRemoved was called): revisions of a stream may then jump.
  std::atomic<bool> gaps_{false};
  std::string open_note_;
  bool closed_ = false;

  mutable std::mutex damage_mu_;
  mutable std::optional<uint64_t> damaged_table_;  // guarded by damage_mu_

  mutable std::mutex cache_mu_;
  mutable StreamCache cache_;

  // Lock order: manifest_mu_, then mu_.
  mutable std::mutex manifest_mu_;
  Manifest manifest_;  // the last one written: what is durable
  // Read-only: the generation of a manifest Reset discarded as not
  // matching the log; AdoptWriterTables takes up only newer ones.
  std::optional<uint64_t> rejected_generation_;  // engine-serialised
  uint64_t next_table_number_ = 1;               // guarded by manifest_mu_
  uint32_t merge_pauses_ = 0;                    // guarded by manifest_mu_

  mutable std::mutex mu_;
  std::shared_ptr<const Version> version_;  // guarded by mu_
  std::condition_variable work_cv_;         // flusher and merger wait here
  std::condition_variable idle_cv_;         // WaitIdle waits here
  bool stop_ = false;                       // guarded by mu_
  std::atomic<bool> cancel_merge_{false};
  bool flushing_ = false;  // guarded by mu_
  bool merging_ = false;   // guarded by mu_
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> merges_{0};
  std::atomic<uint64_t> merged_entries_{0};
  std::string background_error_;    // guarded by mu_
  uint64_t background_errors_ = 0;  // guarded by mu_: failures so far
  bool flush_failing_ = false;      // guarded by mu_: the last flush failed
  std::thread flusher_;
  std::thread merger_;
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_PERSISTENT_INDEX_H_
