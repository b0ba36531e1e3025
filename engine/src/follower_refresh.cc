// Copyright (c) Cairn authors.
#include "engine/src/follower_refresh.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "engine/src/log_indexer.h"

namespace cairn::engine {

uint64_t FollowerRefresh::IndexEnd(const index::PersistentIndex& index,
                                   const Options& options) {
  return index.tables_end() + index::PersistentIndex::kFollowerMemTables *
                                  options.index_memtable_events;
}

Status FollowerRefresh::Run() {
  uint64_t limit = watermark_->visible_next();
  if (limit <= target_.listed_end->load(std::memory_order_acquire)) {
    return Status::Ok();
  }
  std::lock_guard<std::mutex> run(run_mu_);
  SegmentLog& log = *target_.log;
  index::PersistentIndex& index = *target_.index;
  index::LinkIndex* const links = target_.links;
  // Segments a scavenge replaced, dropped after the lock (unmapped then
  // unless a reader holds them).
  std::vector<std::shared_ptr<Segment>> replaced;
  std::unique_lock<std::shared_mutex> lock(*target_.state_mu);
  LogIndexer indexer(&log, &index, links);
  Status index_status;
  // Indexes the records of an append not yet listed in this handle's
  // tables (adopted tables list positions up to their end).
  auto index_new = [&](const MappedSegment& segment,
                       std::span<const segment::ScannedRecord> records) {
    if (!index_status.ok()) return;
    const uint64_t next =
        links ? std::min(index.next_position(), links->next_position())
              : index.next_position();
    size_t skip = 0;
    while (skip < records.size() && records[skip].header.position < next) {
      ++skip;
    }
    if (skip < records.size()) {
      index_status = indexer.Add(segment, records.subspan(skip));
    }
  };
  // Once the entries held in memory would fill an in-memory table, pick up
  // the tables the writer listed since (it writes a table when its own
  // in-memory table fills, so the two stay in step). Also when a scavenge
  // replaced the file of the segment this handle follows: its offsets are
  // the old file's, the writer's tables have the new ones.
  const uint64_t listed = log.next_position();
  auto last_replaced = log.LastEntryReplaced();
  if (!last_replaced.ok()) return last_replaced.status();
  if (*last_replaced ||
      (limit > listed && index.memory_entries() + (limit - listed) >=
                             options_.index_memtable_events)) {
    bool adopted = false;
    Status s = index.AdoptWriterTables(&adopted);
    if (s.ok() && links) s = links->AdoptWriterTables(&adopted);
    // Tables a scavenge rewrote hold the offsets of the segments it wrote,
    // which the writer renamed into place before it listed the tables: the
    // segments follow the tables (docs/architecture.md, "Scavenging").
    if (s.ok() && adopted) {
      s = log.AdoptNewerGenerations(index_new, &replaced);
    }
    if (!s.ok()) return s;
    if (!index_status.ok()) return index_status;
  }
  // The writer lists only durable events in its tables.
  limit = std::max(limit, index.next_position());
  if (links) limit = std::max(limit, links->next_position());
  const uint64_t bound = IndexEnd(index, options_);
  if (limit > bound && fs_->IsLocked(io::JoinPath(dir_, kLockFileName))) {
    // The live writer's tables are behind: wait for them (a later Run goes
    // on) rather than hold more in memory. Without a live writer no table
    // will come: index the rest, which is what the last writer left.
    limit = std::max(bound, listed);
  }
  Status s = log.CatchUp(limit, index_new);
  if (!s.ok()) return s;
  if (!index_status.ok()) return index_status;
  target_.publish(log.next_position());
  return Status::Ok();
}

}  // namespace cairn::engine
