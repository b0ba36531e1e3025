// Copyright (c) Cairn authors.
#include "engine/src/backup.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "engine/src/checkpoint_store.h"
#include "engine/src/small_file.h"
#include "segment/checksum.h"
#include "segment/durable_mark.h"
#include "segment/scavenged_segment.h"
#include "segment/segment_header.h"
#include "segment/segment_list.h"
#include "segment/segment_scan.h"

namespace cairn::engine {
namespace {

constexpr char kTempSuffix[] = ".backup-tmp";
constexpr char kLockName[] = "LOCK";
// A store that was opened for writing has one: such a directory is no
// longer a backup that later runs may extend.
constexpr char kWatermarkName[] = "watermark";
constexpr size_t kChunk = size_t{1} << 20;
// Checkpoint files are 32 bytes; anything much larger is not one.
constexpr size_t kMaxCheckpointFile = 4096;
constexpr uint64_t kManifestSeed = 0x424b5550;  // "BKUP"

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

std::string ParentDir(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return trimmed.substr(0, slash);
}

// BACKUP: which sealed segments the destination holds whole. Text, one
// item per line, ending with a checksum line over everything before it:
//   cairn-backup 2
//   store <store id>
//   end <end position>
//   sealed <segment number> <generation> <file size>  (one per sealed one)
//   checksum <XXH3-64, hex>
// Version 1 (older builds) has no generation in its sealed lines: 0, an
// original segment file.
constexpr int kManifestVersion = 2;

struct SealedFile {
  uint32_t generation = 0;
  uint64_t size = 0;
};

struct Manifest {
  uint64_t store_id = 0;
  uint64_t end_position = 0;
  std::map<uint64_t, SealedFile> sealed;  // by segment number
};

std::string EncodeManifest(const Manifest& m) {
  std::ostringstream out;
  out << "cairn-backup " << kManifestVersion << "\nstore " << m.store_id
      << "\nend " << m.end_position << "\n";
  for (const auto& [number, file] : m.sealed) {
    out << "sealed " << number << " " << file.generation << " " << file.size
        << "\n";
  }
  std::string body = out.str();
  std::ostringstream sum;
  sum << std::hex
      << segment::Checksum64(body.data(), body.size(), kManifestSeed);
  return body + "checksum " + sum.str() + "\n";
}

// nullopt when the text is not a whole, intact manifest (a later backup
// then copies everything again, which is always safe).
std::optional<Manifest> DecodeManifest(const std::string& text) {
  size_t last = text.rfind("checksum ");
  if (last == std::string::npos || (last > 0 && text[last - 1] != '\n')) {
    return std::nullopt;
  }
  const std::string body = text.substr(0, last);
  std::istringstream tail(text.substr(last + 9));
  uint64_t sum = 0;
  if (!(tail >> std::hex >> sum) ||
      sum != segment::Checksum64(body.data(), body.size(), kManifestSeed)) {
    return std::nullopt;
  }
  std::istringstream in(body);
  std::string word;
  int version = 0;
  Manifest m;
  if (!(in >> word >> version) || word != "cairn-backup" || version < 1 ||
      version > kManifestVersion) {
    return std::nullopt;
  }
  if (!(in >> word >> m.store_id) || word != "store") return std::nullopt;
  if (!(in >> word >> m.end_position) || word != "end") return std::nullopt;
  while (in >> word) {
    uint64_t number = 0;
    SealedFile file;
    if (word != "sealed" || !(in >> number)) return std::nullopt;
    if (version >= 2 && !(in >> file.generation)) return std::nullopt;
    if (!(in >> file.size)) return std::nullopt;
    m.sealed[number] = file;
  }
  return m;
}

class BackupRun {
 public:
  BackupRun(io::FileSystem* fs, const SegmentLog& log, std::string source,
            std::string destination, const BackupOptions& options)
      : fs_(fs),
        log_(log),
        source_(std::move(source)),
        dest_(std::move(destination)),
        options_(options) {}

  Result<BackupResult> Run(const std::vector<BackupSegment>& segments);

  // Reads the source's checkpoints now (before the caller takes its
  // snapshot), so that none names a position past the backup's end.
  Status ReadCheckpoints();
  // Creates and locks the destination and checks what it holds.
  Status Prepare();

 private:
  Status CheckDestination(uint64_t store_id, size_t segment_count);
  // What CopySegment wrote: the file's size, and the generation of the
  // segment copied (a scavenge may have replaced the snapshot's).
  struct Copied {
    uint64_t size = 0;
    uint32_t generation = 0;
  };
  // Copies one segment (the last one as the prefix the snapshot lists).
  Result<Copied> CopySegment(const BackupSegment& item, bool last);
  Status WriteCheckpoints();
  void Progress(uint64_t bytes) {
    done_ += bytes;
    if (options_.progress) options_.progress(done_, total_);
  }

  io::FileSystem* const fs_;
  const SegmentLog& log_;
  const std::string source_;
  const std::string dest_;
  const BackupOptions& options_;
  std::unique_ptr<io::FileLock> lock_;
  std::vector<std::pair<std::string, std::string>> checkpoints_;
  // Number -> the newest generation's file the destination holds.
  std::map<uint64_t, segment::SegmentFileId> dest_segments_;
  // Older generations there: removed once the manifest no longer needs
  // them.
  std::vector<std::string> dest_superseded_;
  std::optional<Manifest> manifest_;
  std::vector<uint8_t> zeros_ = std::vector<uint8_t>(kChunk, 0);
  uint64_t done_ = 0;
  uint64_t total_ = 0;
  BackupResult result_;
};

Status BackupRun::ReadCheckpoints() {
  const std::string dir = io::JoinPath(source_, kCheckpointDirName);
  if (!fs_->Exists(dir)) return Status::Ok();
  auto names = fs_->ListDir(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (!EndsWith(name, ".ckpt")) continue;  // temporaries of a save
    auto bytes =
        ReadSmallFile(fs_, io::JoinPath(dir, name), kMaxCheckpointFile);
    if (!bytes.ok()) {
      // Saved and replaced concurrently: a rename never leaves the name
      // missing, so any error is real.
      return bytes.status();
    }
    checkpoints_.emplace_back(name, std::move(*bytes));
  }
  return Status::Ok();
}

Status BackupRun::Prepare() {
  if (dest_.empty()) {
    return Status::InvalidArgument("backup destination is empty");
  }
  if (!fs_->Exists(dest_)) {
    Status s = fs_->CreateDir(dest_);
    if (s.ok()) s = fs_->SyncDir(ParentDir(dest_));
    if (!s.ok()) return s;
  }
  auto lock = fs_->LockFile(io::JoinPath(dest_, kLockName));
  if (!lock.ok()) {
    if (lock.status().code() == StatusCode::kLocked) {
      return Status::Locked("backup destination " + dest_ +
                            " is open by a store or another backup");
    }
    return lock.status();
  }
  lock_ = std::move(*lock);
  auto names = fs_->ListDir(dest_);
  if (!names.ok()) return names.status();
  std::vector<std::string> segment_names;
  for (const std::string& name : *names) {
    if (name == kLockName || name == kBackupManifestName ||
        name == kCheckpointDirName) {
      continue;
    }
    if (name == kWatermarkName) {
      return Status::InvalidArgument(
          "backup destination " + dest_ +
          " was opened as a store since its last backup; back up into an "
          "empty directory");
    }
    if (EndsWith(name, kTempSuffix)) {
      // Left by a backup that stopped mid-copy; never part of the store.
      Status s = fs_->RemoveFile(io::JoinPath(dest_, name));
      if (!s.ok()) return s;
      continue;
    }
    if (!segment::ParseAnySegmentFileName(name)) {
      return Status::InvalidArgument("backup destination " + dest_ + " holds " +
                                     name +
                                     ", which is not part of a Cairn backup");
    }
    segment_names.push_back(name);
  }
  segment::SegmentFileListing listing =
      segment::ListSegmentFiles(segment_names);
  for (const segment::SegmentFileId& id : listing.current) {
    dest_segments_[id.number] = id;
  }
  dest_superseded_ = std::move(listing.superseded);
  if (fs_->Exists(io::JoinPath(dest_, kBackupManifestName))) {
    auto text = ReadSmallFile(fs_, io::JoinPath(dest_, kBackupManifestName),
                              size_t{64} << 20);
    if (!text.ok()) return text.status();
    manifest_ = DecodeManifest(*text);
  }
  return fs_->SyncDir(dest_);
}

Status BackupRun::CheckDestination(uint64_t store_id, size_t segment_count) {
  if (!dest_segments_.empty() &&
      dest_segments_.rbegin()->first >= segment_count) {
    return Status::InvalidArgument(
        "backup destination " + dest_ + " holds segment " +
        std::to_string(dest_segments_.rbegin()->first) +
        ", beyond this store's log: it is not an older backup of this store");
  }
  if (manifest_ && manifest_->store_id != store_id) {
    return Status::InvalidArgument("backup destination " + dest_ +
                                   " holds a backup of another store");
  }
  if (!manifest_ && !dest_segments_.empty()) {
    // A first backup that stopped early: its segments are overwritten, but
    // only if they belong to this store.
    const std::string path = io::JoinPath(
        dest_, segment::SegmentFileName(dest_segments_.begin()->second));
    auto file = fs_->OpenFile(path, io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status();
    std::vector<uint8_t> bytes(segment::kSegmentHeaderSize);
    size_t got = 0;
    Status s = (*file)->Read(0, bytes.data(), bytes.size(), &got);
    if (!s.ok()) return s;
    segment::SegmentHeader header;
    segment::ScavengedFields fields;
    s = segment::DecodeAnySegmentHeader(bytes.data(), got, path, &header,
                                        &fields);
    if (!s.ok() || header.store_id != store_id) {
      return Status::InvalidArgument("backup destination " + dest_ +
                                     " holds segments of another store");
    }
  }
  return Status::Ok();
}

Result<BackupRun::Copied> BackupRun::CopySegment(const BackupSegment& item,
                                                 bool last) {
  auto pinned = log_.Pin(item.segment);
  if (!pinned.ok()) return pinned.status();
  // A scavenge that replaced the segment since the snapshot (its file is
  // gone) leaves Pin its successor, which covers the same positions: that
  // one is copied, under its own name and generation, and whole (a
  // rewritten segment is sealed and ends where its file does).
  const Segment& seg = **pinned;
  const bool replaced = pinned->segment() != item.segment;
  const uint8_t* data = pinned->data();
  const uint64_t size = pinned->mapped_size();
  const uint64_t end_offset = replaced ? size : item.end_offset;
  if (end_offset > size || size < segment::kSegmentHeaderSize ||
      (replaced && (last || !seg.scavenged()))) {
    return Status::Corruption(seg.path, size,
                              "segment shorter than its records");
  }
  // A scavenged segment is copied under its own name: a store opened from
  // the backup lists it (the newest generation) as the source does.
  const std::string name = segment::SegmentFileName(
      segment::SegmentFileId{seg.header.segment_number, seg.generation});
  const std::string path = io::JoinPath(dest_, name);
  const std::string temp = path + kTempSuffix;
  auto file = fs_->OpenFile(temp, io::OpenMode::kCreate);
  if (!file.ok()) return file.status();
  io::File& out = **file;
  Status s = out.Truncate(0);
  if (!s.ok()) return s;

  // The header page; a prefix's mark slots name exactly the copied part.
  // The last segment may be the writer's active one, whose slots it
  // rewrites in place meanwhile: they are not read (the others are sealed,
  // never written again).
  static_assert(segment::kDurableMarkOffsets[0] <
                segment::kDurableMarkOffsets[1]);
  std::vector<uint8_t> header(segment::kSegmentHeaderSize, 0);
  if (last && segment::HasDurableMarks(seg.header)) {
    uint32_t from = 0;
    for (uint32_t slot : segment::kDurableMarkOffsets) {
      std::memcpy(header.data() + from, data + from, slot - from);
      from = slot + segment::kDurableMarkSize;
    }
    std::memcpy(header.data() + from, data + from,
                segment::kSegmentHeaderSize - from);
    segment::DurableMark mark;
    mark.sequence = 1;
    mark.end_offset = static_cast<uint32_t>(end_offset);
    mark.flags = segment::kMarkFlagClosed;
    mark.next_position = item.end_position;
    segment::EncodeDurableMark(mark, seg.seed,
                               header.data() + segment::DurableMarkOffset(1));
  } else {
    std::memcpy(header.data(), data, header.size());
  }
  s = out.Write(0, header.data(), header.size());
  // The records, then zeros: the format's preallocated, zero-filled tail.
  for (uint64_t off = segment::kSegmentHeaderSize; s.ok() && off < size;) {
    const uint64_t n = std::min<uint64_t>(
        kChunk, off < end_offset ? end_offset - off : size - off);
    s = out.Write(off, off < end_offset ? data + off : zeros_.data(), n);
    off += n;
  }
  if (s.ok()) s = out.Sync();
  if (!s.ok()) return s;

  // Verify what landed: every record's checksums, the positions, the
  // zeros after them and (for the prefix) the mark.
  auto map = out.Map(0, size);
  if (!map.ok()) return map.status();
  segment::SegmentScanOptions scan;
  scan.is_last = last;
  scan.durable_position_end = item.end_position;
  segment::SegmentScanResult found;
  if (seg.scavenged()) {
    // Complete, with gaps: its own scan, and it ends where its file does.
    segment::SegmentHeader header;
    segment::ScavengedFields fields;
    s = segment::ScanScavengedSegment((*map)->data(), size, seg.path, nullptr,
                                      &header, &fields);
    found.end_offset = size;
    found.next_position = fields.end_position;
  } else {
    s = segment::ScanSegment((*map)->data(), size, seg.header, seg.path, scan,
                             [](std::span<const segment::ScannedRecord>) {},
                             &found);
  }
  if (!s.ok()) return s;
  if (found.end_offset != end_offset ||
      found.next_position != item.end_position || found.torn_tail) {
    return Status::Corruption(seg.path, found.end_offset,
                              "records end before the position the store "
                              "has listed");
  }
  map->reset();
  s = out.Close();
  if (s.ok()) s = fs_->Rename(temp, path);
  if (s.ok()) s = fs_->SyncDir(dest_);
  if (!s.ok()) return s;
  return Copied{size, seg.generation};
}

Status BackupRun::WriteCheckpoints() {
  if (checkpoints_.empty()) return Status::Ok();
  const std::string dir = io::JoinPath(dest_, kCheckpointDirName);
  if (!fs_->Exists(dir)) {
    Status s = fs_->CreateDir(dir);
    if (s.ok()) s = fs_->SyncDir(dest_);
    if (!s.ok()) return s;
  }
  for (const auto& [name, bytes] : checkpoints_) {
    Status s = ReplaceFile(fs_, dir, name, kTempSuffix, bytes);
    if (!s.ok()) return s;
    ++result_.files_copied;
    result_.bytes_copied += bytes.size();
  }
  return Status::Ok();
}

Result<BackupResult> BackupRun::Run(
    const std::vector<BackupSegment>& segments) {
  if (segments.empty()) return Status::InvalidArgument("no segments");
  const uint64_t store_id = segments.front().segment->header.store_id;
  Status s = CheckDestination(store_id, segments.size());
  if (!s.ok()) return s;

  // Sealed segments never change: one the destination holds whole (as an
  // older run recorded) is kept. The last one is always copied again.
  std::vector<bool> reuse(segments.size(), false);
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const Segment& seg = *segments[i].segment;
    const uint64_t number = seg.header.segment_number;
    if (!manifest_ || !dest_segments_.count(number)) continue;
    auto it = manifest_->sealed.find(number);
    // A scavenge rewrote it since (a newer generation): copied again.
    if (it == manifest_->sealed.end() ||
        it->second.generation != seg.generation ||
        dest_segments_[number].generation != seg.generation) {
      continue;
    }
    auto file = fs_->OpenFile(
        io::JoinPath(dest_, segment::SegmentFileName(dest_segments_[number])),
        io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status();
    auto size = (*file)->Size();
    if (!size.ok()) return size.status();
    reuse[i] = *size == it->second.size;
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!reuse[i]) total_ += segments[i].end_offset;
  }

  Manifest next;
  next.store_id = store_id;
  next.end_position = segments.back().end_position;
  for (size_t i = 0; i < segments.size(); ++i) {
    const bool last = i + 1 == segments.size();
    const BackupSegment& item = segments[i];
    const uint64_t number = item.segment->header.segment_number;
    uint64_t file_size = 0;
    uint32_t generation = item.segment->generation;
    if (reuse[i]) {
      file_size = manifest_->sealed[number].size;
      ++result_.files_reused;
      result_.bytes_reused += item.end_offset;
    } else {
      auto written = CopySegment(item, last);
      if (!written.ok()) return written.status();
      file_size = written->size;
      generation = written->generation;
      ++result_.files_copied;
      result_.bytes_copied += item.end_offset;
      Progress(item.end_offset);
    }
    if (!last) next.sealed[number] = {generation, file_size};
    if (dest_segments_.count(number) &&
        dest_segments_[number].generation != generation) {
      // The destination's older file of this number (a generation the
      // source replaced): garbage once the new manifest is written.
      dest_superseded_.push_back(
          segment::SegmentFileName(dest_segments_[number]));
    }
  }
  s = WriteCheckpoints();
  if (s.ok()) {
    s = ReplaceFile(fs_, dest_, kBackupManifestName, kTempSuffix,
                    EncodeManifest(next));
  }
  // A crash before this leaves both files: a store opened from the backup
  // lists the newest generation, as the source does.
  for (size_t i = 0; s.ok() && i < dest_superseded_.size(); ++i) {
    s = fs_->RemoveFile(io::JoinPath(dest_, dest_superseded_[i]));
  }
  if (s.ok() && !dest_superseded_.empty()) s = fs_->SyncDir(dest_);
  if (!s.ok()) return s;
  result_.end_position = GlobalPosition(next.end_position);
  return result_;
}

}  // namespace

Result<BackupResult> RunBackup(io::FileSystem* fs, const SegmentLog& log,
                               const std::string& source_dir,
                               const std::string& destination,
                               const BackupOptions& options,
                               const BackupSnapshot& snapshot) {
  BackupRun run(fs, log, source_dir, destination, options);
  Status s = run.Prepare();
  if (s.ok()) s = run.ReadCheckpoints();
  if (!s.ok()) return s;
  auto segments = snapshot();
  if (!segments.ok()) return segments.status();
  return run.Run(*segments);
}

}  // namespace cairn::engine
