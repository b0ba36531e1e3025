// Copyright (c) Cairn authors.
//
// The index of the category and event-type streams (`$ce-<category>`,
// `$et-<type>`, named by link_streams.h): for each such stream, its own
// revisions in commit order (gapless until a scavenge removes events),
// each pointing at the original event's record in the log. docs/architecture.md
// ("Category and event-type streams") explains the design, docs/format.md ("The
// link index") the files.
//
// It is a second PersistentIndex, in its own directory, over a doubled
// position space: the event at global position p has two *slots*, 2p for
// its category stream and 2p + 1 for its event-type stream, so the
// PersistentIndex keeps exactly one entry per slot and everything it
// guarantees (crash-safe tables listed only once the log is durable,
// verification, rebuild from the log, merging, bounded memory, followers
// taking up the writer's tables) holds unchanged. A slot whose event
// appears in no such stream (a system stream, a name without a category,
// a system event type) is kept under the empty name, which no stream can
// have and no read can ask for. An entry's revision is its revision in the
// category or type stream; its slot and offset locate the original record.
//
// Thread-safety: as PersistentIndex (the engine serialises Add, Reset,
// AdoptWriterTables and Close with its state lock, lookups run under it
// shared). SetDurable may be called from any thread.
#ifndef CAIRN_INDEX_LINK_INDEX_H_
#define CAIRN_INDEX_LINK_INDEX_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"
#include "cairn/types.h"
#include "engine/io/file_system.h"
#include "index/persistent_index.h"

namespace cairn::index {

// The stream name and event type of the log record at (position, offset),
// after verifying the record (header and body checksums, and that it has
// that position). The views stay valid until the next call of the reader
// on the same thread.
struct EventKey {
  std::string_view stream;
  std::string_view type;
};
using EventKeyReader =
    std::function<Result<EventKey>(uint64_t position, uint32_t offset)>;

class LinkIndex {
 public:
  // Opens (or creates, unless read-only) the link index in `dir`, as
  // PersistentIndex::Open does. `options.memtable_entries` counts slots
  // (two per event). A writer lists tables only below what SetDurable
  // last said; a read-only one never writes.
  static Result<std::unique_ptr<LinkIndex>> Open(io::FileSystem* fs,
                                                 const std::string& dir,
                                                 uint64_t store_id,
                                                 uint64_t first_position,
                                                 const IndexOptions& options,
                                                 EventKeyReader keys);
  LinkIndex(const LinkIndex&) = delete;
  LinkIndex& operator=(const LinkIndex&) = delete;
  ~LinkIndex();

  // Every event below this has both slots indexed.
  uint64_t next_position() const { return index_->next_position() / 2; }
  // The position of the last event any slot of which is indexed, and the
  // segment offset of its record if that came from a table loaded at open
  // (to check the index against the log). None if nothing is indexed.
  std::optional<uint64_t> last_indexed_position() const;
  std::optional<uint32_t> loaded_last_offset() const {
    return index_->loaded_last_offset();
  }
  // The position of the event whose record loaded_last_offset() is: that
  // of last_indexed_position() unless a scavenge removed events below it.
  std::optional<uint64_t> loaded_last_position() const;
  const std::string& open_note() const { return index_->open_note(); }

  // Forgets everything; starts again at `first_position`.
  Status Reset(uint64_t first_position);

  // Indexes the event at `position` (of `stream`, with `type`): the slots
  // of it not yet indexed, assigning each the next revision of its
  // category or type stream. An event whose slots are all indexed already
  // (a follower that took up the writer's tables) is skipped. Corruption
  // if an earlier event is missing.
  Status Add(std::string_view stream, std::string_view type, uint64_t position,
             uint32_t offset, const EventId& id);

  // Events [next_position(), end) were removed by a scavenge, as
  // PersistentIndex::SkipRemoved.
  Status SkipRemoved(uint64_t end, uint32_t anchor);

  // The last revision of a category or type stream (by its full name).
  Result<std::optional<uint64_t>> LastRevision(std::string_view stream) const;
  // As PersistentIndex::Read; the positions are the original events'.
  Status Read(std::string_view stream, uint64_t from, Direction direction,
              uint64_t max_count, std::vector<IndexedEvent>* out) const;

  // The log is durable below `next_position`: tables up to there may be
  // listed. Any thread.
  void SetDurable(uint64_t next_position);

  // As PersistentIndex.
  Status AdoptWriterTables(bool* adopted) {
    return index_->AdoptWriterTables(adopted);
  }
  void Throttle() { index_->Throttle(); }
  void WaitIdle() { index_->WaitIdle(); }
  Status Close() { return index_->Close(); }

  // Scavenge, as PersistentIndex (table_rewrite.h), in global positions:
  // `remap` is asked about events (both slots of an event go or stay with
  // it), and `staged` names event positions; tables end between events.
  PersistentIndex::MergePause PauseMerges() { return index_->PauseMerges(); }
  void FreezeBelow(uint64_t end);
  Status WaitListed(uint64_t end, const std::atomic<bool>* stop);
  Status StageRewrite(uint64_t first, uint64_t end, const PositionRemap& remap,
                      StagedTables* staged);
  Status InstallRewrite(const StagedTables& staged);
  Status ListRewrite(const StagedTables& staged,
                     PersistentIndex::ListedRewrite* listed);
  void PublishRewrite(PersistentIndex::ListedRewrite* listed) {
    index_->PublishRewrite(listed);
  }
  void RemoveReplaced(PersistentIndex::ListedRewrite* listed) {
    index_->RemoveReplaced(listed);
  }
  // As InstallStagedTables, on the closed link index in `dir`.
  static Status InstallStaged(io::FileSystem* fs, const std::string& dir,
                              const StagedTables& staged);

 private:
  LinkIndex() = default;

  std::string dir_;
  // Durable end in slots. Declared before index_, whose threads read it.
  std::atomic<uint64_t> durable_slots_{0};
  std::unique_ptr<PersistentIndex> index_;
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_LINK_INDEX_H_
