// Copyright (c) Cairn authors.
//
// Recovery: brings the derived state of an opened segment log level with
// it. It opens the stream index (DIR/index) and the link index
// (DIR/index/links), believes what each holds only where the log confirms
// its last event (else that index is rebuilt from the log), replays the
// log from where the index that lags most needs it, and finds the ends of
// the sealed segments the replay skipped. The store's open (store_open.cc)
// runs it between listing the log and starting the commit pipeline, and
// then owns the indexes.
#ifndef CAIRN_ENGINE_SRC_RECOVERY_H_
#define CAIRN_ENGINE_SRC_RECOVERY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cairn/options.h"
#include "cairn/status.h"
#include "engine/io/file_system.h"
#include "engine/src/record_locator.h"
#include "engine/src/segment_log.h"
#include "index/link_index.h"
#include "index/persistent_index.h"

namespace cairn::engine {

inline constexpr char kIndexDirName[] = "index";
// The link index (category and event-type streams), inside kIndexDirName.
inline constexpr char kLinkIndexDirName[] = "links";

// A read-only opener beside a live writer can find a table the writer's
// merge just replaced; it tries again this many times before replaying
// from the last table it could load.
inline constexpr int kReaderIndexAttempts = 3;

class Recovery {
 public:
  // `log` and `locator` (over `log`) must outlive the indexes this opens.
  Recovery(io::FileSystem* fs, std::string dir, const Options& options,
           SegmentLog* log, RecordLocator* locator)
      : fs_(fs),
        dir_(std::move(dir)),
        options_(options),
        log_(log),
        locator_(locator) {}
  // An index not taken (a failed open) goes, and the locator stops using
  // its anchors.
  ~Recovery() {
    if (index_) locator_->set_index(nullptr);
  }
  Recovery(const Recovery&) = delete;
  Recovery& operator=(const Recovery&) = delete;

  // Opens both indexes (the link index only when the options keep one,
  // and for a read-only opener only when a writer maintains one) and
  // decides where the replay starts. A writer's stream index lists an
  // event in a table only once `durable` has passed it; a reader passes
  // null. The locator answers the indexes' name reads from here on.
  Status OpenIndexes(bool read_only, const std::atomic<uint64_t>* durable);

  // Replays the log from the start OpenIndexes decided into both indexes,
  // up to `limit`, reporting progress (Options::open_progress). Damage
  // below `durable_end` (acknowledged durable) is Corruption, not a torn
  // tail (SegmentLog::Replay).
  Status Replay(uint64_t durable_end, uint64_t limit);

  // Sealed segments the replay skipped: finds their ends through the index
  // (for statistics and the locator's walks).
  void FindSealedEnds();

  index::PersistentIndex* index() const { return index_.get(); }
  index::LinkIndex* links() const { return links_.get(); }
  // The opened indexes, for the store to own (the link index null when
  // there is none).
  std::unique_ptr<index::PersistentIndex> TakeIndex() {
    return std::move(index_);
  }
  std::unique_ptr<index::LinkIndex> TakeLinks() { return std::move(links_); }

 private:
  Status OpenStreamIndex(bool read_only, const std::atomic<uint64_t>* durable);
  Status OpenLinkIndex(bool read_only);
  // Where the replay must start for an index that holds every event below
  // `next`, the last of them (next - 1 unless a scavenge removed events)
  // at `last_position` and `last_offset` if loaded from a table. False if
  // the log does not confirm that event: *mismatch says why, and the index
  // must be rebuilt.
  bool ReplayStartFor(uint64_t next, std::optional<uint64_t> last_position,
                      std::optional<uint32_t> last_offset,
                      SegmentLog::ReplayStart* start, std::string* mismatch);

  io::FileSystem* const fs_;
  const std::string dir_;
  const Options& options_;
  SegmentLog* const log_;
  RecordLocator* const locator_;
  SegmentLog::ReplayStart start_;
  // Destroyed before the log and locator, which their threads use.
  std::unique_ptr<index::PersistentIndex> index_;
  std::unique_ptr<index::LinkIndex> links_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_RECOVERY_H_
