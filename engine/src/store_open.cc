// Copyright (c) Cairn authors.
//
// Opening a store: the writer lock, crash recovery, the stream index and
// the replay of the log it does not cover, and the read-only opener that
// follows a live writer from another process.
#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/src/report.h"
#include "engine/src/store_impl.h"
#include "engine/src/validation.h"
#include "segment/durable_mark.h"
#include "segment/record.h"

namespace cairn::engine {
namespace {

uint64_t RandomStoreId() {
  EventId id = EventId::Generate();
  uint64_t out = 0;
  std::memcpy(&out, id.bytes().data(), sizeof(out));
  return out == 0 ? 1 : out;
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

StoreImpl::StoreImpl(io::FileSystem* fs, std::string dir,
                     const Options& options)
    : fs_(fs),
      dir_(std::move(dir)),
      options_(options),
      checkpoints_(fs, dir_) {}

Result<std::unique_ptr<Store>> StoreImpl::Open(io::FileSystem* fs,
                                               const std::string& path,
                                               const Options& options) {
  Status s = ValidateOptions(options);
  if (!s.ok()) return s;
  if (path.empty()) return Status::InvalidArgument("store path is empty");
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::unique_ptr<StoreImpl> store(new StoreImpl(fs, dir, options));
  s = options.read_only ? store->OpenReader() : store->OpenWriter();
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

template <typename Index>
Status StoreImpl::SkipScavengedHole(Index* index, uint64_t to,
                                    uint32_t to_offset) {
  const auto& segments = log_->segments();
  while (index->next_position() < to) {
    const uint64_t p = index->next_position();
    auto at = log_->SegmentIndexOf(p);
    if (!at || !segments[*at]->scavenged()) {
      return Status::Corruption(
          at ? segments[*at]->path : dir_, 0,
          "positions " + std::to_string(p) + " to " + std::to_string(to) +
              " are missing from the log outside a scavenged segment");
    }
    const Segment& holder = *segments[*at];
    const uint64_t end = std::min(to, holder.end_position);
    const uint32_t anchor = to < holder.end_position
                                ? to_offset
                                : static_cast<uint32_t>(holder.end_offset);
    Status s = index->SkipRemoved(end, anchor);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status StoreImpl::IndexAppend(const MappedSegment& segment,
                              std::span<const segment::ScannedRecord> records) {
  // An append's records are one stream's, at consecutive revisions (the
  // replay may start inside an append: then a tail of it).
  std::string_view stream;
  uint64_t first_revision = 0;
  std::vector<uint32_t> offsets;
  std::vector<EventId> ids;
  std::vector<std::string_view> types;
  offsets.reserve(records.size());
  ids.reserve(records.size());
  types.reserve(records.size());
  for (const segment::ScannedRecord& r : records) {
    const uint8_t* record = segment.data() + r.offset;
    std::string_view name;
    std::string_view type;
    uint64_t revision = 0;
    if (!segment::PeekEventKey(record, r.header, &name, &type, &revision)) {
      return Status::Corruption(segment->path, r.offset,
                                "event record body is malformed");
    }
    if (offsets.empty()) {
      stream = name;
      first_revision = revision;
    } else if (name != stream || revision != first_revision + offsets.size()) {
      return Status::Corruption(segment->path, r.offset,
                                "record does not continue its append's "
                                "stream and revisions");
    }
    offsets.push_back(static_cast<uint32_t>(r.offset));
    ids.push_back(segment::PeekEventId(record));
    types.push_back(type);
  }
  // The replay starts where the index that lags most needs it: the other
  // skips what it holds already. The records of one visit have consecutive
  // positions (a scavenged segment's are visited one at a time).
  const uint64_t first_position = records.front().header.position;
  // Positions below a scavenged segment's kept record that neither index
  // holds were removed by a scavenge.
  const auto first_offset = static_cast<uint32_t>(records.front().offset);
  Status s;
  if (first_position > index_->next_position()) {
    s = SkipScavengedHole(index_.get(), first_position, first_offset);
  }
  if (s.ok() && links_ && first_position > links_->next_position()) {
    s = SkipScavengedHole(links_.get(), first_position, first_offset);
  }
  const uint64_t next = index_->next_position();
  if (s.ok() && first_position + records.size() > next) {
    const size_t skip =
        next > first_position ? static_cast<size_t>(next - first_position) : 0;
    s = index_->AddRun(stream, first_revision + skip, first_position + skip,
                       std::span(offsets).subspan(skip),
                       std::span(ids).subspan(skip));
  }
  for (size_t i = 0; s.ok() && links_ && i < records.size(); ++i) {
    s = links_->Add(stream, types[i], records[i].header.position, offsets[i],
                    ids[i]);
  }
  if (!s.ok()) {
    // The log is the truth: a revision that does not follow is damage
    // in the log (the index was checked against it at open).
    return Status::Corruption(segment->path, records.front().offset,
                              s.message());
  }
  return Status::Ok();
}

Status StoreImpl::OpenIndex(bool read_only, SegmentLog::ReplayStart* start) {
  const auto& segments = log_->segments();
  const uint64_t first_position = segments.front()->header.first_position;
  index::IndexOptions index_options;
  index_options.memtable_entries = options_.index_memtable_events;
  index_options.cache_streams = options_.index_cache_streams;
  index_options.read_only = read_only;
  if (options_.logger) {
    index_options.on_background_error = [logger =
                                             options_.logger](const Status& s) {
      logger(LogLevel::kError,
             "stream index background work failed (retried later): " +
                 s.ToString());
    };
  }
  index::NameReader names = [this](uint64_t position, uint32_t offset) {
    return locator_->StreamNameAt(position, offset);
  };
  const std::string index_dir = io::JoinPath(dir_, kIndexDirName);
  const std::atomic<uint64_t>* durable = read_only ? nullptr : &durable_next_;
  for (int attempt = 1;; ++attempt) {
    auto opened = index::PersistentIndex::Open(fs_, index_dir, log_->store_id(),
                                               first_position, index_options,
                                               names, durable);
    if (!opened.ok()) return opened.status();
    index_ = std::move(opened.value());
    locator_->set_index(index_.get());
    if (!read_only || index_->open_note().empty() ||
        attempt == kReaderIndexAttempts) {
      break;
    }
  }
  if (!index_->open_note().empty()) {
    Report(options_, LogLevel::kWarning,
           "stream index in " + index_dir + ": " + index_->open_note());
  }
  if (options_.rebuild_index) {
    Status s = index_->Reset(first_position);
    if (!s.ok()) return s;
    Report(options_, LogLevel::kInfo,
           "stream index in " + index_dir +
               " discarded as asked (rebuild_index); rebuilding it from the "
               "log");
  }

  *start = SegmentLog::ReplayStart{0, 0, first_position};
  const uint64_t next = index_->next_position();
  if (next == first_position) return Status::Ok();
  std::string mismatch;
  if (!ReplayStartFor(next, index_->loaded_last_position(),
                      index_->loaded_last_offset(), start, &mismatch)) {
    // Derived data never stops an open: start the index again.
    *start = SegmentLog::ReplayStart{0, 0, first_position};
    Status s = index_->Reset(first_position);
    if (!s.ok()) return s;
    Report(options_, LogLevel::kWarning,
           "stream index in " + index_dir + " does not match the log (" +
               mismatch + "); discarded and rebuilt from the log");
  }
  return Status::Ok();
}

bool StoreImpl::ReplayStartFor(uint64_t next,
                               std::optional<uint64_t> last_position,
                               std::optional<uint32_t> last_offset,
                               SegmentLog::ReplayStart* start,
                               std::string* mismatch) {
  // The index claims every event below `next`. Believe it only if the log
  // has the last of them where the index says: a log restored from an
  // older backup, or an index copied from another store, is caught here
  // and the index rebuilt. After a scavenge the last of them can be below
  // next - 1 (the positions between were removed), so that every record
  // after it has a position of `next` or more.
  const auto& segments = log_->segments();
  auto at = last_position ? log_->SegmentStartingAtOrBefore(*last_position)
                          : std::nullopt;
  if (!at || !last_offset || *last_position >= next) {
    *mismatch = "the index ends at position " + std::to_string(next) +
                " but its last event is not in the log";
    return false;
  }
  segment::RecordHeader header;
  MappedSegment pin;
  auto record =
      locator_->VerifiedRecordAt(*last_position, *last_offset, &header, &pin);
  if (!record.ok()) {
    *mismatch = record.status().ToString();
    return false;
  }
  if (*at + 1 < segments.size() &&
      segments[*at + 1]->header.first_position == next) {
    *start = SegmentLog::ReplayStart{*at + 1, 0, next};
  } else {
    *start =
        SegmentLog::ReplayStart{*at, *last_offset + header.RecordSize(), next};
  }
  return true;
}

Status StoreImpl::ReplayLog(const SegmentLog::ReplayStart& start,
                            uint64_t durable_end, uint64_t limit) {
  OpenProgress progress;
  progress.total_bytes = log_->ReplayBound(start);
  const auto& report = options_.open_progress;
  Status index_status;
  Status s = log_->Replay(
      start, durable_end, limit,
      [&](const MappedSegment& segment,
          std::span<const segment::ScannedRecord> records) {
        if (!index_status.ok()) return;
        index_status = IndexAppend(segment, records);
        progress.events += records.size();
      },
      [&](uint64_t scanned) {
        progress.scanned_bytes = scanned;
        if (report) report(progress);
      });
  if (!s.ok()) return s;
  if (!index_status.ok()) return index_status;
  // A hole at the end of the last scavenged segment is followed by no
  // record that would reveal it: the indexes skip to the log's end.
  const uint64_t end = std::min(limit, log_->next_position());
  const bool scavenged =
      std::any_of(log_->segments().begin(), log_->segments().end(),
                  [](const auto& segment) { return segment->scavenged(); });
  if (scavenged && index_->next_position() < end) {
    s = SkipScavengedHole(index_.get(), end, 0);
  }
  if (s.ok() && scavenged && links_ && links_->next_position() < end) {
    s = SkipScavengedHole(links_.get(), end, 0);
  }
  if (!s.ok()) return s;
  progress.done = true;
  progress.scanned_bytes = progress.total_bytes;
  if (report) report(progress);
  if (progress.events > 0) {
    Report(options_, LogLevel::kInfo,
           "replayed " + std::to_string(progress.events) +
               " events of the log from position " +
               std::to_string(start.position) + " into the stream index");
  }
  return Status::Ok();
}

void StoreImpl::FindSealedEnds() {
  const auto& segments = log_->segments();
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    Segment& seg = *segments[i];
    if (seg.scavenged() || seg.end_offset != segment::kSegmentHeaderSize ||
        seg.end_position == seg.header.first_position) {
      continue;  // replayed, or empty
    }
    auto last = locator_->Locate(seg.end_position - 1);
    segment::RecordHeader header;
    if (last.ok() &&
        RecordLocator::ReadHeader(last->segment, last->offset, &header).ok()) {
      seg.end_offset = last->offset + header.RecordSize();
    }
  }
}

Status StoreImpl::OpenWriter() {
  if (!fs_->Exists(dir_)) {
    if (!options_.create_if_missing) {
      return Status::NotFound("no store at " + dir_ +
                              " (create_if_missing is false)");
    }
    Status s = fs_->CreateDir(dir_);
    if (s.ok()) s = fs_->SyncDir(ParentDir(dir_));
    if (!s.ok()) return s;
  }
  auto lock = fs_->LockFile(io::JoinPath(dir_, kLockFileName));
  if (!lock.ok()) return lock.status();
  lock_ = std::move(lock.value());
  Status discarded = DiscardUnfinishedScavenge();
  if (!discarded.ok()) return discarded;

  auto log =
      SegmentLog::Open(fs_, dir_, options_, /*writable=*/true, RandomStoreId());
  if (!log.ok()) return log.status();
  log_ = std::move(log.value());
  locator_ =
      std::make_unique<RecordLocator>(log_.get(), dir_, options_.read_only);
  // Recovery judges the bytes on the device, not pages a failed sync left
  // in the cache.
  Status s = log_->DropUnsureCache();
  if (!s.ok()) return s;

  // The old watermark says which positions were acknowledged durable; the
  // replay treats damage below it as corruption rather than a torn tail.
  uint64_t durable_hint = 0;
  if (fs_->Exists(io::JoinPath(dir_, kWatermarkFileName))) {
    auto old = Watermark::Open(fs_, dir_, 0, /*writable=*/false);
    if (old.ok() && (*old)->store_id() == log_->store_id()) {
      durable_hint = (*old)->durable_next();
    }
  }
  SegmentLog::ReplayStart start;
  s = OpenIndex(/*read_only=*/false, &start);
  if (s.ok()) s = OpenLinkIndex(/*read_only=*/false, &start);
  if (s.ok()) {
    s = ReplayLog(start, durable_hint, std::numeric_limits<uint64_t>::max());
  }
  if (!s.ok()) return s;
  FindSealedEnds();
  if (log_->next_position() < durable_hint) {
    // The log ends cleanly but short of what was acknowledged durable:
    // whole appends are missing (a lost write, or segments restored from
    // an older backup).
    const Segment& last = *log_->segments().back();
    return Status::Corruption(
        last.path, last.end_offset,
        "the log ends at position " + std::to_string(log_->next_position()) +
            " but positions up to " + std::to_string(durable_hint) +
            " were acknowledged durable (if the segments were restored from "
            "a backup, remove the watermark file to accept them)");
  }

  // Whatever a previous process left in the page cache (kNone, kInterval)
  // becomes durable now, so the recovered end is a true durable point.
  s = log_->SyncActive();
  if (!s.ok()) return s;
  synced_offset_ = log_->active().end_offset;
  last_sync_ = std::chrono::steady_clock::now();
  uint64_t next = log_->next_position();
  visible_next_ = next;
  // From here the index may list what it replayed: it is durable.
  MarkDurable(next);
  // Mark that: the recovered end becomes verifiable without the
  // watermark, and the mark (not closed) tells the next open that this
  // writer may leave pages in the cache the device never got.
  const Segment& active = log_->active();
  auto mark = segment::NewestDurableMark(active.map->data(), active.map->size(),
                                         active.header);
  mark_sequence_ = mark ? mark->sequence : 0;
  s = WriteDurableMark(/*closed=*/false);
  if (!s.ok()) return s;

  auto wm = Watermark::Open(fs_, dir_, log_->store_id(), /*writable=*/true);
  if (!wm.ok()) return wm.status();
  watermark_ = std::move(wm.value());
  watermark_->Publish(next, next);

  group_.start_offset = log_->active().end_offset;
  group_.next_position = next;
  group_.start_position = next;
  if (options_.durability == Durability::kGroupCommit) {
    syncer_ = std::thread([this] { SyncLoop(); });
  }
  committer_ = std::thread([this] { CommitLoop(); });
  return Status::Ok();
}

Status StoreImpl::OpenReader() {
  if (!fs_->Exists(dir_)) return Status::NotFound("no store at " + dir_);
  // Beside a live writer, list only what it has published as durable;
  // without one, every whole append on disk. A missing watermark (a store
  // copied without it, say) only matters beside a live writer.
  bool writer_live = fs_->IsLocked(io::JoinPath(dir_, kLockFileName));
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  auto wm = Watermark::Open(fs_, dir_, 0, /*writable=*/false);
  if (wm.ok()) {
    watermark_ = std::move(wm.value());
    if (writer_live) limit = watermark_->visible_next();
  } else if (!wm.status().IsNotFound() || writer_live) {
    return wm.status();
  }
  auto log = SegmentLog::Open(fs_, dir_, options_, /*writable=*/false, 0);
  if (!log.ok()) return log.status();
  log_ = std::move(log.value());
  locator_ =
      std::make_unique<RecordLocator>(log_.get(), dir_, options_.read_only);
  if (!writer_live) {
    // As the writer's open does: no writer can be syncing the cached pages
    // now, so ones the device never got must not be read.
    Status s = log_->DropUnsureCache();
    if (!s.ok()) return s;
  }
  if (watermark_ && watermark_->store_id() != log_->store_id()) {
    return Status::Corruption(io::JoinPath(dir_, kWatermarkFileName), 16,
                              "watermark belongs to another store");
  }
  SegmentLog::ReplayStart start;
  Status s = OpenIndex(/*read_only=*/true, &start);
  if (s.ok()) s = OpenLinkIndex(/*read_only=*/true, &start);
  if (!s.ok()) return s;
  // The writer lists only durable events in the index, possibly published
  // after the watermark was read above.
  limit = std::max(limit, index_->next_position());
  if (links_) limit = std::max(limit, links_->next_position());
  // Beside a live writer, index in memory no more than a follower may hold
  // (Refresh goes on from there as the writer's tables catch up).
  if (writer_live) limit = std::min(limit, FollowerIndexEnd());
  s = ReplayLog(start, 0, limit);
  if (!s.ok()) return s;
  FindSealedEnds();
  visible_next_ = log_->next_position();
  MarkDurable(log_->next_position());
  return Status::Ok();
}

uint64_t StoreImpl::FollowerIndexEnd() const {
  const uint64_t bound = index::PersistentIndex::kFollowerMemTables *
                         options_.index_memtable_events;
  // The stream index's tables only: a writer reopened without the link
  // index lists no link tables, and the follower must not wait for them
  // (its link entries are then bounded by the appends since, see
  // docs/architecture.md, "Category and event-type streams").
  return index_->tables_end() + bound;
}

Status StoreImpl::Refresh() {
  if (!options_.read_only || !watermark_) return Status::Ok();
  uint64_t limit = watermark_->visible_next();
  if (limit <= visible_next_.load(std::memory_order_acquire)) {
    return Status::Ok();
  }
  std::lock_guard<std::mutex> refresh(refresh_mu_);
  // Segments a scavenge replaced, dropped after the lock (unmapped then
  // unless a reader holds them).
  std::vector<std::shared_ptr<Segment>> replaced;
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  Status index_status;
  // Indexes the records of an append not yet listed in this handle's
  // tables (adopted tables list positions up to their end).
  auto index_new = [&](const MappedSegment& segment,
                       std::span<const segment::ScannedRecord> records) {
    if (!index_status.ok()) return;
    const uint64_t next =
        links_ ? std::min(index_->next_position(), links_->next_position())
               : index_->next_position();
    size_t skip = 0;
    while (skip < records.size() && records[skip].header.position < next) {
      ++skip;
    }
    if (skip < records.size()) {
      index_status = IndexAppend(segment, records.subspan(skip));
    }
  };
  // Once the entries held in memory would fill an in-memory table, pick up
  // the tables the writer listed since (it writes a table when its own
  // in-memory table fills, so the two stay in step). Also when a scavenge
  // replaced the file of the segment this handle follows: its offsets are
  // the old file's, the writer's tables have the new ones.
  const uint64_t listed = log_->next_position();
  auto last_replaced = log_->LastEntryReplaced();
  if (!last_replaced.ok()) return last_replaced.status();
  if (*last_replaced ||
      (limit > listed && index_->memory_entries() + (limit - listed) >=
                             options_.index_memtable_events)) {
    bool adopted = false;
    Status s = index_->AdoptWriterTables(&adopted);
    if (s.ok() && links_) s = links_->AdoptWriterTables(&adopted);
    // Tables a scavenge rewrote hold the offsets of the segments it wrote,
    // which the writer renamed into place before it listed the tables: the
    // segments follow the tables (docs/architecture.md, "Scavenging").
    if (s.ok() && adopted) {
      s = log_->AdoptNewerGenerations(index_new, &replaced);
    }
    if (!s.ok()) return s;
    if (!index_status.ok()) return index_status;
  }
  // The writer lists only durable events in its tables.
  limit = std::max(limit, index_->next_position());
  if (links_) limit = std::max(limit, links_->next_position());
  const uint64_t bound = FollowerIndexEnd();
  if (limit > bound && fs_->IsLocked(io::JoinPath(dir_, kLockFileName))) {
    // The live writer's tables are behind: wait for them (a later Refresh
    // goes on) rather than hold more in memory. Without a live writer no
    // table will come: index the rest, which is what the last writer left.
    limit = std::max(bound, listed);
  }
  Status s = log_->CatchUp(limit, index_new);
  if (!s.ok()) return s;
  if (!index_status.ok()) return index_status;
  visible_next_ = log_->next_position();
  MarkDurable(log_->next_position());
  return Status::Ok();
}

StoreImpl::~StoreImpl() { (void)Close(); }

}  // namespace cairn::engine
