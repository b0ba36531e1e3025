// Copyright (c) Cairn authors.
//
// The disk's part of a durable append, for the gRPC ceiling server's
// subscribe pass (cairn_grpc_ceiling --sync-dir): each call overwrites the
// next 4 KiB block of a file that was preallocated and written beforehand,
// then fdatasyncs it, one call at a time. That is `cairn bench`'s raw
// fdatasync loop, whose p99 (raw.fsync_latency_us) is what the subscribe
// goal allows beyond a delivery's budget, so a delivery from the ceiling
// costs the fsync the goal subtracts and gRPC's work, and nothing else.
#ifndef CAIRN_BENCH_SERVE_CEILING_SYNC_H_
#define CAIRN_BENCH_SERVE_CEILING_SYNC_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "cairn/status.h"
#include "engine/io/file_system.h"
#include "tools/bench/raw.h"

namespace cairn::bench::serve {

class CeilingSync {
 public:
  // The bytes of each synced write, as the raw loop's.
  static constexpr size_t kBlock = tools::bench::kRawSyncBlock;
  // The span the writes go round, as the raw loop's: written and synced by
  // Open, untimed, so that no timed write allocates a block or extends the
  // file.
  static constexpr uint64_t kSpan = tools::bench::kRawRewriteSpan;

  // Creates (or replaces) the file `dir`/ceiling-sync.dat in `fs`, which
  // must outlive the result, and writes and syncs kSpan bytes into it.
  static Result<std::unique_ptr<CeilingSync>> Open(io::FileSystem* fs,
                                                   const std::string& dir);
  // Removes the file (best effort: a scratch file).
  ~CeilingSync();
  CeilingSync(const CeilingSync&) = delete;
  CeilingSync& operator=(const CeilingSync&) = delete;

  // Writes the next block and fdatasyncs. After a failure every call
  // returns that failure: a failed fdatasync is never retried.
  Status Sync();
  // Blocks synced so far.
  uint64_t syncs();

 private:
  CeilingSync(io::FileSystem* fs, std::string path,
              std::unique_ptr<io::File> file);

  io::FileSystem* const fs_;
  const std::string path_;
  const std::string block_;
  std::mutex mu_;
  std::unique_ptr<io::File> file_;  // under mu_, as the rest
  uint64_t offset_ = 0;
  uint64_t syncs_ = 0;
  Status failed_;
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CEILING_SYNC_H_
