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
  // Group commit publishes only synced appends. The other modes publish
  // written ones, which this makes durable before they are copied.
  if (!options_.read_only && options_.durability != Durability::kGroupCommit) {
    Status s = Sync();
    if (!s.ok()) return s;
  }
  Status s = Refresh();
  if (!s.ok()) return s;
  return RunBackup(fs_, *log_, dir_, destination, options,
                   [this]() -> Result<std::vector<BackupSegment>> {
                     std::shared_lock<std::shared_mutex> lock(state_mu_);
                     std::vector<BackupSegment> segments;
                     segments.reserve(log_->segments().size());
                     for (const auto& segment : log_->segments()) {
                       segments.push_back({segment, segment->end_offset,
                                           segment->end_position});
                     }
                     return segments;
                   });
}

}  // namespace cairn::engine
