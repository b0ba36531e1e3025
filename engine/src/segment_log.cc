// Copyright (c) Cairn authors.
#include "engine/src/segment_log.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "segment/checksum.h"
#include "segment/durable_mark.h"
#include "segment/record.h"

namespace cairn::engine {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool AllZero(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != 0) return false;
  }
  return true;
}

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
    if (!AllZero(chunk.data(), got)) return false;
    at += got;
  }
  return true;
}

// End of the last nonzero byte in data[begin, end), or `begin` if there
// is none. Scans backwards a block at a time: the zeroed tail of a segment
// can be long.
uint64_t EndOfNonZero(const uint8_t* data, uint64_t begin, uint64_t end) {
  constexpr uint64_t kBlock = 4096;
  static const std::vector<uint8_t> zeros(kBlock, 0);
  while (end > begin) {
    const uint64_t n = std::min(kBlock, end - begin);
    if (std::memcmp(data + end - n, zeros.data(), n) != 0) {
      while (data[end - 1] == 0) --end;
      return end;
    }
    end -= n;
  }
  return begin;
}

// Writes zeros over [begin, end) with real writes (not fallocate), so the
// range stays as cheap to sync into as a prepared segment.
Status ZeroFill(io::File* file, uint64_t begin, uint64_t end) {
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  const std::vector<uint8_t> zeros(kChunk, 0);
  for (uint64_t at = begin; at < end;) {
    const auto n = static_cast<size_t>(std::min(kChunk, end - at));
    Status s = file->Write(at, zeros.data(), n);
    if (!s.ok()) return s;
    at += n;
  }
  return Status::Ok();
}

}  // namespace

Status SegmentLog::DropUnsureCache() {
  if (segments_.empty()) return Status::Ok();
  Segment* seg = segments_.back().get();
  const auto mark =
      segment::NewestDurableMark(seg->data(), seg->mapped_size(), seg->header);
  if (mark && mark->closed()) return Status::Ok();
  const uint64_t from = mark ? mark->end_offset : segment::kSegmentHeaderSize;
  auto size = seg->file->Size();
  if (!size.ok()) return size.status();
  if (*size <= from) return Status::Ok();
  // The kernel keeps pages some process maps: unmap ours first.
  seg->map.reset();
  Status s = seg->file->DropCache(from, *size - from);
  Status mapped = MapSegment(seg);
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
    zero_end = EndOfNonZero(seg->data(), result.end_offset, seg->mapped_size());
  }
  const bool short_file = *size < capacity;
  if (short_file) {
    // Cut short outside the engine, or by a torn-tail repair that ran out
    // of space: mapped at this size, appends past it could not be read.
    zero_begin = std::min(zero_begin, *size);
    zero_end = capacity;
  }
  if (zero_begin >= zero_end) return Status::Ok();
  seg->map.reset();
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
  if (s.ok()) s = ZeroFill(seg->file.get(), zero_begin, zero_end);
  if (s.ok()) s = seg->file->Sync();
  Status mapped = MapSegment(seg);
  return s.ok() ? mapped : s;
}

Status SegmentLog::MapSegment(Segment* segment) {
  segment->map.reset();
  auto size = segment->file->Size();
  if (!size.ok()) return size.status();
  auto map = segment->file->Map(0, *size);
  if (!map.ok()) return map.status();
  segment->map = std::move(map.value());
  return Status::Ok();
}

Result<std::shared_ptr<Segment>> SegmentLog::OpenSegment(uint64_t number,
                                                         bool writable) {
  auto segment = std::make_shared<Segment>();
  segment->path = io::JoinPath(dir_, segment::SegmentFileName(number));
  auto file = fs_->OpenFile(segment->path, writable ? io::OpenMode::kReadWrite
                                                    : io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  segment->file = std::move(file.value());
  Status s = MapSegment(segment.get());
  if (!s.ok()) return s;
  s = segment::DecodeSegmentHeader(segment->data(), segment->mapped_size(),
                                   segment->path, &segment->header);
  if (!s.ok()) return s;
  if (segment->header.segment_number != number) {
    return Status::Corruption(
        segment->path, 0,
        "segment header says number " +
            std::to_string(segment->header.segment_number) +
            " but the file name says " + std::to_string(number));
  }
  segment->seed = segment->header.Seed();
  return segment;
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
  header.created_us = NowMicros();
  std::vector<uint8_t> bytes(segment::kSegmentHeaderSize);
  segment::EncodeSegmentHeader(header, bytes.data());
  // The header is durable before the name appears, and the name is durable
  // (directory synced) before any record goes in.
  auto file = fs_->OpenFile(spare, io::OpenMode::kReadWrite);
  if (!file.ok()) return file.status();
  s = (*file)->Write(0, bytes.data(), bytes.size());
  if (s.ok()) s = (*file)->Sync();
  if (s.ok()) s = (*file)->Close();
  if (s.ok()) s = fs_->Rename(spare, path);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    // Leave no half-made segment behind; the next open would remove it
    // anyway, but a full disk should heal as soon as space returns.
    (void)fs_->RemoveFile(spare);
    (void)fs_->RemoveFile(path);
    (void)fs_->SyncDir(dir_);
    return s;
  }
  if (preparer_ != nullptr) preparer_->Request(number + 1);
  return OpenSegment(number, /*writable=*/true);
}

Result<std::unique_ptr<SegmentLog>> SegmentLog::Open(io::FileSystem* fs,
                                                     const std::string& dir,
                                                     const Options& options,
                                                     bool writable,
                                                     uint64_t new_store_id) {
  std::unique_ptr<SegmentLog> log(new SegmentLog(fs, dir, options, writable));
  auto names = fs->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> numbers;
  std::vector<std::string> spares;
  for (const std::string& name : *names) {
    if (auto n = segment::ParseSegmentFileName(name)) numbers.push_back(*n);
    if (name.ends_with(".seg.spare")) spares.push_back(name);
  }
  std::sort(numbers.begin(), numbers.end());
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] != numbers[i - 1] + 1) {
      return Status::Corruption(
          io::JoinPath(dir, segment::SegmentFileName(numbers[i - 1] + 1)), 0,
          "segment file is missing");
    }
  }

  // A crash while creating the newest segment can leave it without a valid
  // header; nothing was ever written to it, so it is removed.
  if (writable && !numbers.empty()) {
    std::string path =
        io::JoinPath(dir, segment::SegmentFileName(numbers.back()));
    auto probe = log->OpenSegment(numbers.back(), /*writable=*/false);
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
      numbers.pop_back();
    }
  }

  if (writable) {
    log->preparer_ =
        std::make_unique<SegmentPreparer>(fs, dir, options.segment_size);
  }
  if (numbers.empty()) {
    if (!writable) {
      return Status::NotFound(dir + " holds no segment files");
    }
    log->store_id_ = new_store_id;
    auto first = log->Create(0, 0);
    if (!first.ok()) return first.status();
    log->segments_.push_back(std::move(first.value()));
    return log;
  }

  for (size_t i = 0; i < numbers.size(); ++i) {
    bool is_last = i + 1 == numbers.size();
    auto opened = log->OpenSegment(numbers[i], writable && is_last);
    if (!opened.ok()) return opened.status();
    std::shared_ptr<Segment> seg = std::move(opened.value());
    if (i == 0) log->store_id_ = seg->header.store_id;
    if (seg->header.store_id != log->store_id_) {
      return Status::Corruption(seg->path, 0,
                                "segment belongs to another store");
    }
    if (i > 0) {
      Segment& prev = *log->segments_.back();
      // Every sealed segment holds at least one record (a segment is only
      // sealed when an append does not fit it, and the new one takes it).
      if (seg->header.first_position <= prev.header.first_position) {
        return Status::Corruption(
            seg->path, 0,
            "segment starts at position " +
                std::to_string(seg->header.first_position) +
                ", not after its predecessor's start " +
                std::to_string(prev.header.first_position));
      }
      prev.end_position = seg->header.first_position;
    }
    seg->end_position = seg->header.first_position;
    log->segments_.push_back(std::move(seg));
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
    if (seg.mapped_size() > from) total += seg.mapped_size() - from;
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
    segment::SegmentScanOptions scan_options;
    scan_options.is_last = is_last;
    scan_options.durable_position_end = writable_ ? durable_end : 0;
    if (!writable_) scan_options.stop_at_position = limit;
    if (first && start.offset != 0) {
      scan_options.start_offset = start.offset;
      scan_options.start_position = start.position;
    }
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
        seg->data(), seg->mapped_size(), seg->header, seg->path, scan_options,
        [&](std::span<const segment::ScannedRecord> records) {
          if (stopped || records.front().header.position >= limit) {
            stopped = true;
            return;
          }
          raw->end_position = records.back().header.position + 1;
          raw->end_offset =
              records.back().offset + records.back().header.RecordSize();
          visit(*raw, records);
        },
        &result);
    if (!s.ok()) return s;
    if (writable_ && is_last) {
      // Discard a torn tail durably before any append: appending after it
      // would strand later acknowledged records behind garbage.
      s = RepairActive(seg.get(), result);
      if (!s.ok()) return s;
    }
    scanned += seg->mapped_size() - (first && start.offset != 0
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
  return segments_.back()->file->Write(offset, data, size);
}

Status SegmentLog::SyncActive() { return segments_.back()->file->Sync(); }

Result<std::shared_ptr<Segment>> SegmentLog::CreateNext(
    uint64_t first_position) {
  return Create(segments_.back()->header.segment_number + 1, first_position);
}

Status SegmentLog::CatchUp(uint64_t limit, const AppendVisitor& visit) {
  std::vector<segment::ScannedRecord> pending;
  while (next_position() < limit) {
    Segment* seg = segments_.back().get();
    uint64_t offset = seg->end_offset;
    for (const auto& r : pending) offset += r.header.RecordSize();
    segment::RecordHeader header;
    segment::HeaderCheck check =
        offset < seg->mapped_size()
            ? segment::DecodeRecordHeader(seg->data() + offset,
                                          seg->mapped_size() - offset,
                                          seg->seed, &header)
            : segment::HeaderCheck::kZero;
    if ((check == segment::HeaderCheck::kZero ||
         check == segment::HeaderCheck::kTruncated) &&
        seg->mapped_size() < seg->header.capacity) {
      // Mapped while shorter than its capacity (before the writer extended
      // it at its open): map it again, as a new Segment, so readers that
      // hold the old one keep a valid mapping.
      auto fresh = OpenSegment(seg->header.segment_number, false);
      if (!fresh.ok()) return fresh.status();
      if ((*fresh)->mapped_size() > seg->mapped_size()) {
        (*fresh)->end_position = seg->end_position;
        (*fresh)->end_offset = seg->end_offset;
        segments_.back() = std::move(fresh.value());
        continue;
      }
    }
    if (check == segment::HeaderCheck::kZero && pending.empty()) {
      // The writer moved on to the next segment.
      auto next = OpenSegment(seg->header.segment_number + 1, false);
      if (!next.ok()) return next.status();
      if ((*next)->header.first_position != next_position()) {
        return Status::Corruption((*next)->path, 0,
                                  "segment does not continue the log");
      }
      (*next)->end_position = (*next)->header.first_position;
      segments_.push_back(std::move(next.value()));
      continue;
    }
    uint64_t expected = next_position() + pending.size();
    if (check != segment::HeaderCheck::kOk || header.position != expected ||
        !segment::VerifyRecordBody(seg->data() + offset, header, seg->seed)) {
      return Status::Corruption(seg->path, offset,
                                "durable record does not verify while "
                                "following the writer");
    }
    pending.push_back({offset, header});
    if (header.IsCommit()) {
      seg->end_position = header.position + 1;
      seg->end_offset = offset + header.RecordSize();
      visit(*seg, pending);
      pending.clear();
    }
  }
  return Status::Ok();
}

}  // namespace cairn::engine
