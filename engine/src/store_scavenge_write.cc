// Copyright (c) Cairn authors.
//
// Scavenging, the part that writes: the rewritten copy of one sealed
// segment, under a name no reader lists (`.scv`) until a SCAVENGE file
// commits it (docs/format.md, "The SCAVENGE file").
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/src/small_file.h"
#include "engine/src/store_impl.h"
#include "segment/checksum.h"
#include "segment/scavenged_segment.h"

namespace cairn::engine {

namespace {

// Writes a scavenged copy into its `.scv` file as StreamScavengedSegment
// makes it, fdatasyncing every `bytes_per_sync` bytes (0: only when told),
// and fills the unit's remap from the kept records. It keeps the header
// region and a checksum of the records it wrote, so that the file can be
// compared with them.
class UnitFileSink : public segment::ScavengedCopySink {
 public:
  UnitFileSink(io::File* file, uint64_t bytes_per_sync,
               std::function<void()> rest, UnitRemap* remap)
      : file_(file),
        bytes_per_sync_(bytes_per_sync),
        rest_(std::move(rest)),
        remap_(remap) {}

  Status Write(uint64_t offset, const uint8_t* bytes, size_t size) override {
    if (!failed_.ok()) return failed_;
    if (offset == 0) {
      header_.assign(reinterpret_cast<const char*>(bytes), size);
    } else {
      records_hash_.Update(bytes, size);
    }
    // In pieces that end where a sync is due, so that no more than
    // bytes_per_sync of the copy is ever unsynced.
    while (size > 0) {
      size_t n = size;
      if (bytes_per_sync_ != 0) {
        n = static_cast<size_t>(
            std::min<uint64_t>(n, bytes_per_sync_ - unsynced_));
      }
      Status s = file_->Write(offset, bytes, n);
      if (!s.ok()) return failed_ = s;
      unsynced_ += n;
      offset += n;
      bytes += n;
      size -= n;
      if (bytes_per_sync_ != 0 && unsynced_ == bytes_per_sync_) {
        s = Sync();
        if (!s.ok()) return s;
      }
    }
    return Status::Ok();
  }
  void Kept(const segment::ScannedRecord& r) override {
    remap_->Keep(r.header.position, static_cast<uint32_t>(r.offset));
  }

  // fdatasyncs what was written since the last one, then rests. After a
  // failure nothing more is written or synced (a failed fdatasync is
  // never retried): the caller gives the file up.
  Status Sync() {
    if (!failed_.ok()) return failed_;
    Status s = file_->Sync();
    if (!s.ok()) return failed_ = s;
    unsynced_ = 0;
    rest_();
    return Status::Ok();
  }
  uint64_t unsynced() const { return unsynced_; }
  const std::string& header() const { return header_; }
  uint64_t records_hash() const { return records_hash_.Digest(); }

 private:
  io::File* file_;
  uint64_t bytes_per_sync_;
  std::function<void()> rest_;
  UnitRemap* remap_;
  uint64_t unsynced_ = 0;
  std::string header_;
  segment::StreamingChecksum64 records_hash_{0};
  Status failed_;
};

}  // namespace

Result<ScavengeUnitEntry> StoreImpl::WriteScavengedUnit(
    uint64_t unit, ScavengePlanner* planner, segment::ScavengeCopyStats* stats,
    std::optional<UnitRemap>* remap, ScavengeWriting* writing) {
  ScavengeWriting own;
  if (writing == nullptr) writing = &own;
  auto rest = [writing] {
    if (writing->pacer != nullptr) writing->pacer->Rest();
  };
  std::shared_ptr<Segment> seg;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    const auto& listed = log_->segments();
    // The last listed segment is the active one, never rewritten.
    for (size_t i = 0; i + 1 < listed.size(); ++i) {
      if (listed[i]->header.segment_number == unit) seg = listed[i];
    }
  }
  if (!seg) {
    return Status::InvalidArgument("segment " + std::to_string(unit) +
                                   " is not a sealed segment of the log");
  }
  auto pinned = log_->Pin(seg);
  if (!pinned.ok()) return pinned.status();
  const MappedSegment& mapped = *pinned;

  segment::ScavengedFields fields;
  fields.end_position = seg->end_position;
  fields.generation = seg->generation + 1;
  const std::string path = io::JoinPath(
      dir_, segment::ScavengedSegmentFileName(unit, fields.generation) +
                kScavengeWriteSuffix);
  auto file = fs_->OpenFile(path, io::OpenMode::kCreate);
  if (!file.ok()) return file.status();
  // A failed unit leaves no file behind. No commit names it, so its
  // removal is not synced here: should a crash bring it back, the next
  // open removes it.
  auto give_up = [&](Status failed) {
    file->reset();
    (void)fs_->RemoveFile(path);
    return failed;
  };
  // A leftover file (of a stopped run) may be longer than the copy.
  Status s = (*file)->Truncate(0);
  if (!s.ok()) return give_up(s);
  // The remap comes from the copy's records, as readers will see them.
  std::optional<UnitRemap> unused;
  if (remap == nullptr) remap = &unused;
  remap->emplace(seg->header.first_position, seg->end_position);
  UnitFileSink sink(file->get(), writing->bytes_per_sync, rest, &**remap);
  // The copy is made, checked and written a piece at a time: each record
  // is checked as readers will meet it (checksum, position, link) before
  // its piece is written, and the header with its mark last.
  segment::ScavengedCopyOutput output;
  output.file = path;
  output.piece_size = kScavengePieceSize;
  output.piece = &writing->piece;
  output.sink = &sink;
  Status failure;
  segment::EventDecoder decoder(mapped.data() + segment::kSegmentHeaderSize,
                                seg->seed);
  uint64_t copy_size = 0;
  s = segment::StreamScavengedSegment(
      mapped.data(), mapped.mapped_size(), seg->header, seg->path, fields,
      [&](const segment::ScannedRecord& r, const uint8_t* record) {
        // After a failure nothing more is copied: the unit is given up.
        if (!failure.ok()) return false;
        auto removable = planner->RemovableRecord(&decoder, record, r.header,
                                                  seg->path, r.offset);
        if (!removable.ok()) {
          failure = removable.status();
          return false;
        }
        return !*removable;
      },
      output, stats, &copy_size);
  if (s.ok()) s = failure;
  // With bytes_per_sync 0, or after the header, one last fdatasync.
  if (s.ok() && sink.unsynced() > 0) s = sink.Sync();
  if (s.ok()) s = (*file)->Close();
  if (s.ok()) s = SyncStoreDirectory();
  if (!s.ok()) return give_up(s);
  // The copy ends at its last record (its header comes first).
  (*remap)->Finish(static_cast<uint32_t>(copy_size));
  // The file is read back once, a piece at a time: for the hash its unit
  // line names (which the open that finishes a committed scavenge checks
  // before it renames the file), and to check that it holds the bytes the
  // checks above accepted: the header region as written, and records
  // with the checksum of those written.
  static_assert(kScavengePieceSize >= segment::kSegmentHeaderSize,
                "the first piece read holds the header region");
  bool header_matches = false;
  segment::StreamingChecksum64 records_read(0);
  auto hash = ScavengeFileHashOf(
      fs_, path, copy_size, kScavengePieceSize, &writing->piece,
      [&](uint64_t offset, std::string_view bytes) {
        size_t skip = 0;
        if (offset == 0) {
          // A piece holds at least the header region.
          skip = segment::kSegmentHeaderSize;
          header_matches = bytes.substr(0, skip) == sink.header();
        }
        records_read.Update(bytes.data() + skip, bytes.size() - skip);
      });
  if (!hash.ok()) return give_up(hash.status());
  if (!header_matches || records_read.Digest() != sink.records_hash()) {
    return give_up(Status::Corruption(
        path, 0, "the scavenged segment file differs from the copy written"));
  }
  rest();
  ScavengeUnitEntry entry;
  entry.number = unit;
  entry.generation = fields.generation;
  entry.size = copy_size;
  entry.hash = *hash;
  return entry;
}

namespace {

// Installs staged tables into the closed index in `dir` (`install` is the
// index's function for it). An index that is not the one they were
// staged against (or a staged table that is damaged) loses its manifest:
// the open then rebuilds it from the log, which is the truth.
Status FinishIndex(io::FileSystem* fs, const std::string& dir,
                   const index::StagedTables& staged,
                   Status (*install)(io::FileSystem*, const std::string&,
                                     const index::StagedTables&)) {
  if (staged.numbers.empty()) return Status::Ok();
  Status s = install(fs, dir, staged);
  if (s.ok() || s.IsNotFound()) return Status::Ok();
  if (!s.IsCorruption()) return s;
  s = fs->RemoveFile(io::JoinPath(dir, index::kManifestFileName));
  if (!s.ok() && !s.IsNotFound()) return s;
  return fs->SyncDir(dir);
}

}  // namespace

Status StoreImpl::FinishCommittedScavenge(const ScavengeCommit& commit) {
  std::string buffer;  // a piece of the file being hashed
  for (const ScavengeUnitEntry& unit : commit.units) {
    const std::string final_path = io::JoinPath(
        dir_, segment::ScavengedSegmentFileName(unit.number, unit.generation));
    if (fs_->Exists(final_path)) continue;  // renamed before the crash
    const std::string scv_path = final_path + kScavengeWriteSuffix;
    if (!fs_->Exists(scv_path)) {
      return Status::Corruption(
          scv_path, 0, "a segment the committed scavenge rewrote is missing");
    }
    auto hash = ScavengeFileHashOf(fs_, scv_path, unit.size, kScavengePieceSize,
                                   &buffer);
    if (!hash.ok() && !hash.status().IsCorruption()) return hash.status();
    if (!hash.ok() || *hash != unit.hash) {
      return Status::Corruption(scv_path, 0,
                                "a segment the committed scavenge rewrote "
                                "does not match its size and hash");
    }
    Status s = fs_->Rename(scv_path, final_path);
    if (!s.ok()) return s;
  }
  // Always: the crashed writer may have renamed every file without syncing
  // the directory, and SCAVENGE, removed below, must not outlive them.
  if (Status s = fs_->SyncDir(dir_); !s.ok()) return s;
  const std::string index_dir = io::JoinPath(dir_, kIndexDirName);
  Status s = FinishIndex(fs_, index_dir, commit.index_tables,
                         &index::InstallStagedTables);
  if (s.ok()) {
    s = FinishIndex(fs_, io::JoinPath(index_dir, kLinkIndexDirName),
                    commit.link_tables, &index::LinkIndex::InstallStaged);
  }
  if (!s.ok()) return s;
  // Older generations of the rewritten segments go when the log is listed.
  s = fs_->RemoveFile(io::JoinPath(dir_, kScavengeFileName));
  if (s.ok()) s = fs_->SyncDir(dir_);
  return s;
}

Status StoreImpl::DiscardUnfinishedScavenge() {
  const std::string commit_path = io::JoinPath(dir_, kScavengeFileName);
  if (fs_->Exists(commit_path)) {
    // Far larger than any commit of a log of 10^6 segments.
    auto text = ReadSmallFile(fs_, commit_path, size_t{64} << 20);
    if (!text.ok()) return text.status();
    auto commit = DecodeScavengeCommit(*text);
    if (!commit) {
      return Status::Corruption(commit_path, 0,
                                "the scavenge commit file does not verify");
    }
    Status s = FinishCommittedScavenge(*commit);
    if (!s.ok()) return s;
  }
  auto names = fs_->ListDir(dir_);
  if (!names.ok()) return names.status();
  const std::string scv_suffix = std::string(".seg") + kScavengeWriteSuffix;
  const std::string temp_name =
      std::string(kScavengeFileName) + kScavengeTempSuffix;
  bool removed = false;
  for (const std::string& name : *names) {
    const bool scv = name.size() > scv_suffix.size() &&
                     name.compare(name.size() - scv_suffix.size(),
                                  scv_suffix.size(), scv_suffix) == 0;
    if (!scv && name != temp_name) continue;
    Status s = fs_->RemoveFile(io::JoinPath(dir_, name));
    if (!s.ok()) return s;
    removed = true;
  }
  return removed ? fs_->SyncDir(dir_) : Status::Ok();
}

}  // namespace cairn::engine
