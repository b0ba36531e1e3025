// Copyright (c) Cairn authors.
//
// Opening a store: the writer lock, crash recovery, index rebuild, and the
// read-only opener that follows a live writer from another process.
#include <cstring>
#include <limits>

#include "engine/src/store_impl.h"
#include "engine/src/validation.h"
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
      streams_(index::NewMemoryStreamIndex()),
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

Status StoreImpl::IndexAppend(const Segment& segment,
                              std::span<const segment::ScannedRecord> records) {
  for (const segment::ScannedRecord& r : records) {
    const uint8_t* record = segment.data() + r.offset;
    std::string_view stream;
    std::string_view type;
    uint64_t revision = 0;
    if (!segment::PeekEventKey(record, r.header, &stream, &type, &revision)) {
      return Status::Corruption(segment.path, r.offset,
                                "event record body is malformed");
    }
    if (!streams_->Add(stream, revision, r.header.position)) {
      return Status::Corruption(segment.path, r.offset,
                                "revision " + std::to_string(revision) +
                                    " of stream '" + std::string(stream) +
                                    "' does not follow its previous one");
    }
    ids_.Insert(segment::PeekEventId(record), r.header.position);
  }
  return Status::Ok();
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

  // The old watermark says which positions were acknowledged durable; the
  // scan treats damage below it as corruption rather than a torn tail.
  std::unique_ptr<Watermark> old_watermark;
  if (fs_->Exists(io::JoinPath(dir_, kWatermarkFileName))) {
    auto old = Watermark::Open(fs_, dir_, 0, /*writable=*/false);
    if (old.ok()) old_watermark = std::move(old.value());
  }
  uint64_t durable_hint = 0;
  auto hint = [&](uint64_t store_id) {
    if (old_watermark && old_watermark->store_id() == store_id) {
      durable_hint = old_watermark->durable_next();
    }
    return durable_hint;
  };
  Status index_status;
  auto log =
      SegmentLog::Open(fs_, dir_, options_, /*writable=*/true, hint,
                       std::numeric_limits<uint64_t>::max(), RandomStoreId(),
                       [&](const Segment& segment,
                           std::span<const segment::ScannedRecord> records) {
                         if (index_status.ok())
                           index_status = IndexAppend(segment, records);
                       });
  if (!log.ok()) return log.status();
  if (!index_status.ok()) return index_status;
  log_ = std::move(log.value());
  old_watermark.reset();
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
  Status s = log_->SyncActive();
  if (!s.ok()) return s;
  synced_offset_ = log_->active().end_offset;
  last_sync_ = std::chrono::steady_clock::now();
  uint64_t next = log_->next_position();
  visible_next_ = next;
  durable_next_ = next;

  auto wm = Watermark::Open(fs_, dir_, log_->store_id(), /*writable=*/true);
  if (!wm.ok()) return wm.status();
  watermark_ = std::move(wm.value());
  watermark_->Publish(next, next);

  group_.start_offset = log_->active().end_offset;
  group_.next_position = next;
  committer_ = std::thread([this] { CommitLoop(); });
  // Read only by Enqueue, which runs after Open returns or on the commit
  // thread after a queue hand-off, both ordered after this store.
  committer_id_ = committer_.get_id();
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
  Status index_status;
  auto log = SegmentLog::Open(
      fs_, dir_, options_, /*writable=*/false, nullptr, limit, 0,
      [&](const Segment& segment,
          std::span<const segment::ScannedRecord> records) {
        if (index_status.ok()) index_status = IndexAppend(segment, records);
      });
  if (!log.ok()) return log.status();
  if (!index_status.ok()) return index_status;
  log_ = std::move(log.value());
  if (watermark_ && watermark_->store_id() != log_->store_id()) {
    return Status::Corruption(io::JoinPath(dir_, kWatermarkFileName), 16,
                              "watermark belongs to another store");
  }
  visible_next_ = log_->next_position();
  durable_next_ = log_->next_position();
  return Status::Ok();
}

Status StoreImpl::Refresh() {
  if (!options_.read_only || !watermark_) return Status::Ok();
  uint64_t limit = watermark_->visible_next();
  if (limit <= visible_next_.load(std::memory_order_acquire)) {
    return Status::Ok();
  }
  std::lock_guard<std::mutex> refresh(refresh_mu_);
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  Status index_status;
  Status s = log_->CatchUp(
      limit, [&](const Segment& segment,
                 std::span<const segment::ScannedRecord> records) {
        if (index_status.ok()) index_status = IndexAppend(segment, records);
      });
  if (!s.ok()) return s;
  if (!index_status.ok()) return index_status;
  visible_next_ = log_->next_position();
  durable_next_ = log_->next_position();
  return Status::Ok();
}

StoreImpl::~StoreImpl() { (void)Close(); }

}  // namespace cairn::engine
