// Copyright (c) Cairn authors.
//
// Hot backup (Store::Backup): copies a snapshot of the segment list into a
// destination directory that opens as a store. The caller takes the
// snapshot (segments and their ends) under the store's state lock; the
// bytes below those ends never change, so the copy runs without it while
// appends go on.
//
// The destination is always a valid store, also after a crash mid-backup:
// segments are copied in ascending order, each to a temporary name that is
// fdatasynced, renamed into place and made durable with a directory fsync.
// The backup's last segment is a prefix of a live segment; its header's
// durable-end mark slots are rewritten to name exactly that prefix as
// durable and cleanly closed. A small manifest (BACKUP) lists the sealed
// segments copied whole, so a later backup skips them (incremental).
#ifndef CAIRN_ENGINE_SRC_BACKUP_H_
#define CAIRN_ENGINE_SRC_BACKUP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cairn/result.h"
#include "cairn/store.h"
#include "engine/io/file_system.h"
#include "engine/src/segment_log.h"

namespace cairn::engine {

inline constexpr char kBackupManifestName[] = "BACKUP";

// One segment of the snapshot, with its ends when the snapshot was taken.
struct BackupSegment {
  std::shared_ptr<Segment> segment;
  uint64_t end_offset = 0;
  uint64_t end_position = 0;
};

// Takes the snapshot: the whole log, oldest first, the last segment
// possibly still being written.
using BackupSnapshot = std::function<Result<std::vector<BackupSegment>>()>;

// Locks and checks `destination`, reads the checkpoints of `source_dir`,
// then takes `snapshot` (so no checkpoint names a position past its end)
// and copies it; `log` pins the segments' bytes.
Result<BackupResult> RunBackup(io::FileSystem* fs, const SegmentLog& log,
                               const std::string& source_dir,
                               const std::string& destination,
                               const BackupOptions& options,
                               const BackupSnapshot& snapshot);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_BACKUP_H_
