// Copyright (c) Cairn authors.
#include "inspect/segment_walk.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "segment/segment_header.h"
#include "segment/segment_list.h"
#include "segment/segment_scan.h"

namespace cairn::inspect {
namespace {

bool AllZero(const uint8_t* p, size_t n) {
  return segment::FirstNonZero(p, n) == n;
}

// The first offset in [from, size) where a record header verifies, or
// `size`.
uint64_t FindNextHeader(const uint8_t* data, size_t size, uint64_t from,
                        uint64_t seed) {
  if (size < segment::kRecordHeaderSize) return size;
  segment::RecordCandidates candidates(data, size - segment::kRecordHeaderSize);
  uint64_t o = from;
  while (o <= size - segment::kRecordHeaderSize) {
    const std::optional<size_t> hit = candidates.Next(o);
    if (!hit) break;
    o = *hit;
    segment::RecordHeader header;
    if (segment::DecodeRecordHeader(data + o, size - o, seed, &header) ==
        segment::HeaderCheck::kOk) {
      return o;
    }
    ++o;
  }
  return size;
}

}  // namespace

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<SegmentFile> OpenSegmentFile(const std::string& path) {
  io::FileSystem* fs = io::PosixFileSystem();
  SegmentFile segment;
  segment.path = path;
  if (auto id = segment::ParseAnySegmentFileName(BaseName(path))) {
    segment.number = id->number;
  }
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  segment.file = std::move(file.value());
  auto size = segment.file->Size();
  if (!size.ok()) return size.status();
  auto map = segment.file->Map(0, static_cast<size_t>(*size));
  if (!map.ok()) return map.status();
  segment.map = std::move(map.value());
  return segment;
}

Result<std::vector<SegmentName>> ListSegmentFiles(
    const std::string& dir, std::vector<std::string>* superseded) {
  auto names = io::PosixFileSystem()->ListDir(dir);
  if (!names.ok()) return names.status();
  const segment::SegmentFileListing listing = segment::ListSegmentFiles(*names);
  std::vector<SegmentName> segments;
  for (const segment::SegmentFileId& id : listing.current) {
    segments.push_back({id.number, id.generation,
                        io::JoinPath(dir, segment::SegmentFileName(id))});
  }
  if (superseded != nullptr) {
    for (const std::string& name : listing.superseded) {
      superseded->push_back(io::JoinPath(dir, name));
    }
  }
  return segments;
}

std::string_view RecordStatusName(RecordStatus status) {
  switch (status) {
    case RecordStatus::kOk:
      return "ok";
    case RecordStatus::kBadHeader:
      return "bad header";
    case RecordStatus::kBadBody:
      return "bad body";
    case RecordStatus::kTruncated:
      return "truncated";
    case RecordStatus::kMalformed:
      return "malformed";
  }
  return "?";
}

WalkResult WalkSegment(
    const uint8_t* data, size_t size, uint64_t seed,
    const std::function<void(const WalkedRecord&)>& on_record,
    const std::function<void(const SkippedBytes&)>& on_skip) {
  WalkResult result;
  uint64_t offset = segment::kSegmentHeaderSize;
  result.end_of_records = std::min<uint64_t>(offset, size);
  if (size <= offset) return result;
  std::string scratch;
  segment::EventDecoder decoder(data + segment::kSegmentHeaderSize, seed);
  // Reports [from, to) as skipped and returns `to`.
  auto skip = [&](uint64_t from, uint64_t to) {
    on_skip({from, to, AllZero(data + from, to - from)});
    return to;
  };
  while (offset < size) {
    const size_t available = size - offset;
    WalkedRecord record;
    record.offset = offset;
    const segment::HeaderCheck check = segment::DecodeRecordHeader(
        data + offset, available, seed, &record.header);
    if (check == segment::HeaderCheck::kZero) {
      if (AllZero(data + offset, available)) return result;
      // Data after zeroed space: nothing may follow the end of the
      // records, so whatever it is, it is a problem.
      ++result.problems;
      offset = skip(offset, FindNextHeader(data, size, offset + 1, seed));
      continue;
    }
    if (check != segment::HeaderCheck::kOk) {
      ++result.problems;
      if (check == segment::HeaderCheck::kTruncated) {
        record.status = RecordStatus::kTruncated;
        record.header_valid = available >= segment::kRecordHeaderSize;
        record.length =
            record.header_valid ? record.header.RecordSize() : available;
      } else {
        record.status = RecordStatus::kBadHeader;
      }
      on_record(record);
      offset = skip(offset, FindNextHeader(data, size, offset + 1, seed));
      continue;
    }
    record.header_valid = true;
    record.length = record.header.RecordSize();
    if (!segment::VerifyRecordBody(data + offset, record.header, seed)) {
      record.status = RecordStatus::kBadBody;
      ++result.problems;
    } else if (!decoder.Decode(data + offset, record.header, &scratch,
                               &record.fields)) {
      record.status = RecordStatus::kMalformed;
      ++result.problems;
    } else {
      record.body_valid = true;
      ++result.records_ok;
    }
    on_record(record);
    // The header verified, so its length is trustworthy even when the body
    // is damaged: the next record starts right after this one.
    offset += record.length;
    result.end_of_records = offset;
  }
  return result;
}

}  // namespace cairn::inspect
