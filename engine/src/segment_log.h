// Copyright (c) Cairn authors.
//
// The segment files of one store directory: finding and validating them at
// open (recovery), creating new ones, writing the active one, and finding
// the segment of a global position. Thread-compatibility: the Store guards
// `segments()` and each Segment's end with its state lock; only the commit
// thread writes.
#ifndef CAIRN_ENGINE_SRC_SEGMENT_LOG_H_
#define CAIRN_ENGINE_SRC_SEGMENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cairn/options.h"
#include "cairn/result.h"
#include "engine/io/file_system.h"
#include "engine/src/segment_cache.h"
#include "engine/src/segment_preparer.h"
#include "segment/durable_mark.h"
#include "segment/segment_header.h"
#include "segment/segment_scan.h"

namespace cairn::engine {

struct Segment {
  segment::SegmentHeader header;
  uint64_t seed = 0;
  std::string path;
  // 0 for an original segment file; G for the scavenged segment (format
  // version 3, records with gaps in their positions) `NNN.gGGGG.seg`,
  // which is complete: its end_position and end_offset come from its
  // header and file size.
  uint32_t generation = 0;
  // The newest durable-end mark the file held when its header was read
  // (LoadSegment). A reader beside a live writer checks its scan against
  // this one: the writer rewrites the mark slots in place, and reading
  // them from a mapping while it does gives no snapshot.
  std::optional<segment::DurableMark> listed_mark;
  // The writer's active segment only: its file, open read-write, and its
  // mapping, for the store's lifetime. Every other segment is mapped only
  // while the log's cache of open segments holds it; its bytes are read
  // through SegmentLog::Pin. Guarded by the log's active mutex once the
  // store is open.
  std::unique_ptr<io::File> file;
  std::shared_ptr<const io::MappedRegion> map;  // [0, file size)
  // Position after the last listed record (header.first_position if none).
  // Only whole, visible appends are listed. A sealed segment ends where the
  // next one starts. Records are located through the stream index (and its
  // position anchors), not a per-record table: memory must not grow with
  // the log.
  uint64_t end_position = 0;
  // End of the listed records.
  uint64_t end_offset = segment::kSegmentHeaderSize;

  // Set by SegmentLog::Replace when this segment's entry was replaced by a
  // newer generation of its file. Guarded by the log's active mutex.
  std::shared_ptr<Segment> successor;

  uint64_t next_position() const { return end_position; }
  bool has_records() const { return end_offset != segment::kSegmentHeaderSize; }
  bool scavenged() const { return generation != 0; }
};

// A segment with its bytes mapped. The mapping stays valid while this (or
// a copy) lives, also after the cache of open segments evicted it: readers
// hold one for as long as they read the segment's bytes.
class MappedSegment {
 public:
  MappedSegment() = default;
  MappedSegment(std::shared_ptr<Segment> segment,
                std::shared_ptr<const io::MappedRegion> map)
      : segment_(std::move(segment)),
        map_(std::move(map)),
        data_(map_ ? map_->data() : nullptr),
        size_(map_ ? map_->size() : 0) {}
  MappedSegment(const MappedSegment&) = default;
  MappedSegment& operator=(const MappedSegment&) = default;
  // A moved-from handle is empty, as a default-constructed one: it keeps
  // no address of a mapping it no longer holds.
  MappedSegment(MappedSegment&& other) noexcept
      : segment_(std::move(other.segment_)),
        map_(std::move(other.map_)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  MappedSegment& operator=(MappedSegment&& other) noexcept {
    segment_ = std::move(other.segment_);
    map_ = std::move(other.map_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  const Segment* operator->() const { return segment_.get(); }
  const Segment& operator*() const { return *segment_; }
  const std::shared_ptr<Segment>& segment() const { return segment_; }
  const uint8_t* data() const { return data_; }
  size_t mapped_size() const { return size_; }

 private:
  std::shared_ptr<Segment> segment_;
  std::shared_ptr<const io::MappedRegion> map_;
  // A mapping never moves or changes size: kept here, so that a scan asks
  // the region (a virtual call) once per segment, not once per record.
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// One scanned append, as found in a segment.
using AppendVisitor =
    std::function<void(const MappedSegment& segment,
                       std::span<const segment::ScannedRecord> records)>;

class SegmentLog {
 public:
  // Lists the segments of `dir`, verifying their headers by the rules of
  // segment/segment_list.h but not their records: Replay does that for the
  // part of the log the index does not cover. Each header is read once
  // and its file closed again; only the writer's active segment stays
  // open. writable: the caller
  // holds the writer lock; a half-created newest segment is removed, a
  // store with no segment gets segment 0 (store id `new_store_id`), and
  // leftover spare segments are adopted or removed. A sealed segment's end
  // is the next one's start; the last one's is found by Replay.
  static Result<std::unique_ptr<SegmentLog>> Open(io::FileSystem* fs,
                                                  const std::string& dir,
                                                  const Options& options,
                                                  bool writable,
                                                  uint64_t new_store_id);

  // Where Replay starts: segment index, and the offset and position of a
  // record that follows a whole record (offset 0: the segment's first).
  struct ReplayStart {
    size_t segment = 0;
    uint64_t offset = 0;
    uint64_t position = 0;
  };
  // Scans the log from `start` to its end, verifying every record, and
  // lists what it finds. writable: a torn tail in the last segment is
  // truncated (durably); positions below `durable_end` were acknowledged
  // durable (damage there is corruption, never a torn tail). Read-only:
  // nothing is changed; records at positions >= `limit` are not listed,
  // nor segments past them. `visit` sees every listed append in order;
  // `progress` the bytes scanned so far, after each segment.
  Status Replay(const ReplayStart& start, uint64_t durable_end, uint64_t limit,
                const AppendVisitor& visit,
                const std::function<void(uint64_t)>& progress);
  // Bytes Replay(start) scans at most (segments at their capacity).
  uint64_t ReplayBound(const ReplayStart& start) const;

  const std::vector<std::shared_ptr<Segment>>& segments() const {
    return segments_;
  }
  uint64_t store_id() const { return store_id_; }
  const std::string& dir() const { return dir_; }
  uint64_t next_position() const {
    return segments_.empty() ? 0 : segments_.back()->next_position();
  }
  // Bytes of records in all segments.
  uint64_t record_bytes() const;

  // The bytes of `segment` (one of segments()), mapped: the active
  // segment's mapping, or the cache's (reopening the file, header verified
  // again, if it was evicted). A segment whose file is gone because a
  // scavenge replaced it pins its successor, the newest generation of its
  // number (set by Replace, or found in the directory when another process
  // replaced it): the returned MappedSegment's segment() is then not
  // `segment`, and offsets into the old file do not apply to it.
  // Thread-safe; no lock needed.
  Result<MappedSegment> Pin(const std::shared_ptr<Segment>& segment) const;

  // Loads the scavenged segment file `number`.g`generation` (header read
  // and verified, records not scanned, nothing mapped), to be listed with
  // Replace. I/O: called without the caller's state lock.
  Result<std::shared_ptr<Segment>> LoadGeneration(uint64_t number,
                                                  uint32_t generation) const;
  // Makes `successor` (from LoadGeneration, a newer generation of a sealed
  // segment with the same number, start and end) the log's entry for its
  // number. No I/O: the caller holds its state lock exclusively. Readers
  // that hold the old entry keep reading its mapping if it was mapped;
  // one that must reopen it finds the successor (Pin). Returns the old
  // entry, whose mapping the caller drops after releasing its lock.
  Result<std::shared_ptr<Segment>> Replace(std::shared_ptr<Segment> successor);
  // Read-only handles: replaces each segment entry that has a newer
  // generation in the directory (a writer's scavenge) by the newest one, as
  // Replace does, and appends the old entries to *replaced (dropped after
  // the caller's lock). The last entry too: a newer generation of it means
  // the writer sealed it, so the complete file takes its place, and
  // `visit` sees its records past the ones listed before (each alone, as
  // Replay visits a scavenged segment's). I/O under the caller's exclusive
  // state lock, which a follower's Refresh holds anyway while it adopts
  // the writer's tables; the tables must cover the segments replaced, whose
  // offsets change (the writer lists them before it unlinks the old files).
  Status AdoptNewerGenerations(const AppendVisitor& visit,
                               std::vector<std::shared_ptr<Segment>>* replaced);
  // Read-only handles: whether a scavenge replaced the file of the last
  // entry (its file is gone, and no mapping of it is cached). CatchUp
  // cannot go on in it: the offsets it listed are the old file's.
  Result<bool> LastEntryReplaced() const;
  // Sealed segments mapped by the cache now (at most max_open_segments).
  size_t cached_segments() const { return cache_.size(); }

  // Index into segments() of the segment holding `position`.
  std::optional<size_t> SegmentIndexOf(uint64_t position) const;
  // Index of the last segment starting at or before `position` (whether or
  // not the position is listed yet); nullopt before the first segment.
  std::optional<size_t> SegmentStartingAtOrBefore(uint64_t position) const;

  // Drops the cached pages of the last segment when it has bytes past its
  // newest durable-end mark (or no mark), unless that mark says the last
  // writer closed cleanly, and maps it again. The whole file's pages go:
  // the kernel keeps a large folio that straddles the range's start. After a
  // fail-stop, pages whose writeback failed are clean in the cache although the
  // device never got them; Replay must judge what is on the device.
  // Before Replay, and only with no live writer.
  Status DropUnsureCache();

  // --- writer only ---
  // Free bytes left in the active segment.
  uint64_t ActiveRemaining() const;
  // Writes `size` bytes at the active segment's end (not yet listed).
  Status WriteActive(uint64_t offset, const void* data, size_t size);
  Status SyncActive();
  Segment& active() { return *segments_.back(); }
  // Creates the segment that takes the appends from `first_position` on,
  // durably (file preallocated, header synced, directory synced): segment
  // N+1, or, when the active segment N holds no record, a new segment N at
  // the configured size that replaces it (a segment without records is
  // never sealed: the next one would start at the same position). Does not
  // list it: the caller adds it with AddSegment under its state lock, so
  // no lock is held across the I/O.
  Result<std::shared_ptr<Segment>> CreateNext(uint64_t first_position);
  // Whether CreateNext failed in a way the writer must stop for
  // (fail-stop): a directory fsync failed (it is never retried), or a new
  // segment whose name is durable could not be opened nor taken back, so
  // that a later append to the active segment would end where the new one
  // starts, which recovery calls corruption.
  bool must_stop() const { return must_stop_; }
  // Makes `segment` (from CreateNext) the active one: the old active
  // segment is sealed (its mapping handed to the cache, its file closed)
  // or, for a replacement, dropped.
  void AddSegment(std::shared_ptr<Segment> segment);
  // The background preparer of the next segment (null when read-only), for
  // the store's Close() to stop before it releases the writer lock.
  SegmentPreparer* preparer() { return preparer_.get(); }

  // --- read-only openers ---
  // Lists records from where the last listing stopped up to `limit`,
  // opening segments the writer created since (the newest generation of
  // each: one the writer scavenged meanwhile is listed whole, its records
  // visited each alone). Stops early, without error, where the last
  // entry's file was replaced (LastEntryReplaced): AdoptNewerGenerations,
  // with the writer's tables, goes on from there.
  Status CatchUp(uint64_t limit, const AppendVisitor& visit);

 private:
  SegmentLog(io::FileSystem* fs, std::string dir, Options options,
             bool writable)
      : fs_(fs),
        dir_(std::move(dir)),
        options_(std::move(options)),
        writable_(writable),
        cache_(fs, options_.max_open_segments) {}

  // Reads and verifies the header of segment file `id` (the file is closed
  // again); nothing is mapped. *fields (may be null) gets a scavenged
  // segment's version-3 fields.
  Result<std::shared_ptr<Segment>> LoadSegment(
      segment::SegmentFileId id,
      segment::ScavengedFields* fields = nullptr) const;
  // The newest generation of `old`'s number in the directory, if newer
  // than `old` (nullptr otherwise).
  Result<std::shared_ptr<Segment>> FindSuccessor(const Segment& old) const;
  // The newest generation of segment `number` in the directory.
  Result<std::shared_ptr<Segment>> LoadNewest(uint64_t number) const;
  // Read-only: appends `next` (LoadNewest(last number + 1)) to the list
  // if it continues the log; a scavenged one is verified whole and its
  // records visited.
  Status ListNext(std::shared_ptr<Segment> next, const AppendVisitor& visit);
  // Makes `successor` entry `index` and links it from the old entry, which
  // takes the old file's mapping from the cache (readers holding the old
  // entry keep reading it); returns the old entry.
  std::shared_ptr<Segment> SwapEntry(size_t index,
                                     std::shared_ptr<Segment> successor);
  // Read-only: makes `successor`, a newer generation of the last entry,
  // the last entry, and visits its records at or past the old entry's
  // end. The old entry goes to *replaced.
  Status ReplaceLast(std::shared_ptr<Segment> successor,
                     const AppendVisitor& visit,
                     std::vector<std::shared_ptr<Segment>>* replaced);
  // Verifies the whole scavenged segment `mapped` (ScanScavengedSegment,
  // header as listed) and visits each of its records for which `wanted`
  // holds, alone.
  Status VisitScavenged(
      const MappedSegment& mapped,
      const std::function<bool(const segment::ScannedRecord&)>& wanted,
      const AppendVisitor& visit);
  // Replay of a scavenged segment: the whole file verified
  // (ScanScavengedSegment), its records from `start_offset` on (0: all)
  // each visited alone: the COMMIT flags no longer group them into
  // appends, which may have lost some of their records.
  Status ReplayScavenged(const std::shared_ptr<Segment>& seg,
                         uint64_t start_offset, const AppendVisitor& visit);
  // Opens `segment` read-write and maps it: the writer's active segment.
  Status OpenActive(Segment* segment);
  Result<std::shared_ptr<Segment>> Create(uint64_t number,
                                          uint64_t first_position);
  Status MapSegment(Segment* segment);
  // Writer, after the scan of the last segment: zeroes a torn tail (from
  // `result.end_offset` to its last nonzero byte) and extends a file
  // shorter than its capacity with zeros (re-allocated first), then syncs
  // and maps it again at its full size.
  Status RepairActive(Segment* segment,
                      const segment::SegmentScanResult& result);

  io::FileSystem* fs_;
  std::string dir_;
  Options options_;
  bool writable_;
  uint64_t store_id_ = 0;
  // Writer only: zero-fills the next segment ahead of time.
  std::unique_ptr<SegmentPreparer> preparer_;
  std::vector<std::shared_ptr<Segment>> segments_;
  // Writer only: a replacement of the active segment (CreateNext) was
  // renamed into place but is not listed yet; the listed one must take no
  // more records.
  bool active_replaced_ = false;
  bool must_stop_ = false;  // writer only
  // Guards Segment::file and Segment::map once readers run.
  mutable std::mutex active_mu_;
  mutable SegmentCache cache_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SEGMENT_LOG_H_
