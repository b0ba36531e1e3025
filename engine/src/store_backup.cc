// Copyright (c) Cairn authors.
//
// Store::Backup: the snapshot of the segment list, taken under the state
// lock; engine/src/backup.h copies it without the lock.
#include <mutex>
#include <shared_mutex>

#include "engine/src/backup.h"
#include "engine/src/store_impl.h"

namespace cairn::engine {

Result<BackupResult> StoreImpl::Backup(const std::string& destination,
                                       const BackupOptions& options) {
  if (closed()) return Status::Closed("the store is closed");
  Status s = Refresh();
  if (!s.ok()) return s;
  return RunBackup(fs_, *log_, dir_, destination, options,
                   [this]() -> Result<std::vector<BackupSegment>> {
                     std::vector<BackupSegment> segments;
                     {
                       std::shared_lock<std::shared_mutex> lock(state_mu_);
                       segments.reserve(log_->segments().size());
                       for (const auto& segment : log_->segments()) {
                         segments.push_back({segment, segment->end_offset,
                                             segment->end_position});
                       }
                     }
                     // Group commit publishes only synced appends. The other
                     // modes publish written ones: a sync after the snapshot
                     // makes all it lists durable before a byte of it is
                     // copied, so that the backup never holds events a power
                     // loss of the source could take back.
                     if (!options_.read_only &&
                         options_.durability != Durability::kGroupCommit) {
                       Status synced = Sync();
                       if (!synced.ok()) return synced;
                     }
                     return segments;
                   });
}

}  // namespace cairn::engine
