// Copyright (c) Cairn authors.
//
// inspect::DumpSegment: a segment file's header and every record, walked
// by inspect/segment_walk.h, handed to a visitor as public structs.
#include <optional>
#include <string>
#include <vector>

#include "cairn/inspect.h"
#include "engine/io/file_system.h"
#include "inspect/index_files.h"
#include "inspect/segment_walk.h"
#include "segment/checksum.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::inspect {
namespace {

RecordInfo ToRecordInfo(const WalkedRecord& r) {
  RecordInfo info;
  info.offset = r.offset;
  info.length = r.length;
  info.status = r.status;
  info.header_valid = r.header_valid;
  if (r.header_valid) {
    info.position = r.header.position;
    info.compressed = r.header.IsCompressed();
    info.commit = r.header.IsCommit();
    info.continuation = r.header.type == segment::RecordType::kContinuation;
    info.synced_offset = r.header.synced_offset;
  }
  info.body_valid = r.body_valid;
  if (r.body_valid) {
    const segment::EventFields& f = r.fields;
    info.stream = f.stream;
    info.revision = f.revision;
    info.type = f.type;
    info.id = f.id;
    info.content_type = f.content_type;
    info.data_size = f.data.size();
    info.metadata_size = f.metadata.size();
    info.created_us = f.created_us;
  }
  return info;
}

}  // namespace

uint32_t SegmentFormatVersion() { return segment::kSegmentFormatVersion; }

uint64_t StoredRecordBytes(size_t stream_name_bytes, size_t payload_bytes) {
  return segment::EventRecordSize(stream_name_bytes, payload_bytes, 0, 0);
}

uint64_t StoredAppendBytes(size_t stream_name_bytes, uint64_t events,
                           size_t type_bytes, size_t metadata_bytes,
                           size_t data_bytes) {
  if (events == 0) return 0;
  return segment::EventRecordSize(stream_name_bytes, type_bytes, metadata_bytes,
                                  data_bytes) +
         (events - 1) * segment::ContinuationRecordSize(
                            type_bytes, metadata_bytes, data_bytes);
}

Result<std::vector<std::string>> SegmentFilesOf(const std::string& dir) {
  auto names = ListSegmentFiles(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> paths;
  paths.reserve(names->size());
  for (const SegmentName& name : *names) paths.push_back(name.path);
  return paths;
}

Status DumpSegment(const std::string& path, SegmentVisitor* visitor) {
  auto file = OpenSegmentFile(path);
  if (!file.ok()) return file.status();
  SegmentStart start;
  start.path = path;
  start.file_size = file->size();
  segment::SegmentHeader header;
  segment::ScavengedFields fields;
  start.header_status = segment::DecodeAnySegmentHeader(
      file->data(), file->size(), path, &header, &fields);
  std::optional<uint64_t> seed;
  if (start.header_status.ok()) {
    SegmentHeaderInfo& info = start.header;
    info.format_version = header.format_version;
    info.store_id = header.store_id;
    info.segment_number = header.segment_number;
    info.first_position = header.first_position;
    info.capacity = header.capacity;
    info.created_us = header.created_us;
    info.generation = fields.generation;
    info.end_position = fields.generation != 0 ? fields.end_position : 0;
    seed = header.Seed();
  } else if (file->number) {
    // With a damaged header, the store id of any other segment in the same
    // directory whose header verifies (and the number in the file name)
    // is what this segment's record checksums are seeded with.
    start.store_id_from_sibling =
        StoreIdOfSegmentsIn(ParentDir(path), BaseName(path));
    if (start.store_id_from_sibling) {
      seed = segment::SegmentSeed(*start.store_id_from_sibling, *file->number);
    }
  }
  start.records_walked = seed.has_value();
  visitor->OnStart(start);
  if (!seed) return Status::Ok();
  WalkResult walk = WalkSegment(
      file->data(), file->size(), *seed,
      [&](const WalkedRecord& r) { visitor->OnRecord(ToRecordInfo(r)); },
      [&](const SkippedBytes& b) {
        visitor->OnSkipped({b.begin, b.end, b.all_zero});
      });
  visitor->OnEnd({walk.end_of_records, walk.records_ok, walk.problems});
  return Status::Ok();
}

}  // namespace cairn::inspect
