// Copyright (c) Cairn authors.
#include "segment/scavenged_segment.h"

#include <cstring>
#include <optional>
#include <span>

#include "segment/durable_mark.h"
#include "segment/record.h"

namespace cairn::segment {

namespace {

// Visits every record of a segment file, verified: a scavenged one by
// ScanScavengedSegment, another by ScanSegment as a sealed segment (no
// torn tail). *end is the position after the last position it covers.
Status ForEachRecord(const uint8_t* data, size_t size,
                     const SegmentHeader& header, const std::string& file,
                     const std::function<void(const ScannedRecord&)>& visit,
                     uint64_t* end) {
  if (IsScavengedFormat(header.format_version)) {
    SegmentHeader decoded;
    ScavengedFields fields;
    Status s = ScanScavengedSegment(data, size, file, visit, &decoded, &fields);
    *end = fields.end_position;
    return s;
  }
  SegmentScanOptions options;
  SegmentScanResult scanned;
  Status s = ScanSegment(
      data, size, header, file, options,
      [&](std::span<const ScannedRecord> records) {
        for (const ScannedRecord& r : records) visit(r);
      },
      &scanned);
  *end = scanned.next_position;
  return s;
}

}  // namespace

Status BuildScavengedSegment(const uint8_t* data, size_t size,
                             const SegmentHeader& header,
                             const std::string& file,
                             const ScavengedFields& fields,
                             const KeepRecord& keep, std::string* out,
                             ScavengeCopyStats* stats) {
  // A copy is never larger than its source: reserving that once spares
  // the reallocations, and a reused *out keeps its pages.
  std::string& copy = *out;
  copy.reserve(size);
  copy.assign(kSegmentHeaderSize, '\0');
  ScavengeCopyStats counted;
  uint64_t source_end = 0;
  const uint64_t seed = header.Seed();
  EventDecoder decoder(data + kSegmentHeaderSize, seed);
  // Where the copy holds the head of the append being copied: the source's
  // head when it is kept, else the first kept continuation, made a head.
  std::optional<size_t> copy_head;
  bool malformed = false;
  Status s = ForEachRecord(
      data, size, header, file,
      [&](const ScannedRecord& r) {
        const uint8_t* record = data + r.offset;
        const size_t record_size = r.header.RecordSize();
        const bool head = r.header.type == RecordType::kEvent;
        if (head) copy_head.reset();
        if (!keep(r, record)) {
          ++counted.removed_records;
          counted.removed_bytes += record_size;
          return;
        }
        const size_t at = copy.size();
        if (head) {
          copy.append(reinterpret_cast<const char*>(record), record_size);
          copy_head = at;
        } else if (copy_head) {
          AppendRelinkedContinuation(record, r.header,
                                     static_cast<uint32_t>(at - *copy_head),
                                     seed, &copy);
        } else {
          HeadFields fields;
          if (!decoder.Head(record, r.header, &fields)) {
            malformed = true;
            return;
          }
          AppendPromotedContinuation(record, r.header, fields, seed, &copy);
          copy_head = at;
        }
        ++counted.kept_records;
        counted.kept_bytes += copy.size() - at;
      },
      &source_end);
  if (!s.ok()) return s;
  if (malformed) {
    // The scan checked every link: only damage after it explains this.
    return Status::Corruption(file, 0,
                              "a continuation's head does not check out");
  }
  if (fields.end_position < source_end) {
    return Status::InvalidArgument("scavenged segment end position " +
                                   std::to_string(fields.end_position) +
                                   " lies below the end " +
                                   std::to_string(source_end) + " of " + file);
  }
  if (copy.size() > UINT32_MAX) {
    // Offsets are u32 (record headers, marks, index entries); a source
    // segment can not be larger, so neither can its copy.
    return Status::InvalidArgument("scavenged copy of " + file +
                                   " exceeds 4 GiB");
  }
  SegmentHeader v3 = header;
  v3.capacity = copy.size();
  auto* bytes = reinterpret_cast<uint8_t*>(copy.data());
  EncodeScavengedSegmentHeader(v3, fields, bytes);
  DurableMark mark;
  mark.sequence = 1;
  mark.end_offset = static_cast<uint32_t>(copy.size());
  mark.flags = kMarkFlagClosed;
  mark.next_position = fields.end_position;
  EncodeDurableMark(mark, v3.Seed(), bytes + DurableMarkOffset(mark.sequence));
  *stats = counted;
  return Status::Ok();
}

Status ScanScavengedSegment(
    const uint8_t* data, size_t size, const std::string& file,
    const std::function<void(const ScannedRecord&)>& on_record,
    SegmentHeader* header, ScavengedFields* fields) {
  Status s = DecodeScavengedSegmentHeader(data, size, file, header, fields);
  if (!s.ok()) return s;
  if (header->capacity != size) {
    return Status::Corruption(
        file, 0,
        "scavenged segment capacity " + std::to_string(header->capacity) +
            " differs from its file size " + std::to_string(size));
  }
  const uint64_t seed = header->Seed();
  uint64_t offset = kSegmentHeaderSize;
  uint64_t next_allowed = header->first_position;
  // The nearest head before `offset`, which a continuation must name.
  std::optional<uint64_t> last_head;
  while (offset < size) {
    ScannedRecord r;
    r.offset = offset;
    if (DecodeRecordHeader(data + offset, size - offset, seed, &r.header) !=
        HeaderCheck::kOk) {
      // The file ends at its last record: zeros, a partial or a bad
      // header here is damage (the file was synced whole before it was
      // committed).
      return Status::Corruption(
          file, offset, "no valid record header in a scavenged segment");
    }
    if (r.header.position < next_allowed ||
        r.header.position >= fields->end_position) {
      return Status::Corruption(
          file, offset,
          "record position " + std::to_string(r.header.position) +
              " out of order in a scavenged segment (expected at least " +
              std::to_string(next_allowed) + ", below " +
              std::to_string(fields->end_position) + ")");
    }
    if (!VerifyRecordBody(data + offset, r.header, seed)) {
      return Status::Corruption(file, offset,
                                "record body checksum does not match");
    }
    if (!CheckEventBody(data + offset, r.header)) {
      return Status::Corruption(file, offset, "malformed event body");
    }
    if (r.header.type == RecordType::kEvent) {
      last_head = offset;
    } else if (!HasContinuationRecords(header->format_version) || !last_head ||
               ContinuationBackOffset(data + offset) != offset - *last_head) {
      return Status::Corruption(
          file, offset,
          "continuation record does not name the nearest head before it");
    }
    if (on_record) on_record(r);
    next_allowed = r.header.position + 1;
    offset += r.header.RecordSize();
  }
  const auto mark = NewestDurableMark(data, size, *header);
  if (!mark || !mark->closed() || mark->end_offset != size ||
      mark->next_position != fields->end_position) {
    return Status::Corruption(file, 0,
                              "scavenged segment lacks the CLOSED mark naming "
                              "its end");
  }
  return Status::Ok();
}

}  // namespace cairn::segment
