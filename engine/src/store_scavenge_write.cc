// Copyright (c) Cairn authors.
//
// Scavenging, the part that writes: the rewritten copy of one sealed
// segment, under a name no reader lists (`.scv`) until a SCAVENGE file
// commits it (docs/format.md, "The SCAVENGE file").
#include <memory>
#include <string>

#include "engine/src/small_file.h"
#include "engine/src/store_impl.h"
#include "segment/scavenged_segment.h"

namespace cairn::engine {
namespace {

// The generation of the file a segment is read from now: 0 for an original
// segment, N for a `.gNNNN.seg` rewrite.
uint32_t GenerationOfPath(const std::string& path) {
  const std::string_view full = path;
  const size_t slash = full.rfind('/');
  const std::string_view name =
      slash == std::string_view::npos ? full : full.substr(slash + 1);
  auto parsed = ParseScavengedSegmentFileName(name);
  return parsed ? parsed->generation : 0;
}

}  // namespace

Result<ScavengeUnitEntry> StoreImpl::WriteScavengedUnit(
    uint64_t unit, ScavengePlanner* planner,
    segment::ScavengeCopyStats* stats) {
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
  fields.generation = GenerationOfPath(seg->path) + 1;
  Status failure;
  std::string bytes;
  Status s = segment::BuildScavengedSegment(
      mapped.data(), mapped.mapped_size(), seg->header, seg->path, fields,
      [&](const segment::ScannedRecord& r, const uint8_t* record) {
        if (!failure.ok()) return true;
        auto removable =
            planner->RemovableRecord(record, r.header, seg->path, r.offset);
        if (!removable.ok()) {
          failure = removable.status();
          return true;
        }
        return !*removable;
      },
      &bytes, stats);
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;

  const std::string path =
      io::JoinPath(dir_, ScavengedSegmentFileName(unit, fields.generation) +
                             kScavengeWriteSuffix);
  s = WriteFileSynced(fs_, path, bytes);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) return s;
  // Read back: what the commit will name is what the file holds, not the
  // buffer it was written from. A copy is never larger than its source.
  auto written = ReadSmallFile(fs_, path, mapped.mapped_size());
  if (!written.ok()) return written.status();
  segment::SegmentHeader header;
  segment::ScavengedFields read_fields;
  s = segment::ScanScavengedSegment(
      reinterpret_cast<const uint8_t*>(written->data()), written->size(), path,
      nullptr, &header, &read_fields);
  if (!s.ok()) return s;
  if (*written != bytes) {
    return Status::Corruption(
        path, 0, "scavenged segment differs from what was written");
  }
  ScavengeUnitEntry entry;
  entry.number = unit;
  entry.generation = fields.generation;
  entry.size = written->size();
  entry.hash = ScavengeFileHash(*written);
  return entry;
}

Status StoreImpl::DiscardUnfinishedScavenge() {
  const std::string commit_path = io::JoinPath(dir_, kScavengeFileName);
  if (fs_->Exists(commit_path)) {
    // Far larger than any commit of a log of 10^6 segments.
    auto text = ReadSmallFile(fs_, commit_path, size_t{64} << 20);
    if (!text.ok()) return text.status();
    if (!DecodeScavengeCommit(*text)) {
      return Status::Corruption(commit_path, 0,
                                "the scavenge commit file does not verify");
    }
    return Status::NotSupported(
        commit_path +
        ": a committed scavenge that this build cannot finish is pending");
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
