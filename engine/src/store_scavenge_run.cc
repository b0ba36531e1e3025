// Copyright (c) Cairn authors.
//
// Scavenging, the whole run (Store::Scavenge): seal, wait for the index
// tables, plan, then per batch of segments write the rewritten copies,
// stage the index tables, commit (the SCAVENGE file), and apply
// (docs/architecture.md, "Scavenging", steps 1 to 6).
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "engine/src/small_file.h"
#include "engine/src/store_impl.h"
#include "segment/segment_header.h"

namespace cairn::engine {
namespace {

std::string ScvPath(const std::string& dir, const ScavengeUnitEntry& unit) {
  return io::JoinPath(
      dir, segment::ScavengedSegmentFileName(unit.number, unit.generation) +
               kScavengeWriteSuffix);
}

std::string FinalPath(const std::string& dir, const ScavengeUnitEntry& unit) {
  return io::JoinPath(
      dir, segment::ScavengedSegmentFileName(unit.number, unit.generation));
}

}  // namespace

Result<ScavengeResult> StoreImpl::Scavenge(const ScavengeOptions& options) {
  if (options_.read_only) {
    return Status::InvalidArgument("a read-only open cannot scavenge");
  }
  Status valid = options.Validate();
  if (!valid.ok()) return valid;
  {
    std::lock_guard<std::mutex> lock(scavenge_mu_);
    if (scavenge_closed_) return Status::Closed("the store is closed");
    if (scavenge_running_) {
      return Status::Locked("a scavenge of this store is running");
    }
    scavenge_running_ = true;
    scavenge_stop_.store(false);
  }
  activity_.ScavengeStarted();
  Result<ScavengeResult> result = RunScavenge(options);
  activity_.ScavengeEnded();
  {
    std::lock_guard<std::mutex> lock(scavenge_mu_);
    scavenge_running_ = false;
  }
  scavenge_cv_.notify_all();
  return result;
}

Status StoreImpl::StopScavenge() {
  std::lock_guard<std::mutex> lock(scavenge_mu_);
  if (!scavenge_running_) return Status::NotFound("no scavenge is running");
  scavenge_stop_.store(true);
  scavenge_cv_.notify_all();  // ends a throttled run's rest
  return Status::Ok();
}

void StoreImpl::StopScavengeForClose() {
  std::unique_lock<std::mutex> lock(scavenge_mu_);
  scavenge_closed_ = true;
  scavenge_stop_.store(true);
  scavenge_cv_.notify_all();  // ends a throttled run's rest
  scavenge_cv_.wait(lock, [&] { return !scavenge_running_; });
}

Result<ScavengeResult> StoreImpl::RunScavenge(const ScavengeOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  ScavengeResult result;
  auto finish = [&]() -> Result<ScavengeResult> {
    result.duration_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started)
            .count());
    return result;
  };
  // (1) Seal: what was appended before the scavenge becomes sealed and
  // goes into index tables, so that erasure does not wait for the active
  // segment to fill.
  uint64_t end = 0;
  Status s = Barrier([this, &end] {
    auto sealed = pipeline_->SealForScavenge();
    if (!sealed.ok()) return sealed.status();
    end = *sealed;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  s = index_->WaitListed(end, &scavenge_stop_);
  if (s.ok() && links_) s = links_->WaitListed(end, &scavenge_stop_);
  if (s.IsClosed() && scavenge_stop_.load()) {
    result.stopped = true;
    return finish();
  }
  if (!s.ok()) return s;
  // Merges would replace the tables the batches rewrite; flushes go on
  // above them. The pauses end before Close can close the indexes (Close
  // waits for this run).
  index::PersistentIndex::MergePause index_pause = index_->PauseMerges();
  std::optional<index::PersistentIndex::MergePause> links_pause;
  if (links_) links_pause.emplace(links_->PauseMerges());

  // (2) Plan.
  ScavengePacer pacer(options.throttle_percent, &scavenge_mu_, &scavenge_cv_,
                      &scavenge_stop_);
  auto plan = PlanScavenge(options.max_cached_streams, end, &pacer);
  if (!plan.ok()) return plan.status();
  result.end_position = GlobalPosition(plan->examined_end);
  result.events_examined = plan->records;
  result.parts_examined = plan->units_examined;
  ScavengeProgress progress;
  progress.parts_total = plan->units.size();
  activity_.ScavengeProgressed(progress, 0, 0);
  if (options.progress) options.progress(progress);

  ScavengePlanner planner = MakeScavengePlanner(options.max_cached_streams);
  size_t next = 0;
  ScavengeWriting writing;
  writing.bytes_per_sync = options.bytes_per_sync;
  writing.pacer = &pacer;
  while (next < plan->units.size()) {
    if (scavenge_stop_.load()) {
      result.stopped = true;
      break;
    }
    // (3) Write a batch of units whose remaps fit the memory bound.
    ScavengeBatch batch;
    uint64_t memory = 0;
    while (next < plan->units.size()) {
      const ScavengeUnitPlan& unit = plan->units[next];
      const uint64_t need =
          UnitRemap::MemoryFor(unit.end_position - unit.first_position);
      if (!batch.entries.empty() &&
          (memory + need > options.max_memory_bytes || scavenge_stop_.load())) {
        break;
      }
      segment::ScavengeCopyStats stats;
      std::optional<UnitRemap> remap;
      auto entry =
          WriteScavengedUnit(unit.unit, &planner, &stats, &remap, &writing);
      if (!entry.ok()) {
        DiscardBatch(batch);
        return entry.status();
      }
      memory += need;
      batch.entries.push_back(*entry);
      batch.remaps.push_back(std::move(*remap));
      batch.bytes_before += unit.file_bytes;
      batch.bytes_after += entry->size;
      batch.events_removed += stats.removed_records;
      ++next;
    }
    s = CommitScavengeBatch(&batch, &pacer);
    if (!s.ok()) return s;
    result.parts_rewritten += batch.entries.size();
    result.events_removed += batch.events_removed;
    result.bytes_before += batch.bytes_before;
    result.bytes_after += batch.bytes_after;
    progress.parts_done = result.parts_rewritten;
    progress.events_removed = result.events_removed;
    progress.bytes_reclaimed = result.bytes_reclaimed();
    activity_.ScavengeProgressed(progress, batch.events_removed,
                                 batch.bytes_before - batch.bytes_after);
    if (options.progress) options.progress(progress);
  }
  result.rested_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(pacer.rested())
          .count());
  return finish();
}

void StoreImpl::DiscardBatch(const ScavengeBatch& batch) {
  // Never committed: garbage the next open would remove as well.
  bool removed = false;
  for (const ScavengeUnitEntry& unit : batch.entries) {
    removed |= fs_->RemoveFile(ScvPath(dir_, unit)).ok();
  }
  // A stopped writer does not sync; the next open removes what is left.
  if (removed) (void)SyncStoreDirectory();
}

void StoreImpl::DiscardStagedTables(const ScavengeCommit& commit) {
  // Unlisted, so the next open of the index would remove them too; removed
  // now, so that scavenges failing again and again (on a full disk, say)
  // do not pile them up meanwhile. The index directories are derived
  // data, synced again after a failure (docs/durability.md).
  const std::string index_dir = io::JoinPath(dir_, kIndexDirName);
  const std::string link_dir = io::JoinPath(index_dir, kLinkIndexDirName);
  for (const auto& [dir, staged] :
       {std::pair{&index_dir, &commit.index_tables},
        std::pair{&link_dir, &commit.link_tables}}) {
    bool removed = false;
    for (uint64_t number : staged->numbers) {
      removed |=
          fs_->RemoveFile(io::JoinPath(*dir, index::TableFileName(number)))
              .ok();
    }
    if (removed) (void)fs_->SyncDir(*dir);
  }
}

Status StoreImpl::CommitScavengeBatch(ScavengeBatch* batch,
                                      ScavengePacer* pacer) {
  // (3, index) Stage the tables over the batch's range: positions between
  // its units stay as they are.
  const uint64_t first = batch->remaps.front().first();
  const uint64_t end = batch->remaps.back().end();
  const index::PositionRemap remap = BatchRemap(batch->remaps);
  ScavengeCommit commit;
  commit.store_id = log_->store_id();
  commit.units = batch->entries;
  Status s = index_->StageRewrite(first, end, remap, &commit.index_tables);
  if (s.ok() && links_) {
    s = links_->StageRewrite(first, end, remap, &commit.link_tables);
  }
  if (s.ok() && pacer != nullptr) pacer->Rest();
  // The batch's removals were decided on the streams' state as reads see
  // it, which with kInterval or kNone includes appends not yet durable (a
  // tombstone, a $maxCount): those are made durable before the removals
  // are committed, so that a power loss never keeps a removal and loses
  // its reason. With kGroupCommit reads see durable appends only, and
  // this finds nothing to sync.
  if (s.ok()) s = Sync();
  // (4) Commit point: the SCAVENGE file, renamed into place and the
  // directory fsynced. Before it, a failure leaves the store as it was.
  if (s.ok()) {
    s = ReplaceFile(fs_, dir_, kScavengeFileName, kScavengeTempSuffix,
                    EncodeScavengeCommit(commit));
    if (!s.ok() && fs_->Exists(io::JoinPath(dir_, kScavengeFileName))) {
      // Renamed into place, but its directory fsync failed: whether the
      // commit is durable is unknown, and the directory is never synced
      // again. The writer stops with the files the commit names in place;
      // the next open finishes the batch or drops it, whichever the disk
      // holds.
      Fail(s);
      return s;
    }
  }
  if (!s.ok()) {
    DiscardBatch(*batch);
    DiscardStagedTables(commit);
    return s;
  }
  // After it, the scavenge must be finished: a failure fails the store
  // (it refuses writes), and the next open finishes the scavenge.
  s = ApplyScavengeCommit(commit);
  if (!s.ok()) Fail(s);
  return s;
}

Status StoreImpl::ApplyScavengeCommit(const ScavengeCommit& commit) {
  // (5) Apply: the files take their final names, then the log's entries
  // and the indexes' tables change together under the state lock, so a
  // reader sees either the old segments with the old offsets or the new
  // ones with the new.
  for (const ScavengeUnitEntry& unit : commit.units) {
    Status s = fs_->Rename(ScvPath(dir_, unit), FinalPath(dir_, unit));
    if (!s.ok()) return s;
  }
  Status s = SyncStoreDirectory();
  if (!s.ok()) return s;
  std::vector<std::shared_ptr<Segment>> successors;
  for (const ScavengeUnitEntry& unit : commit.units) {
    // Not scanned again: WriteScavengedUnit checked every record of the
    // copy as it wrote it, and that the file holds those bytes.
    auto loaded = log_->LoadGeneration(unit.number, unit.generation);
    if (!loaded.ok()) return loaded.status();
    successors.push_back(std::move(loaded.value()));
  }
  // The indexes list their staged tables (a manifest write each); lookups
  // still read the old tables, whose offsets match the listed segments.
  index::PersistentIndex::ListedRewrite index_listed;
  index::PersistentIndex::ListedRewrite links_listed;
  s = index_->ListRewrite(commit.index_tables, &index_listed);
  if (s.ok() && links_) {
    s = links_->ListRewrite(commit.link_tables, &links_listed);
  }
  if (!s.ok()) return s;
  std::vector<std::shared_ptr<Segment>> old;
  // Then the segments and the tables change together under the state
  // lock, with no I/O, on the commit thread: it reads the segment list and
  // the indexes without the lock because nothing else changes them.
  s = Barrier([&] {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    Status replaced_all = Status::Ok();
    for (size_t i = 0; replaced_all.ok() && i < successors.size(); ++i) {
      auto replaced = log_->Replace(successors[i]);
      replaced_all = replaced.status();
      if (replaced_all.ok()) old.push_back(std::move(replaced.value()));
    }
    // A segment that failed to replace fails the store (the caller), and
    // the next open finishes the scavenge from its commit.
    if (replaced_all.ok()) {
      index_->PublishRewrite(&index_listed);
      if (links_) links_->PublishRewrite(&links_listed);
    }
    return replaced_all;
  });
  if (!s.ok()) return s;
  index_->RemoveReplaced(&index_listed);
  if (links_) links_->RemoveReplaced(&links_listed);
  // (6) Clean up. Readers holding an old segment keep its mapping; one
  // that must reopen it finds the successor.
  for (const std::shared_ptr<Segment>& segment : old) {
    s = fs_->RemoveFile(segment->path);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  old.clear();
  s = fs_->RemoveFile(io::JoinPath(dir_, kScavengeFileName));
  if (s.ok()) s = SyncStoreDirectory();
  return s;
}

}  // namespace cairn::engine
