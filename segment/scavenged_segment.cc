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

// The checks of a scavenged segment's records, in file order: what one
// record's check carries to the next.
class RecordChecker {
 public:
  RecordChecker(const std::string& file, const SegmentHeader& header,
                uint64_t end_position)
      : file_(file),
        seed_(header.Seed()),
        format_version_(header.format_version),
        next_allowed_(header.first_position),
        end_position_(end_position) {}

  // Checks the record at `at` (`avail` bytes from it on), at `offset` of
  // the file, and decodes its header into *r.
  Status Check(const uint8_t* at, size_t avail, uint64_t offset,
               ScannedRecord* r) {
    r->offset = offset;
    if (DecodeRecordHeader(at, avail, seed_, &r->header) != HeaderCheck::kOk) {
      // The file ends at its last record: zeros, a partial or a bad
      // header here is damage (the file was synced whole before it was
      // committed).
      return Status::Corruption(
          file_, offset, "no valid record header in a scavenged segment");
    }
    if (r->header.position < next_allowed_ ||
        r->header.position >= end_position_) {
      return Status::Corruption(
          file_, offset,
          "record position " + std::to_string(r->header.position) +
              " out of order in a scavenged segment (expected at least " +
              std::to_string(next_allowed_) + ", below " +
              std::to_string(end_position_) + ")");
    }
    if (!VerifyRecordBody(at, r->header, seed_)) {
      return Status::Corruption(file_, offset,
                                "record body checksum does not match");
    }
    if (!CheckEventBody(at, r->header)) {
      return Status::Corruption(file_, offset, "malformed event body");
    }
    if (r->header.type == RecordType::kEvent) {
      last_head_ = offset;
    } else if (!HasContinuationRecords(format_version_) || !last_head_ ||
               ContinuationBackOffset(at) != offset - *last_head_) {
      return Status::Corruption(
          file_, offset,
          "continuation record does not name the nearest head before it");
    }
    next_allowed_ = r->header.position + 1;
    return Status::Ok();
  }

 private:
  const std::string& file_;
  uint64_t seed_;
  uint32_t format_version_;
  uint64_t next_allowed_;
  uint64_t end_position_;
  // The nearest head before the next record, which a continuation must
  // name.
  std::optional<uint64_t> last_head_;
};

// Checks the header region data[0, kSegmentHeaderSize) of a scavenged
// segment whose file has `size` bytes, apart from its mark.
Status CheckScavengedHeader(const uint8_t* data, size_t size,
                            const std::string& file, SegmentHeader* header,
                            ScavengedFields* fields) {
  Status s = DecodeScavengedSegmentHeader(data, size, file, header, fields);
  if (!s.ok()) return s;
  if (header->capacity != size) {
    return Status::Corruption(
        file, 0,
        "scavenged segment capacity " + std::to_string(header->capacity) +
            " differs from its file size " + std::to_string(size));
  }
  return Status::Ok();
}

// Checks that the header region holds the CLOSED mark naming the end of a
// file of `size` bytes and fields.end_position.
Status CheckClosedMark(const uint8_t* data, size_t size,
                       const std::string& file, const SegmentHeader& header,
                       const ScavengedFields& fields) {
  const auto mark = NewestDurableMark(data, size, header);
  if (!mark || !mark->closed() || mark->end_offset != size ||
      mark->next_position != fields.end_position) {
    return Status::Corruption(file, 0,
                              "scavenged segment lacks the CLOSED mark naming "
                              "its end");
  }
  return Status::Ok();
}

// Adds the kept records to a piece, checks each, and hands full pieces to
// the sink.
class PieceWriter {
 public:
  PieceWriter(const ScavengedCopyOutput& output, const SegmentHeader& header,
              uint64_t end_position)
      : output_(output),
        piece_(*output.piece),
        checker_(output.file, header, end_position) {
    piece_.clear();
    // A piece is written once a record takes it to piece_size, so it
    // stays below twice that unless one record is larger: reserved once,
    // it never moves for records up to piece_size.
    piece_.reserve(output.piece_size <= SIZE_MAX / 2 ? 2 * output.piece_size
                                                     : output.piece_size);
  }

  // Where the next record goes: the end of the piece, at copy offset
  // next_offset().
  std::string* piece() { return &piece_; }
  uint64_t next_offset() const { return piece_start_ + piece_.size(); }
  uint64_t piece_offset() const { return piece_start_; }

  // The record just added at piece offset `at`: checked, reported, and
  // the piece written once it is full.
  Status Added(size_t at) {
    ScannedRecord r;
    const auto* bytes = reinterpret_cast<const uint8_t*>(piece_.data());
    Status s =
        checker_.Check(bytes + at, piece_.size() - at, piece_start_ + at, &r);
    if (!s.ok()) return s;
    output_.sink->Kept(r);
    return piece_.size() >= output_.piece_size ? Flush() : Status::Ok();
  }

  Status Flush() {
    if (piece_.empty()) return Status::Ok();
    Status s = output_.sink->Write(
        piece_start_, reinterpret_cast<const uint8_t*>(piece_.data()),
        piece_.size());
    piece_start_ += piece_.size();
    piece_.clear();
    return s;
  }

 private:
  const ScavengedCopyOutput& output_;
  std::string& piece_;
  RecordChecker checker_;
  uint64_t piece_start_ = kSegmentHeaderSize;
};

}  // namespace

Status StreamScavengedSegment(const uint8_t* data, size_t size,
                              const SegmentHeader& header,
                              const std::string& file,
                              const ScavengedFields& fields,
                              const KeepRecord& keep,
                              const ScavengedCopyOutput& output,
                              ScavengeCopyStats* stats, uint64_t* copy_size) {
  SegmentHeader copy_header = header;
  copy_header.format_version = kScavengedSegmentFormatVersion;
  PieceWriter writer(output, copy_header, fields.end_position);
  ScavengeCopyStats counted;
  uint64_t source_end = 0;
  const uint64_t seed = header.Seed();
  EventDecoder decoder(data + kSegmentHeaderSize, seed);
  // Where the copy holds the head of the append being copied: the source's
  // head when it is kept, else the first kept continuation, made a head.
  std::optional<uint64_t> copy_head;
  Status failure;
  Status s = ForEachRecord(
      data, size, header, file,
      [&](const ScannedRecord& r) {
        if (!failure.ok()) return;
        const uint8_t* record = data + r.offset;
        const size_t record_size = r.header.RecordSize();
        const bool head = r.header.type == RecordType::kEvent;
        if (head) copy_head.reset();
        if (!keep(r, record)) {
          ++counted.removed_records;
          counted.removed_bytes += record_size;
          return;
        }
        const uint64_t at = writer.next_offset();
        std::string* piece = writer.piece();
        const size_t piece_at = piece->size();
        if (head) {
          piece->append(reinterpret_cast<const char*>(record), record_size);
          copy_head = at;
        } else if (copy_head) {
          AppendRelinkedContinuation(record, r.header,
                                     static_cast<uint32_t>(at - *copy_head),
                                     seed, piece);
        } else {
          HeadFields head_fields;
          if (!decoder.Head(record, r.header, &head_fields)) {
            // The scan checked every link: only damage after it explains
            // this.
            failure = Status::Corruption(
                file, 0, "a continuation's head does not check out");
            return;
          }
          AppendPromotedContinuation(record, r.header, head_fields, seed,
                                     piece);
          copy_head = at;
        }
        ++counted.kept_records;
        counted.kept_bytes += piece->size() - piece_at;
        if (writer.next_offset() > UINT32_MAX) {
          // Offsets are u32 (record headers, marks, index entries); a
          // source segment can not be larger, so neither can its copy.
          failure = Status::InvalidArgument("scavenged copy of " + file +
                                            " exceeds 4 GiB");
          return;
        }
        failure = writer.Added(piece_at);
      },
      &source_end);
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  if (fields.end_position < source_end) {
    return Status::InvalidArgument("scavenged segment end position " +
                                   std::to_string(fields.end_position) +
                                   " lies below the end " +
                                   std::to_string(source_end) + " of " + file);
  }
  s = writer.Flush();
  if (!s.ok()) return s;
  const uint64_t total = writer.piece_offset();
  copy_header.capacity = total;
  uint8_t region[kSegmentHeaderSize] = {};
  EncodeScavengedSegmentHeader(copy_header, fields, region);
  DurableMark mark;
  mark.sequence = 1;
  mark.end_offset = static_cast<uint32_t>(total);
  mark.flags = kMarkFlagClosed;
  mark.next_position = fields.end_position;
  EncodeDurableMark(mark, copy_header.Seed(),
                    region + DurableMarkOffset(mark.sequence));
  SegmentHeader checked_header;
  ScavengedFields checked_fields;
  s = CheckScavengedHeader(region, total, output.file, &checked_header,
                           &checked_fields);
  if (s.ok()) {
    s = CheckClosedMark(region, total, output.file, checked_header,
                        checked_fields);
  }
  if (!s.ok()) return s;
  s = output.sink->Write(0, region, sizeof(region));
  if (!s.ok()) return s;
  *stats = counted;
  *copy_size = total;
  return Status::Ok();
}

namespace {

// Assembles a copy in one string.
class StringSink : public ScavengedCopySink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  Status Write(uint64_t offset, const uint8_t* bytes, size_t size) override {
    const auto* chars = reinterpret_cast<const char*>(bytes);
    if (offset == 0) {
      out_->replace(0, size, chars, size);
    } else {
      out_->append(chars, size);
    }
    return Status::Ok();
  }
  void Kept(const ScannedRecord&) override {}

 private:
  std::string* out_;
};

}  // namespace

Status BuildScavengedSegment(const uint8_t* data, size_t size,
                             const SegmentHeader& header,
                             const std::string& file,
                             const ScavengedFields& fields,
                             const KeepRecord& keep, std::string* out,
                             ScavengeCopyStats* stats) {
  // A copy is never larger than its source: reserving that once spares
  // the reallocations, and a reused *out keeps its pages.
  out->reserve(size);
  out->assign(kSegmentHeaderSize, '\0');
  StringSink sink(out);
  std::string piece;
  ScavengedCopyOutput output;
  output.file = file + " (scavenged copy)";
  output.piece = &piece;
  output.sink = &sink;
  uint64_t copy_size = 0;
  return StreamScavengedSegment(data, size, header, file, fields, keep, output,
                                stats, &copy_size);
}

Status ScanScavengedSegment(
    const uint8_t* data, size_t size, const std::string& file,
    const std::function<void(const ScannedRecord&)>& on_record,
    SegmentHeader* header, ScavengedFields* fields) {
  Status s = CheckScavengedHeader(data, size, file, header, fields);
  if (!s.ok()) return s;
  RecordChecker checker(file, *header, fields->end_position);
  uint64_t offset = kSegmentHeaderSize;
  while (offset < size) {
    ScannedRecord r;
    s = checker.Check(data + offset, size - offset, offset, &r);
    if (!s.ok()) return s;
    if (on_record) on_record(r);
    offset += r.header.RecordSize();
  }
  return CheckClosedMark(data, size, file, *header, *fields);
}

}  // namespace cairn::segment
