// Copyright (c) Cairn authors.
//
// Durable named checkpoints (subscription resume positions), one small file
// each under DIR/checkpoints/, replaced crash-safely: write a temporary
// file, fdatasync it, rename it over the old one, fsync the directory. A
// crash leaves either the old or the new checkpoint, never a mix. Format:
// docs/format.md.
//
// A failed fdatasync or directory fsync here is fatal to the store, as on
// the append path: it sets the store's FailStop, so nothing (no checkpoint,
// no append) syncs again until a reopen. The store directory is the
// segments' too, and a later fsync of it could report success for the
// directory entries the failed one lost (docs/durability.md).
#ifndef CAIRN_ENGINE_SRC_CHECKPOINT_STORE_H_
#define CAIRN_ENGINE_SRC_CHECKPOINT_STORE_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/result.h"
#include "engine/io/file_system.h"
#include "engine/src/fail_stop.h"

namespace cairn::engine {

inline constexpr char kCheckpointDirName[] = "checkpoints";

class CheckpointStore {
 public:
  // `fail_stop` (the store's) outlives this.
  CheckpointStore(io::FileSystem* fs, std::string store_dir,
                  FailStop* fail_stop);

  static Status ValidateName(std::string_view name);
  Status Save(std::string_view name, uint64_t position);
  Result<std::optional<uint64_t>> Load(std::string_view name);
  // Removes the checkpoint `name` (durably); OK when there is none.
  Status Remove(std::string_view name);

 private:
  // `status` of an fsync: a failure also fail-stops the store.
  Status Synced(Status status);

  io::FileSystem* const fs_;
  const std::string store_dir_;
  const std::string dir_;
  FailStop* const fail_stop_;
  std::mutex mu_;  // one save at a time: they share temp-file names
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_CHECKPOINT_STORE_H_
