// Copyright (c) Cairn authors.
//
// PersistentIndex: pausing merges, and staging and installing the tables
// that a scavenge rewrites (table_rewrite.h).
#include <algorithm>
#include <chrono>
#include <set>
#include <string>

#include "index/persistent_index.h"

namespace cairn::index {
namespace {

// How often WaitListed looks again while the flusher waits for the log to
// become durable (it is woken as well when a flush ends).
constexpr auto kListedPoll = std::chrono::milliseconds(20);

}  // namespace

PersistentIndex::MergePause::~MergePause() {
  if (index_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(index_->manifest_mu_);
    --index_->merge_pauses_;
  }
  index_->work_cv_.notify_all();  // a merge may be due
}

PersistentIndex::MergePause PersistentIndex::PauseMerges() {
  {
    std::lock_guard<std::mutex> lock(manifest_mu_);
    ++merge_pauses_;
  }
  // A merge that picked its inputs before the pause runs to its end (it
  // commits or fails); none starts after it.
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return !merging_; });
  return MergePause(this);
}

void PersistentIndex::FreezeBelow(uint64_t end) {
  // Positions the in-memory table covers, entries or not: a replay that
  // ends in a scavenge's hole right after the table before froze (full),
  // or right after the open's tables, leaves one that covers the hole
  // without an entry. Its table then has none (like a rewritten table
  // whose every event was removed), and lists the hole all the same.
  if (active_->first_position() < std::min(end, active_->end_position())) {
    Freeze();
  }
}

Status PersistentIndex::WaitListed(uint64_t end,
                                   const std::atomic<bool>* stop) {
  if (options_.read_only) {
    return Status::InvalidArgument("a read-only index lists no tables");
  }
  uint64_t errors_before = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    errors_before = background_errors_;
  }
  for (;;) {
    {
      std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
      if (manifest_.end_position() >= end) return Status::Ok();
    }
    if (!options_.background) {
      // Inline mode flushed at the freeze; what is left is a commit that
      // waited for the log to become durable.
      Status s = Commit();
      if (!s.ok()) return s;
      std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
      if (manifest_.end_position() >= end) return Status::Ok();
      return Status::InvalidArgument("the index tables do not reach position " +
                                     std::to_string(end) +
                                     ": the log is not durable there");
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_ || (stop != nullptr && stop->load())) {
      return Status::Closed("stopped while waiting for index tables");
    }
    // A flush or manifest write that failed meanwhile: the tables may not
    // come (a dead or full disk); the caller gives up rather than wait.
    if (flush_failing_ || background_errors_ != errors_before) {
      return Status::IOError("writing the index tables failed: " +
                             background_error_);
    }
    work_cv_.notify_all();
    idle_cv_.wait_for(lock, kListedPoll);
  }
}

Status PersistentIndex::StageRewrite(uint64_t first, uint64_t end,
                                     const PositionRemap& remap,
                                     StagedTables* staged) {
  if (options_.read_only) {
    return Status::InvalidArgument("a read-only index rewrites no tables");
  }
  if (first >= end) {
    return Status::InvalidArgument("an index rewrite needs a non-empty range");
  }
  std::vector<std::shared_ptr<const Table>> inputs;
  std::vector<uint64_t> numbers;
  {
    std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
    if (merge_pauses_ == 0) {
      return Status::InvalidArgument(
          "an index rewrite needs merges paused (PauseMerges)");
    }
    if (manifest_.end_position() < end) {
      return Status::InvalidArgument(
          "the index tables end at position " +
          std::to_string(manifest_.end_position()) +
          ", before the end of the range to rewrite (" + std::to_string(end) +
          "): in-memory entries lie in it");
    }
    auto v = Current();
    // Listed tables are the version's prefix, in the same order.
    for (size_t i = 0; i < manifest_.tables.size(); ++i) {
      const ManifestTable& t = manifest_.tables[i];
      if (t.end_position <= first || t.first_position >= end) continue;
      inputs.push_back(v->tables[i]);
      numbers.push_back(next_table_number_++);
    }
  }
  std::vector<TableInfo> written;
  Status s;
  for (size_t k = 0; k < inputs.size() && s.ok(); ++k) {
    auto info =
        RewriteTable(fs_, dir_, *inputs[k], numbers[k], first, end, remap);
    s = info.status();
    if (s.ok()) written.push_back(*info);
  }
  if (!s.ok()) {
    // Unlisted: the next open would remove them too.
    for (const TableInfo& info : written) {
      (void)fs_->RemoveFile(TablePath(info.number));
    }
    return s;
  }
  if (inputs.empty()) {
    return Status::InvalidArgument("no index table overlaps the range");
  }
  staged->first_position = inputs.front()->info().first_position;
  staged->end_position = inputs.back()->info().end_position;
  staged->numbers = std::move(numbers);
  return Status::Ok();
}

Status PersistentIndex::ListRewrite(const StagedTables& staged,
                                    ListedRewrite* listed) {
  if (options_.read_only) {
    return Status::InvalidArgument("a read-only index installs no tables");
  }
  *listed = ListedRewrite();
  std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
  if (ListsStaged(manifest_, staged)) return Status::Ok();
  auto opened =
      OpenStagedTables(fs_, dir_, store_id_, options_.anchor_stride, staged);
  if (!opened.ok()) return opened.status();
  for (const auto& table : *opened) AttachBlockSource(table.get());
  std::vector<TableInfo> infos;
  for (const auto& t : *opened) infos.push_back(t->info());
  auto next = ManifestWithStaged(dir_, manifest_, staged, infos);
  if (!next.ok()) return next.status();
  Status s = WriteManifest(fs_, dir_, **next);
  if (!s.ok()) return s;
  std::set<uint64_t> gone;
  for (const ManifestTable& t : manifest_.tables) gone.insert(t.number);
  for (const ManifestTable& t : (*next)->tables) gone.erase(t.number);
  listed->tables.assign(opened->begin(), opened->end());
  listed->replaced_numbers.assign(gone.begin(), gone.end());
  manifest_ = std::move(**next);
  next_table_number_ =
      std::max(next_table_number_, manifest_.next_table_number);
  return Status::Ok();
}

void PersistentIndex::PublishRewrite(ListedRewrite* listed) {
  if (listed->tables.empty()) return;
  // Before the tables are published: a reader that sees them also sees
  // that revisions may have gaps (the version's mutex orders the two).
  for (const auto& table : listed->tables) {
    if (table->info().has_gaps()) gaps_.store(true, std::memory_order_relaxed);
  }
  const std::vector<uint64_t>& gone = listed->replaced_numbers;
  std::unique_lock<std::mutex> lock(mu_);
  auto v = std::make_shared<Version>(*version_);
  // The replaced tables are a run of the listed prefix; the staged ones
  // take their place. Flushes published since ListRewrite added tables
  // after the run only (merges are paused).
  auto is_gone = [&](const auto& t) {
    return std::binary_search(gone.begin(), gone.end(), t->info().number);
  };
  auto run = std::find_if(v->tables.begin(), v->tables.end(), is_gone);
  auto run_end = std::find_if_not(run, v->tables.end(), is_gone);
  for (auto it = run; it != run_end; ++it) {
    listed->replaced_paths.push_back((*it)->path());
  }
  run = v->tables.erase(run, run_end);
  v->tables.insert(run, listed->tables.begin(), listed->tables.end());
  version_ = std::move(v);
  listed->tables.clear();
  lock.unlock();
  // A rewrite can remove a stream's last events (all of a snapshot stream
  // whose stream was tombstoned): the stream cache's last revisions and
  // tombstone answers may name removed events, so it starts again.
  std::lock_guard<std::mutex> cache_lock(cache_mu_);
  cache_.Clear();
}

void PersistentIndex::RemoveReplaced(ListedRewrite* listed) {
  // Readers still holding the replaced tables keep their mappings.
  for (const std::string& path : listed->replaced_paths) {
    (void)fs_->RemoveFile(path);
  }
  listed->replaced_paths.clear();
}

Status PersistentIndex::InstallRewrite(const StagedTables& staged) {
  ListedRewrite listed;
  Status s = ListRewrite(staged, &listed);
  if (!s.ok()) return s;
  PublishRewrite(&listed);
  RemoveReplaced(&listed);
  return Status::Ok();
}

}  // namespace cairn::index
