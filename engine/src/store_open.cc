// Copyright (c) Cairn authors.
//
// Opening a store: the writer takes the lock, lists the log, runs crash
// recovery (recovery.h), makes the recovered end durable and starts its
// threads; the read-only opener does the same without writing and follows
// a live writer from another process (follower_refresh.h).
#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/src/report.h"
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
      checkpoints_(fs, dir_, &fail_stop_) {}

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

void StoreImpl::AdoptIndexes(Recovery* recovery) {
  index_ = recovery->TakeIndex();
  links_ = recovery->TakeLinks();
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
  Recovery recovery(fs_, dir_, options_, log_.get(), locator_.get());
  s = recovery.OpenIndexes(/*read_only=*/false, &durable_next_);
  if (s.ok()) {
    s = recovery.Replay(durable_hint, std::numeric_limits<uint64_t>::max());
  }
  if (!s.ok()) return s;
  recovery.FindSealedEnds();
  AdoptIndexes(&recovery);
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
  uint64_t next = log_->next_position();
  visible_next_ = next;
  // From here the index may list what it replayed: it is durable.
  MarkDurable(next);

  CommitPipeline::Target target;
  target.dir = dir_;
  target.options = &options_;
  target.log = log_.get();
  target.locator = locator_.get();
  target.index = index_.get();
  target.links = links_.get();
  target.state_mu = &state_mu_;
  target.visible_next = &visible_next_;
  target.durable_next = &durable_next_;
  target.mark_durable = [this](uint64_t durable) { MarkDurable(durable); };
  target.activity = &activity_;
  target.fail_stop = &fail_stop_;
  pipeline_ = std::make_unique<CommitPipeline>(std::move(target));
  s = pipeline_->MarkRecoveredEnd();
  if (!s.ok()) return s;

  auto wm = Watermark::Open(fs_, dir_, log_->store_id(), /*writable=*/true);
  if (!wm.ok()) return wm.status();
  watermark_ = std::move(wm.value());
  watermark_->Publish(next, next);
  pipeline_->Start(watermark_.get());
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
  Recovery recovery(fs_, dir_, options_, log_.get(), locator_.get());
  Status s = recovery.OpenIndexes(/*read_only=*/true, /*durable=*/nullptr);
  if (!s.ok()) return s;
  // The writer lists only durable events in the index, possibly published
  // after the watermark was read above.
  limit = std::max(limit, recovery.index()->next_position());
  if (recovery.links()) {
    limit = std::max(limit, recovery.links()->next_position());
  }
  // Beside a live writer, index in memory no more than a follower may hold
  // (Refresh goes on from there as the writer's tables catch up).
  if (writer_live) {
    limit =
        std::min(limit, FollowerRefresh::IndexEnd(*recovery.index(), options_));
  }
  s = recovery.Replay(0, limit);
  if (!s.ok()) return s;
  recovery.FindSealedEnds();
  AdoptIndexes(&recovery);
  visible_next_ = log_->next_position();
  MarkDurable(log_->next_position());
  if (watermark_) {
    FollowerRefresh::Target target;
    target.log = log_.get();
    target.index = index_.get();
    target.links = links_.get();
    target.state_mu = &state_mu_;
    target.listed_end = &visible_next_;
    target.publish = [this](uint64_t next) {
      visible_next_ = next;
      MarkDurable(next);
    };
    refresh_ = std::make_unique<FollowerRefresh>(fs_, dir_, options_,
                                                 watermark_.get(), target);
  }
  return Status::Ok();
}

StoreImpl::~StoreImpl() { (void)Close(); }

}  // namespace cairn::engine
