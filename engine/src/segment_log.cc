// Copyright (c) Cairn authors.
#include "engine/src/segment_log.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "engine/src/report.h"
#include "engine/src/wall_clock.h"
#include "segment/checksum.h"
#include "segment/durable_mark.h"
#include "segment/record.h"
#include "segment/scavenged_segment.h"
#include "segment/segment_list.h"

namespace cairn::engine {
namespace {

// Whether `file` reads as zeros in [begin, end).
bool ReadsAsZeros(io::File* file, uint64_t begin, uint64_t end) {
  std::vector<uint8_t> chunk(1u << 20);
  for (uint64_t at = begin; at < end;) {
    size_t got = 0;
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(chunk.size(), end - at));
    if (!file->Read(at, chunk.data(), want, &got).ok() || got == 0) {
      return false;
    }
    if (segment::FirstNonZero(chunk.data(), got) != got) return false;
    at += got;
  }
  return true;
}

Status ActiveReplaced(const Segment& active) {
  return Status::IOError("the active segment " + active.path +
                         " was replaced on disk by a roll that did not "
                         "complete; reopen the store");
}

}  // namespace

Status SegmentLog::DropUnsureCache() {
  if (segments_.empty()) return Status::Ok();
  std::shared_ptr<Segment> seg = segments_.back();
  // The mark read through the file when the segment was listed, before
  // any cache is dropped (as a mapping would show it now to a writer, which
  // has no other writer beside it). A reader does not read the slots from
  // a mapping: a writer may have opened since and be rewriting them. An
  // older mark is still true (written only after its records' sync).
  const std::optional<segment::DurableMark>& mark = seg->listed_mark;
  if (mark && mark->closed()) return Status::Ok();
  const uint64_t from = mark ? mark->end_offset : segment::kSegmentHeaderSize;
  // A read-only opener has no file of its own for the segment.
  std::unique_ptr<io::File> reader;
  io::File* file = seg->file.get();
  if (file == nullptr) {
    auto opened = fs_->OpenFile(seg->path, io::OpenMode::kReadOnly);
    if (!opened.ok()) return opened.status();
    reader = std::move(opened.value());
    file = reader.get();
  }
  auto size = file->Size();
  if (!size.ok()) return size.status();
  if (*size <= from) return Status::Ok();
  // The kernel keeps pages some process maps: unmap ours first. It also
  // drops only the folios that lie wholly inside the range, and the folio
  // holding the mark (up to 2 MiB: segment_preparer.cc) starts before it:
  // so the whole file's cache goes. The durable bytes before the mark are
  // read back from the device, which holds them.
  (void)cache_.Take(seg->path);
  if (seg->file == nullptr) return file->DropCache(0, *size);
  {
    std::lock_guard<std::mutex> lock(active_mu_);
    seg->map.reset();
  }
  Status s = file->DropCache(0, *size);
  Status mapped = MapSegment(seg.get());
  return s.ok() ? mapped : s;
}

Status SegmentLog::RepairActive(Segment* seg,
                                const segment::SegmentScanResult& result) {
  const uint64_t capacity = seg->header.capacity;
  auto size = seg->file->Size();
  if (!size.ok()) return size.status();
  uint64_t zero_begin = UINT64_MAX;
  uint64_t zero_end = 0;
  if (result.torn_tail) {
    zero_begin = result.end_offset;
    zero_end =
        zero_begin + segment::EndOfNonZero(seg->map->data() + zero_begin,
                                           seg->map->size() - zero_begin);
  }
  const bool short_file = *size < capacity;
  if (short_file) {
    // Cut short outside the engine, or by a torn-tail repair that ran out
    // of space: mapped at this size, appends past it could not be read.
    zero_begin = std::min(zero_begin, *size);
    zero_end = capacity;
  }
  if (zero_begin >= zero_end) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(active_mu_);
    seg->map.reset();
  }
  Status s;
  if (short_file) {
    s = seg->file->Allocate(capacity);
    if (!s.ok()) {
      const std::string why =
          "the active segment " + seg->path + " is " + std::to_string(*size) +
          " bytes, short of its capacity " + std::to_string(capacity) +
          ", and could not be extended: " + s.message();
      s = s.IsNoSpace() ? Status::NoSpace(why)
                        : Status::IOError(why, s.errno_value());
    }
  }
  // Zeroing (rather than truncating) a torn tail discards it just as well
  // and keeps the zero-filled extents behind it.
  if (s.ok()) s = WriteZeros(seg->file.get(), zero_begin, zero_end);
  if (s.ok()) s = seg->file->Sync();
  if (s.ok() && short_file) {
    Report(options_, LogLevel::kWarning,
           "extended the active segment " + seg->path + " from " +
               std::to_string(*size) + " bytes to its capacity " +
               std::to_string(capacity));
  }
  if (s.ok() && result.torn_tail) {
    Report(options_, LogLevel::kWarning,
           "cut off a torn tail of " + seg->path + ": zeroed bytes " +
               std::to_string(result.end_offset) + " to " +
               std::to_string(zero_end) +
               " after the last whole record (the log ends at position " +
               std::to_string(result.next_position) + ")");
  }
  Status mapped = MapSegment(seg);
  return s.ok() ? mapped : s;
}

Status SegmentLog::MapSegment(Segment* segment) {
  {
    std::lock_guard<std::mutex> lock(active_mu_);
    segment->map.reset();
  }
  auto size = segment->file->Size();
  if (!size.ok()) return size.status();
  auto map = segment->file->Map(0, *size);
  if (!map.ok()) return map.status();
  std::lock_guard<std::mutex> lock(active_mu_);
  segment->map = std::move(map.value());
  return Status::Ok();
}

Result<std::shared_ptr<Segment>> SegmentLog::LoadSegment(
    segment::SegmentFileId id, segment::ScavengedFields* fields_out) const {
  auto segment = std::make_shared<Segment>();
  segment->path = io::JoinPath(dir_, segment::SegmentFileName(id));
  auto file = fs_->OpenFile(segment->path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  std::vector<uint8_t> bytes(segment::kSegmentHeaderSize);
  size_t got = 0;
  Status s = (*file)->Read(0, bytes.data(), bytes.size(), &got);
  if (!s.ok()) return s;
  // Read-only, nothing to lose: a close error changes nothing read.
  (void)(*file)->Close();
  segment::ScavengedFields fields;
  s = segment::DecodeAnySegmentHeader(bytes.data(), got, segment->path,
                                      &segment->header, &fields);
  if (!s.ok()) return s;
  if (fields.generation != id.generation) {
    return Status::Corruption(
        segment->path, 0,
        "segment header says generation " + std::to_string(fields.generation) +
            " but the file name says " + std::to_string(id.generation));
  }
  segment->generation = fields.generation;
  segment->seed = segment->header.Seed();
  segment->listed_mark =
      segment::NewestDurableMark(bytes.data(), got, segment->header);
  segment->end_position = segment->header.first_position;
  if (segment->scavenged()) {
    // Complete by construction (synced whole before its commit), so its
    // end is known without a scan; reads verify each record they use.
    segment->end_position = fields.end_position;
    segment->end_offset = segment->header.capacity;
  }
  if (fields_out != nullptr) *fields_out = fields;
  return segment;
}

Result<std::shared_ptr<Segment>> SegmentLog::FindSuccessor(
    const Segment& old) const {
  auto names = fs_->ListDir(dir_);
  if (!names.ok()) return names.status();
  for (const segment::SegmentFileId& id :
       segment::ListSegmentFiles(*names).current) {
    if (id.number != old.header.segment_number) continue;
    if (id.generation <= old.generation) break;
    auto loaded = LoadSegment(id);
    if (!loaded.ok()) return loaded.status();
    const Segment& found = **loaded;
    if (found.header.store_id != old.header.store_id ||
        found.header.first_position != old.header.first_position) {
      return Status::Corruption(found.path, 0,
                                "a newer generation of " + old.path +
                                    " does not cover the same positions");
    }
    return loaded;
  }
  return std::shared_ptr<Segment>();
}

Result<std::shared_ptr<Segment>> SegmentLog::LoadGeneration(
    uint64_t number, uint32_t generation) const {
  return LoadSegment(segment::SegmentFileId{number, generation});
}

Result<std::shared_ptr<Segment>> SegmentLog::Replace(
    std::shared_ptr<Segment> successor) {
  const uint64_t number = successor->header.segment_number;
  const uint64_t first_number = segments_.front()->header.segment_number;
  // Numbering is gapless (segment_list.h): the entry is found by number.
  if (number < first_number || number - first_number + 1 >= segments_.size()) {
    return Status::InvalidArgument("segment " + std::to_string(number) +
                                   " is not a sealed segment of the log");
  }
  const std::shared_ptr<Segment>& old =
      segments_[static_cast<size_t>(number - first_number)];
  if (successor->generation <= old->generation ||
      successor->header.store_id != old->header.store_id ||
      successor->header.first_position != old->header.first_position ||
      successor->end_position != old->end_position) {
    return Status::InvalidArgument(successor->path + " does not replace " +
                                   old->path);
  }
  return SwapEntry(static_cast<size_t>(number - first_number),
                   std::move(successor));
}

std::shared_ptr<Segment> SegmentLog::SwapEntry(
    size_t index, std::shared_ptr<Segment> successor) {
  std::shared_ptr<Segment> old = std::exchange(segments_[index], successor);
  // The old file's mapping moves from the cache to the old entry: readers
  // holding that entry keep reading it (also once the file is unlinked),
  // and it is unmapped when the last of them lets go.
  SegmentCache::Mapping mapping = cache_.Take(old->path);
  std::lock_guard<std::mutex> lock(active_mu_);
  old->successor = std::move(successor);
  if (mapping) old->map = std::move(mapping);
  return old;
}

Status SegmentLog::AdoptNewerGenerations(
    const AppendVisitor& visit,
    std::vector<std::shared_ptr<Segment>>* replaced) {
  if (segments_.empty()) return Status::Ok();
  auto names = fs_->ListDir(dir_);
  if (!names.ok()) return names.status();
  const uint64_t first_number = segments_.front()->header.segment_number;
  for (const segment::SegmentFileId& id :
       segment::ListSegmentFiles(*names).current) {
    // Numbering is gapless (segment_list.h): the entry is found by number.
    if (id.number < first_number ||
        id.number - first_number >= segments_.size()) {
      continue;
    }
    const size_t index = static_cast<size_t>(id.number - first_number);
    if (id.generation <= segments_[index]->generation) continue;
    auto loaded = LoadSegment(id);
    if (!loaded.ok()) return loaded.status();
    if (index + 1 == segments_.size()) {
      Status s = ReplaceLast(std::move(loaded.value()), visit, replaced);
      if (!s.ok()) return s;
      continue;
    }
    auto old = Replace(std::move(loaded.value()));
    if (!old.ok()) return old.status();
    replaced->push_back(std::move(old.value()));
  }
  return Status::Ok();
}

Result<bool> SegmentLog::LastEntryReplaced() const {
  if (segments_.empty()) return false;
  auto pinned = Pin(segments_.back());
  if (!pinned.ok()) return pinned.status();
  return pinned->segment() != segments_.back();
}

Status SegmentLog::ReplaceLast(
    std::shared_ptr<Segment> successor, const AppendVisitor& visit,
    std::vector<std::shared_ptr<Segment>>* replaced) {
  // A newer scavenge may have replaced `successor` too since the listing:
  // the pin then holds the newest generation, which takes the place.
  auto pinned = Pin(successor);
  if (!pinned.ok()) return pinned.status();
  successor = pinned->segment();
  const std::shared_ptr<Segment>& old = segments_.back();
  if (successor->generation <= old->generation ||
      successor->header.store_id != old->header.store_id ||
      successor->header.segment_number != old->header.segment_number ||
      successor->header.first_position != old->header.first_position ||
      successor->end_position < old->end_position) {
    return Status::Corruption(successor->path, 0,
                              "a newer generation of " + old->path +
                                  " does not cover the positions listed "
                                  "from it");
  }
  // Listed first: visitors locate records through the list, and must
  // find them in the file whose offsets they are given.
  const uint64_t from = old->end_position;
  replaced->push_back(SwapEntry(segments_.size() - 1, std::move(successor)));
  return VisitScavenged(
      *pinned,
      [from](const segment::ScannedRecord& r) {
        return r.header.position >= from;
      },
      visit);
}

Result<std::shared_ptr<Segment>> SegmentLog::LoadNewest(uint64_t number) const {
  auto original = LoadSegment(segment::SegmentFileId{number, 0});
  if (original.ok() || !original.status().IsNotFound()) return original;
  // A scavenge replaced it before this handle listed it.
  auto names = fs_->ListDir(dir_);
  if (!names.ok()) return names.status();
  for (const segment::SegmentFileId& id :
       segment::ListSegmentFiles(*names).current) {
    if (id.number == number) return LoadSegment(id);
  }
  return original;
}

Status SegmentLog::ListNext(std::shared_ptr<Segment> next,
                            const AppendVisitor& visit) {
  const Segment& last = *segments_.back();
  if (next->header.segment_number != last.header.segment_number + 1 ||
      next->header.store_id != store_id_ ||
      next->header.first_position != next_position()) {
    return Status::Corruption(next->path, 0,
                              "segment does not continue the log");
  }
  if (!next->scavenged()) {
    segments_.push_back(std::move(next));
    return Status::Ok();
  }
  // Pinned before it is listed: a newer scavenge may have replaced it
  // since (the pin then holds the newest generation).
  auto pinned = Pin(next);
  if (!pinned.ok()) return pinned.status();
  if (pinned->segment()->header.first_position != next->header.first_position) {
    return Status::Corruption(pinned->segment()->path, 0,
                              "segment does not continue the log");
  }
  segments_.push_back(pinned->segment());
  return VisitScavenged(
      *pinned, [](const segment::ScannedRecord&) { return true; }, visit);
}

Status SegmentLog::OpenActive(Segment* segment) {
  auto file = fs_->OpenFile(segment->path, io::OpenMode::kReadWrite);
  if (!file.ok()) return file.status();
  segment->file = std::move(file.value());
  return MapSegment(segment);
}

Result<MappedSegment> SegmentLog::Pin(
    const std::shared_ptr<Segment>& segment) const {
  std::shared_ptr<Segment> successor;
  {
    std::lock_guard<std::mutex> lock(active_mu_);
    if (segment->map) return MappedSegment(segment, segment->map);
    successor = segment->successor;
  }
  auto map = cache_.Get(segment->path, segment->header);
  if (map.ok()) return MappedSegment(segment, std::move(map.value()));
  if (!map.status().IsNotFound()) return map.status();
  // The file is gone: a scavenge replaced it (in this process, by
  // Replace, or in the writer's). Its successor covers the same positions.
  if (!successor) {
    auto found = FindSuccessor(*segment);
    if (!found.ok()) return found.status();
    if (!*found) return map.status();
    successor = std::move(found.value());
    std::lock_guard<std::mutex> lock(active_mu_);
    if (!segment->successor) segment->successor = successor;
    successor = segment->successor;
  }
  return Pin(successor);
}

Result<std::shared_ptr<Segment>> SegmentLog::Create(uint64_t number,
                                                    uint64_t first_position) {
  std::string path = io::JoinPath(dir_, segment::SegmentFileName(number));
  std::string spare = io::JoinPath(dir_, SpareFileName(number));
  // The file is preallocated and zero-filled before anything maps it (a
  // write into a sparse hole can fail with ENOSPC and SIGBUS a mapping);
  // usually the preparer did that in the background already.
  Status s;
  if (preparer_ == nullptr || !preparer_->TakeReady(number)) {
    s = PrepareZeroedFile(fs_, spare, options_.segment_size);
    if (!s.ok()) return s;
  }
  segment::SegmentHeader header;
  header.store_id = store_id_;
  header.segment_number = number;
  header.first_position = first_position;
  header.capacity = options_.segment_size;
  header.created_us = WallClockMicros();
  std::vector<uint8_t> bytes(segment::kSegmentHeaderSize);
  segment::EncodeSegmentHeader(header, bytes.data());
  // The header is durable before the name appears, and the name is durable
  // (directory synced) before any record goes in.
  const bool replaces_active =
      !segments_.empty() && segments_.back()->header.segment_number == number;
  auto file = fs_->OpenFile(spare, io::OpenMode::kReadWrite);
  if (!file.ok()) return file.status();
  s = (*file)->Write(0, bytes.data(), bytes.size());
  if (s.ok()) s = (*file)->Sync();
  if (s.ok()) s = (*file)->Close();
  if (!s.ok()) {
    (void)fs_->RemoveFile(spare);
    return s;
  }
  s = fs_->Rename(spare, path);
  if (!s.ok()) {
    (void)fs_->RemoveFile(spare);
    return s;
  }
  if (replaces_active) {
    // From here the file under the active segment's name is the new one,
    // whatever else fails: the old one must never take a record again (a
    // record there would be lost with its unlinked file). The old and the
    // new file both hold no record, so either is a valid newest segment
    // after a crash.
    active_replaced_ = true;
  }
  s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    // Never retried: after a failed directory fsync the names it covered
    // are unknown, and a later one could report success over them. The
    // writer stops (directory_sync_failed); the next open finds out what
    // the directory holds.
    must_stop_ = true;
    if (!replaces_active) (void)fs_->RemoveFile(path);
    return s;
  }
  if (preparer_ != nullptr) preparer_->Request(number + 1);
  auto segment = std::make_shared<Segment>();
  segment->header = header;
  segment->seed = header.Seed();
  segment->path = path;
  segment->end_position = first_position;
  s = OpenActive(segment.get());
  if (!s.ok()) {
    // The new name is durable: it is taken back (removed, the directory
    // synced), or the writer stops. A replacement needs neither: the
    // active segment refuses records from now on (active_replaced_), and
    // the next roll makes the file again.
    if (!replaces_active) {
      Status removed = fs_->RemoveFile(path);
      if (removed.ok()) removed = fs_->SyncDir(dir_);
      if (!removed.ok()) must_stop_ = true;
    }
    return s;
  }
  return segment;
}

Result<std::unique_ptr<SegmentLog>> SegmentLog::Open(io::FileSystem* fs,
                                                     const std::string& dir,
                                                     const Options& options,
                                                     bool writable,
                                                     uint64_t new_store_id) {
  std::unique_ptr<SegmentLog> log(new SegmentLog(fs, dir, options, writable));
  auto names = fs->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> spares;
  for (const std::string& name : *names) {
    if (name.ends_with(".seg.spare")) spares.push_back(name);
  }
  segment::SegmentFileListing listing = segment::ListSegmentFiles(*names);
  std::vector<segment::SegmentFileId>& ids = listing.current;
  // The one set of list rules, shared with `cairn verify`.
  segment::SegmentListChecker checker(dir);
  for (const segment::SegmentFileId& id : ids) {
    Status s = checker.CheckNumber(id.number, id.generation);
    if (!s.ok()) return s;
  }

  // A crash while creating the newest segment can leave it without a valid
  // header; nothing was ever written to it, so it is removed.
  if (writable && !ids.empty()) {
    std::string path = io::JoinPath(dir, segment::SegmentFileName(ids.back()));
    auto probe = log->LoadSegment(ids.back());
    if (!probe.ok() && probe.status().IsCorruption()) {
      auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
      if (!file.ok()) return file.status();
      auto size = (*file)->Size();
      if (!size.ok()) return size.status();
      // Only a segment that never received a record may go: everything
      // after the header must be zero.
      if (!ReadsAsZeros(file->get(), segment::kSegmentHeaderSize, *size)) {
        return probe.status();
      }
      Status s = fs->RemoveFile(path);
      if (s.ok()) s = fs->SyncDir(dir);
      if (!s.ok()) return s;
      ids.pop_back();
      Report(options, LogLevel::kWarning,
             "removed segment file " + path +
                 ": its creation was interrupted (" + probe.status().message() +
                 ") and it holds no record");
    }
  }

  if (writable) {
    log->preparer_ =
        std::make_unique<SegmentPreparer>(fs, dir, options.segment_size);
  }
  if (ids.empty()) {
    if (!writable) {
      return Status::NotFound(dir + " holds no segment files");
    }
    log->store_id_ = new_store_id;
    auto first = log->Create(0, 0);
    if (!first.ok()) return first.status();
    log->segments_.push_back(std::move(first.value()));
    return log;
  }

  // Each header is read and verified once, its file closed again: a store
  // of any number of segments opens within a few file descriptors. Sealed
  // segments are mapped when read (SegmentCache).
  log->segments_.reserve(ids.size());
  for (const segment::SegmentFileId& id : ids) {
    segment::ScavengedFields fields;
    auto loaded = log->LoadSegment(id, &fields);
    if (!loaded.ok()) return loaded.status();
    std::shared_ptr<Segment> seg = std::move(loaded.value());
    Status s = checker.CheckHeader(id.number, seg->header,
                                   seg->scavenged() ? &fields : nullptr);
    if (!s.ok()) return s;
    if (log->segments_.empty()) {
      log->store_id_ = seg->header.store_id;
    } else if (!log->segments_.back()->scavenged()) {
      log->segments_.back()->end_position = seg->header.first_position;
    }
    log->segments_.push_back(std::move(seg));
  }
  if (log->segments_.back()->scavenged()) {
    // A scavenge never rewrites the segment taking appends, and a newer
    // one always follows it: the segments after this one are missing.
    const Segment& last = *log->segments_.back();
    return Status::Corruption(
        io::JoinPath(dir,
                     segment::SegmentFileName(last.header.segment_number + 1)),
        0,
        "segment file is missing (the last segment " + last.path +
            " is a scavenged one, which never takes appends)");
  }
  if (writable && !listing.superseded.empty()) {
    // Files a committed scavenge replaced by a newer generation (the
    // scavenge removes them itself unless it stopped before its clean-up),
    // removed once the newer ones' headers verified.
    for (const std::string& name : listing.superseded) {
      Status s = fs->RemoveFile(io::JoinPath(dir, name));
      if (!s.ok()) return s;
      Report(options, LogLevel::kInfo,
             "removed segment file " + io::JoinPath(dir, name) +
                 ": a newer generation of it replaced it");
    }
    Status s = fs->SyncDir(dir);
    if (!s.ok()) return s;
  }
  if (writable) {
    Status s = log->OpenActive(log->segments_.back().get());
    if (!s.ok()) return s;
  }
  if (writable) {
    // A spare left by an earlier run holds zeros (and maybe a header about
    // to be replaced), unless the power failed before its zero-fill was
    // synced: then any of it may come back garbled, and garbage left after
    // the last record once it is sealed would be corruption. Reuse the one
    // for the next segment if it has the right size and reads as zeros
    // after the header; remove the others.
    uint64_t next_number = log->segments_.back()->header.segment_number + 1;
    bool adopted = false;
    for (const std::string& name : spares) {
      std::string path = io::JoinPath(dir, name);
      if (name == SpareFileName(next_number)) {
        auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
        if (file.ok()) {
          auto size = (*file)->Size();
          if (size.ok() && *size == options.segment_size &&
              ReadsAsZeros(file->get(), segment::kSegmentHeaderSize, *size)) {
            log->preparer_->Adopt(next_number);
            adopted = true;
            continue;
          }
        }
      }
      Status s = fs->RemoveFile(path);
      if (!s.ok()) return s;
      Report(options, LogLevel::kInfo,
             "removed spare segment file " + path + " left by an earlier run");
    }
    if (!adopted) log->preparer_->Request(next_number);
  }
  return log;
}

uint64_t SegmentLog::ReplayBound(const ReplayStart& start) const {
  uint64_t total = 0;
  for (size_t i = start.segment; i < segments_.size(); ++i) {
    const Segment& seg = *segments_[i];
    uint64_t from = segment::kSegmentHeaderSize;
    if (i == start.segment && start.offset != 0) from = start.offset;
    if (seg.header.capacity > from) total += seg.header.capacity - from;
  }
  return total;
}

Status SegmentLog::Replay(const ReplayStart& start, uint64_t durable_end,
                          uint64_t limit, const AppendVisitor& visit,
                          const std::function<void(uint64_t)>& progress) {
  uint64_t scanned = 0;
  for (size_t i = start.segment; i < segments_.size(); ++i) {
    std::shared_ptr<Segment> seg = segments_[i];
    const bool is_last = i + 1 == segments_.size();
    const bool first = i == start.segment;
    // A reader lists nothing at or past `limit` (not yet durable).
    if (!writable_ && !first && seg->header.first_position >= limit) {
      segments_.resize(i);
      break;
    }
    if (seg->scavenged()) {
      // Never the last segment (Open); the list check made sure the next
      // one starts at its end.
      const uint64_t from = first ? start.offset : 0;
      Status s = ReplayScavenged(seg, from, visit);
      if (!s.ok()) return s;
      scanned += seg->end_offset -
                 std::max<uint64_t>(from, segment::kSegmentHeaderSize);
      if (progress) progress(scanned);
      continue;
    }
    segment::SegmentScanOptions scan_options;
    scan_options.is_last = is_last;
    scan_options.durable_position_end = writable_ ? durable_end : 0;
    if (!writable_) scan_options.stop_at_position = limit;
    if (first && start.offset != 0) {
      scan_options.start_offset = start.offset;
      scan_options.start_position = start.position;
    }
    // A reader's mapping may be of the writer's active segment, whose mark
    // slots the writer rewrites meanwhile (a writer's open has no other
    // writer beside it).
    if (!writable_) scan_options.known_mark = &seg->listed_mark;
    auto pinned = Pin(seg);
    if (!pinned.ok()) return pinned.status();
    MappedSegment mapped = std::move(pinned.value());
    segment::SegmentScanResult result;
    Segment* raw = seg.get();
    raw->end_position = scan_options.start_offset != 0
                            ? start.position
                            : seg->header.first_position;
    raw->end_offset = scan_options.start_offset != 0
                          ? start.offset
                          : segment::kSegmentHeaderSize;
    bool stopped = false;
    Status s = segment::ScanSegment(
        mapped.data(), mapped.mapped_size(), seg->header, seg->path,
        scan_options,
        [&](std::span<const segment::ScannedRecord> records) {
          if (stopped || records.front().header.position >= limit) {
            stopped = true;
            return;
          }
          raw->end_position = records.back().header.position + 1;
          raw->end_offset =
              records.back().offset + records.back().header.RecordSize();
          visit(mapped, records);
        },
        &result);
    if (!s.ok()) return s;
    const uint64_t mapped_size = mapped.mapped_size();
    mapped = MappedSegment();  // the repair below maps the file again
    if (writable_ && is_last) {
      // Discard a torn tail durably before any append: appending after it
      // would strand later acknowledged records behind garbage.
      s = RepairActive(seg.get(), result);
      if (!s.ok()) return s;
    }
    scanned += mapped_size - (first && start.offset != 0
                                  ? start.offset
                                  : segment::kSegmentHeaderSize);
    if (progress) progress(scanned);
    if (stopped || (!writable_ && result.next_position >= limit)) {
      segments_.resize(i + 1);
      break;
    }
    if (!is_last &&
        result.next_position != segments_[i + 1]->header.first_position) {
      return Status::Corruption(
          segments_[i + 1]->path, 0,
          "segment starts at position " +
              std::to_string(segments_[i + 1]->header.first_position) +
              " but the previous segment ends at position " +
              std::to_string(result.next_position));
    }
  }
  return Status::Ok();
}

Status SegmentLog::ReplayScavenged(const std::shared_ptr<Segment>& seg,
                                   uint64_t start_offset,
                                   const AppendVisitor& visit) {
  auto pinned = Pin(seg);
  if (!pinned.ok()) return pinned.status();
  if (pinned->segment() != seg) {
    return Status::Corruption(seg->path, 0,
                              "scavenged segment was replaced while the log "
                              "was replayed");
  }
  return VisitScavenged(
      *pinned,
      [&](const segment::ScannedRecord& r) { return r.offset >= start_offset; },
      visit);
}

Status SegmentLog::VisitScavenged(
    const MappedSegment& mapped,
    const std::function<bool(const segment::ScannedRecord&)>& wanted,
    const AppendVisitor& visit) {
  const Segment& seg = *mapped;
  segment::SegmentHeader header;
  segment::ScavengedFields fields;
  Status s = segment::ScanScavengedSegment(
      mapped.data(), mapped.mapped_size(), seg.path,
      [&](const segment::ScannedRecord& r) {
        if (wanted(r)) visit(mapped, std::span(&r, 1));
      },
      &header, &fields);
  if (!s.ok()) return s;
  if (header != seg.header || fields.end_position != seg.end_position) {
    return Status::Corruption(seg.path, 0,
                              "scavenged segment header differs from the one "
                              "read when the store was opened");
  }
  return Status::Ok();
}

uint64_t SegmentLog::record_bytes() const {
  uint64_t total = 0;
  for (const auto& s : segments_) {
    total += s->end_offset - segment::kSegmentHeaderSize;
  }
  return total;
}

std::optional<size_t> SegmentLog::SegmentIndexOf(uint64_t position) const {
  auto index = SegmentStartingAtOrBefore(position);
  if (!index || position >= segments_[*index]->end_position) {
    return std::nullopt;
  }
  return index;
}

std::optional<size_t> SegmentLog::SegmentStartingAtOrBefore(
    uint64_t position) const {
  auto it =
      std::upper_bound(segments_.begin(), segments_.end(), position,
                       [](uint64_t pos, const std::shared_ptr<Segment>& s) {
                         return pos < s->header.first_position;
                       });
  if (it == segments_.begin()) return std::nullopt;
  return static_cast<size_t>(it - segments_.begin() - 1);
}

uint64_t SegmentLog::ActiveRemaining() const {
  const Segment& s = *segments_.back();
  return s.header.capacity > s.end_offset ? s.header.capacity - s.end_offset
                                          : 0;
}

Status SegmentLog::WriteActive(uint64_t offset, const void* data, size_t size) {
  if (active_replaced_) return ActiveReplaced(*segments_.back());
  return segments_.back()->file->Write(offset, data, size);
}

Status SegmentLog::SyncActive() {
  if (active_replaced_) return ActiveReplaced(*segments_.back());
  return segments_.back()->file->Sync();
}

Result<std::shared_ptr<Segment>> SegmentLog::CreateNext(
    uint64_t first_position) {
  const Segment& active = *segments_.back();
  if (!active.has_records()) {
    // Sealing it would leave a segment without records that the next one
    // starts at the same position as; an empty segment has nothing to
    // keep, so it is replaced by one of the configured size (an append
    // that did not fit it needs the larger size).
    return Create(active.header.segment_number, first_position);
  }
  return Create(active.header.segment_number + 1, first_position);
}

void SegmentLog::AddSegment(std::shared_ptr<Segment> segment) {
  std::shared_ptr<Segment> old = segments_.empty() ? nullptr : segments_.back();
  const bool replaces = old != nullptr && old->header.segment_number ==
                                              segment->header.segment_number;
  if (replaces) {
    segments_.back() = std::move(segment);
    active_replaced_ = false;
  } else {
    segments_.push_back(std::move(segment));
  }
  if (old == nullptr) return;
  std::lock_guard<std::mutex> lock(active_mu_);
  if (replaces) {
    old->map.reset();  // readers still using it keep their reference
  } else {
    // Sealed: subscribers usually read it next, so it joins the cache as
    // the most recently used rather than being reopened.
    if (old->map) cache_.Put(old->path, std::move(old->map));
  }
  old->file.reset();  // synced before the roll: nothing left to report
}

Status SegmentLog::CatchUp(uint64_t limit, const AppendVisitor& visit) {
  std::vector<segment::ScannedRecord> pending;
  MappedSegment mapped;
  while (next_position() < limit) {
    Segment* seg = segments_.back().get();
    if (mapped.segment() != segments_.back()) {
      auto pinned = Pin(segments_.back());
      if (!pinned.ok()) return pinned.status();
      mapped = std::move(pinned.value());
    }
    if (mapped.segment() != segments_.back()) {
      // The writer scavenged the segment, and this handle's offsets are
      // the old file's: the writer's tables go on (Refresh).
      return Status::Ok();
    }
    if (seg->scavenged()) {
      // Complete: the writer moved on to the next segment.
      auto next = LoadNewest(seg->header.segment_number + 1);
      if (!next.ok()) return next.status();
      Status s = ListNext(std::move(next.value()), visit);
      if (!s.ok()) return s;
      continue;
    }
    uint64_t offset = seg->end_offset;
    for (const auto& r : pending) offset += r.header.RecordSize();
    segment::RecordHeader header;
    segment::HeaderCheck check =
        offset < mapped.mapped_size()
            ? segment::DecodeRecordHeader(mapped.data() + offset,
                                          mapped.mapped_size() - offset,
                                          seg->seed, &header)
            : segment::HeaderCheck::kZero;
    if ((check == segment::HeaderCheck::kZero ||
         check == segment::HeaderCheck::kTruncated) &&
        mapped.mapped_size() < seg->header.capacity) {
      // Mapped while shorter than its capacity (before the writer extended
      // it at its open): map it again. Readers that hold the old mapping
      // keep it valid.
      (void)cache_.Take(seg->path);
      auto fresh = Pin(segments_.back());
      if (!fresh.ok()) return fresh.status();
      if (fresh->mapped_size() > mapped.mapped_size()) {
        mapped = std::move(fresh.value());
        continue;
      }
    }
    if (check == segment::HeaderCheck::kZero && pending.empty()) {
      const uint64_t number = seg->header.segment_number;
      if (!seg->has_records()) {
        // The writer replaces a segment without records when an append
        // does not fit it (CreateNext): then the file under this name has
        // another header.
        auto again = LoadSegment(segment::SegmentFileId{number, 0});
        if (!again.ok()) return again.status();
        if ((*again)->header.created_us != seg->header.created_us ||
            (*again)->header.capacity != seg->header.capacity) {
          if ((*again)->header.store_id != store_id_ ||
              (*again)->header.first_position != next_position()) {
            return Status::Corruption((*again)->path, 0,
                                      "replaced segment does not continue "
                                      "the log");
          }
          (void)cache_.Take(seg->path);
          mapped = MappedSegment();
          segments_.back() = std::move(again.value());
          continue;
        }
      }
      // The writer moved on to the next segment.
      auto next = LoadNewest(number + 1);
      if (!next.ok()) return next.status();
      Status s = ListNext(std::move(next.value()), visit);
      if (!s.ok()) return s;
      continue;
    }
    uint64_t expected = next_position() + pending.size();
    if (check != segment::HeaderCheck::kOk || header.position != expected ||
        !segment::VerifyRecordBody(mapped.data() + offset, header, seg->seed)) {
      return Status::Corruption(seg->path, offset,
                                "durable record does not verify while "
                                "following the writer");
    }
    pending.push_back({offset, header});
    if (header.IsCommit()) {
      seg->end_position = header.position + 1;
      seg->end_offset = offset + header.RecordSize();
      visit(mapped, pending);
      pending.clear();
    }
  }
  return Status::Ok();
}

}  // namespace cairn::engine
