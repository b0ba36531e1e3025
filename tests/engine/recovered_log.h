// Copyright (c) Cairn authors.
//
// For tests of the engine's parts: the log of a closed store and the
// indexes Recovery opens and replays over it, as a store's open makes them
// (without the writer lock or the pipeline).
#ifndef CAIRN_TESTS_ENGINE_RECOVERED_LOG_H_
#define CAIRN_TESTS_ENGINE_RECOVERED_LOG_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "cairn/options.h"
#include "cairn/status.h"
#include "engine/io/file_system.h"
#include "engine/src/record_locator.h"
#include "engine/src/recovery.h"
#include "engine/src/segment_log.h"

namespace cairn::testing {

struct RecoveredLog {
  Options options;  // Recovery keeps a reference
  std::unique_ptr<engine::SegmentLog> log;
  std::unique_ptr<engine::RecordLocator> locator;
  std::atomic<uint64_t> durable{0};
  // Holds the indexes; after the log and locator, which their threads use.
  std::unique_ptr<engine::Recovery> recovery;

  // Lists the log of `dir` (not writable), opens the indexes (read-only
  // or as a writer's) and replays the log into them up to `limit`.
  Status Open(const std::string& dir, const Options& store_options,
              bool read_only,
              uint64_t limit = std::numeric_limits<uint64_t>::max()) {
    options = store_options;
    auto opened = engine::SegmentLog::Open(io::PosixFileSystem(), dir, options,
                                           /*writable=*/false, 0);
    if (!opened.ok()) return opened.status();
    log = std::move(opened.value());
    locator =
        std::make_unique<engine::RecordLocator>(log.get(), dir, read_only);
    recovery = std::make_unique<engine::Recovery>(
        io::PosixFileSystem(), dir, options, log.get(), locator.get());
    Status s = recovery->OpenIndexes(read_only, read_only ? nullptr : &durable);
    if (s.ok()) s = recovery->Replay(0, limit);
    return s;
  }
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_ENGINE_RECOVERED_LOG_H_
