// Copyright (c) Cairn authors.
//
// FollowerRefresh: how a read-only store beside a live writer (another
// process) follows it. Each Run lists what the writer has made durable
// since the last one: it indexes the new records in memory, and takes up
// the index tables the writer lists, so that a follower holds at most
// IndexEnd() - tables_end() entries in memory however long it runs
// (docs/architecture.md, "Read-only openers"). The store calls Run before
// every read that must see the writer's newest events.
#ifndef CAIRN_ENGINE_SRC_FOLLOWER_REFRESH_H_
#define CAIRN_ENGINE_SRC_FOLLOWER_REFRESH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "cairn/options.h"
#include "cairn/status.h"
#include "engine/io/file_system.h"
#include "engine/src/segment_log.h"
#include "engine/src/watermark.h"
#include "index/link_index.h"
#include "index/persistent_index.h"

namespace cairn::engine {

// The writer's lock file: a follower knows a writer is live while it is
// locked.
inline constexpr char kLockFileName[] = "LOCK";

class FollowerRefresh {
 public:
  // What a Run changes, all owned by the store and outliving this: the
  // log and the indexes (`links` may be null), guarded by `state_mu`, and
  // the end the store lists, published through `publish` (with the state
  // lock held exclusively) once the log and indexes reach it.
  struct Target {
    SegmentLog* log = nullptr;
    index::PersistentIndex* index = nullptr;
    index::LinkIndex* links = nullptr;
    std::shared_mutex* state_mu = nullptr;
    const std::atomic<uint64_t>* listed_end = nullptr;
    std::function<void(uint64_t)> publish;
  };

  FollowerRefresh(io::FileSystem* fs, std::string dir, const Options& options,
                  const Watermark* watermark, Target target)
      : fs_(fs),
        dir_(std::move(dir)),
        options_(options),
        watermark_(watermark),
        target_(std::move(target)) {}

  // How far a follower indexes the log at most: `index`'s tables, plus
  // the in-memory tables a follower may hold. Only the stream index's
  // tables count: a writer reopened without the link index lists no link
  // tables, and the follower must not wait for them (its link entries are
  // then bounded by the appends since; docs/architecture.md, "Category
  // and event-type streams").
  static uint64_t IndexEnd(const index::PersistentIndex& index,
                           const Options& options);

  // Lists what the writer made durable since the last call. Beside a live
  // writer whose tables lag, it stops at IndexEnd() (a later Run goes on);
  // without a live writer it lists the whole log the last one left. Runs
  // one at a time, holding the state lock exclusively while it takes up
  // tables and catches up (readers wait meanwhile).
  Status Run();

 private:
  io::FileSystem* const fs_;
  const std::string dir_;
  const Options& options_;
  const Watermark* const watermark_;
  const Target target_;
  std::mutex run_mu_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_FOLLOWER_REFRESH_H_
