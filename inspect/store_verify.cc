// Copyright (c) Cairn authors.
//
// inspect::VerifyStore: checks a store's files without opening the store
// (so it never repairs anything, and works on a store the engine refuses
// to open): every segment header, every record checksum, and the
// invariants of the log:
//   - the rules of the segment list (segment/segment_list.h, the checker
//     the engine's open uses too): segment files numbered 0, 1, 2, ...
//     without a gap, all of one store, segment 0 starting at position 0;
//   - global positions gapless across segments;
//   - every stream's revisions contiguous from 0;
//   - only whole appends (a run of records ending in a commit record);
//   - only zeros after the last record of every sealed (non-last) segment;
//   - a scavenged segment (version 3, segment/scavenged_segment.h) holds
//     kept records only, with gaps in positions, and ends exactly at the
//     end of its last record; from the first one on, each stream's
//     revisions need only increase (its removed events leave gaps).
// segment::ScanSegment (the engine's recovery scan) checks each segment;
// where it finds damage, the walk of inspect/segment_walk.h lists the other
// damaged records of that segment too, since the scan stops at the first.
//
// A torn tail in the last segment (an append interrupted by a crash, which
// the next writable open truncates) is a warning, not a problem. To tell a
// torn tail from damage to acknowledged data exactly as recovery does, the
// scan gets the durable position from the watermark file (docs/format.md);
// without it, damage after the last synced record of the last segment
// could only be called a torn tail.
//
// Then the index files (DIR/index), by inspect/index_verify.h: their own
// checksums and structure, and the index against the log.
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/inspect.h"
#include "engine/io/file_system.h"
#include "engine/src/watermark.h"
#include "inspect/index_verify.h"
#include "inspect/segment_walk.h"
#include "inspect/status_finding.h"
#include "segment/record.h"
#include "segment/scavenged_segment.h"
#include "segment/segment_header.h"
#include "segment/segment_list.h"
#include "segment/segment_scan.h"

namespace cairn::inspect {
namespace {

class Verifier {
 public:
  explicit Verifier(const VerifyOptions& options) : options_(options) {}

  Result<VerifyReport> Run(const std::string& dir) {
    dir_ = dir;
    std::vector<std::string> superseded;
    auto names = ListSegmentFiles(dir, &superseded);
    if (!names.ok()) return names.status();
    if (names->empty()) return std::move(report_);
    report_.segments = names->size();
    ReadWatermark(dir);
    for (const std::string& path : superseded) {
      Warning(path, 0,
              "an older generation of a scavenged segment: garbage, removed "
              "by the next writable open");
    }
    // The list rules the engine's open applies, through the same checker.
    segment::SegmentListChecker list(dir);
    for (size_t i = 0; i < names->size(); ++i) {
      const SegmentName& name = (*names)[i];
      Status gap = list.CheckNumber(name.number, name.generation);
      if (!gap.ok()) {
        StatusProblem(name.path, gap);
        next_position_.reset();  // the positions in between are unknown
      }
      VerifySegment(name, /*is_last=*/i + 1 == names->size(), &list);
    }
    log_.store_id = store_id_.value_or(0);
    log_.healthy = report_.log_problems == 0;
    const IndexReport index = VerifyIndex(dir, log_);
    for (const IndexFinding& f : index.findings) {
      Add({Area::kIndex, f.warning ? Severity::kWarning : Severity::kProblem,
           f.file, f.offset, f.message});
    }
    report_.index_problems = index.problems;
    report_.warnings += index.warnings;
    report_.index_present = index.present;
    report_.index_tables = index.tables;
    report_.index_entries = index.entries;
    report_.index_checkpoint = index.checkpoint;
    report_.index_checked_against_log = index.checked_against_log;
    report_.streams = revisions_.size();
    return std::move(report_);
  }

 private:
  void Add(Finding finding) {
    if (options_.on_finding) options_.on_finding(finding);
    if (report_.findings.size() < options_.max_findings) {
      report_.findings.push_back(std::move(finding));
    } else {
      ++report_.findings_dropped;
    }
  }

  void Problem(const std::string& file, uint64_t offset, std::string message) {
    ++report_.log_problems;
    Add({Area::kLog, Severity::kProblem, file, offset, std::move(message)});
  }

  void Warning(const std::string& file, uint64_t offset, std::string message) {
    ++report_.warnings;
    Add({Area::kLog, Severity::kWarning, file, offset, std::move(message)});
  }

  void ReadWatermark(const std::string& dir) {
    io::FileSystem* fs = io::PosixFileSystem();
    if (!fs->Exists(io::JoinPath(dir, engine::kWatermarkFileName))) return;
    auto wm = engine::Watermark::Open(fs, dir, 0, /*writable=*/false);
    if (!wm.ok()) {
      Warning(io::JoinPath(dir, engine::kWatermarkFileName), 0,
              "unreadable watermark (" + wm.status().ToString() +
                  "); damage at the end of the last segment may be taken "
                  "for a torn tail");
      return;
    }
    watermark_store_id_ = (*wm)->store_id();
    watermark_durable_ = (*wm)->durable_next();
  }

  // A status from the segment layer, as a finding at its file and offset.
  void StatusProblem(const std::string& file, const Status& s) {
    StatusFinding f = FindingOf(file, s);
    Problem(f.file, f.offset, std::move(f.message));
  }

  void VerifySegment(const SegmentName& name, bool is_last,
                     segment::SegmentListChecker* list) {
    auto file = OpenSegmentFile(name.path);
    if (!file.ok()) {
      StatusProblem(name.path, file.status());
      next_position_.reset();
      return;
    }
    segment::SegmentHeader header;
    segment::ScavengedFields fields;
    Status s = segment::DecodeAnySegmentHeader(file->data(), file->size(),
                                               name.path, &header, &fields);
    if (!s.ok()) {
      StatusProblem(name.path, s);
      next_position_.reset();
      return;
    }
    if (!store_id_) store_id_ = header.store_id;
    const bool scavenged = fields.generation != 0;
    Status listed =
        list->CheckHeader(name.number, header, scavenged ? &fields : nullptr);
    if (!listed.ok()) {
      StatusProblem(name.path, listed);
    } else if (next_position_ && header.first_position != *next_position_) {
      Problem(name.path, 0,
              "segment starts at position " +
                  std::to_string(header.first_position) +
                  " but the previous segment ends at position " +
                  std::to_string(*next_position_));
    }

    if (scavenged) {
      if (is_last) {
        Problem(name.path, 0,
                "the last segment is a scavenged one, which never takes "
                "appends: the segments after it are missing");
      }
      VerifyScavenged(*file, name.path, header, fields);
      return;
    }
    segment::SegmentScanOptions options;
    options.is_last = is_last;
    if (is_last && watermark_store_id_) {
      if (*watermark_store_id_ == header.store_id) {
        options.durable_position_end = watermark_durable_;
      } else {
        Warning(io::JoinPath(dir_, engine::kWatermarkFileName), 16,
                "watermark belongs to another store; ignored");
      }
    }
    segment::SegmentScanResult result;
    const uint8_t* data = file->data();
    std::string scratch;
    segment::EventDecoder decoder(data + segment::kSegmentHeaderSize,
                                  header.Seed());
    s = segment::ScanSegment(
        data, file->size(), header, name.path, options,
        [&](std::span<const segment::ScannedRecord> records) {
          for (const segment::ScannedRecord& r : records) {
            CheckRecord(name.path, data + r.offset, r, &decoder, &scratch);
          }
        },
        &result);
    if (!s.ok()) {
      StatusProblem(name.path, s);
      ListOtherDamage(*file, header, s);
      return;
    }
    if (result.torn_tail) {
      Warning(name.path, result.torn_offset,
              "torn tail: an append interrupted by a crash (or one a live "
              "writer is still writing); the next writable open truncates it");
    }
    log_.segments.push_back(
        {name.path, header, result.next_position, header.Seed()});
    next_position_ = result.next_position;
  }

  // Every record verified by ScanScavengedSegment; where it finds damage,
  // the walk lists the rest, as for other segments.
  void VerifyScavenged(const SegmentFile& file, const std::string& path,
                       const segment::SegmentHeader& header,
                       const segment::ScavengedFields& fields) {
    revision_gaps_ = true;
    std::string scratch;
    segment::EventDecoder decoder(file.data() + segment::kSegmentHeaderSize,
                                  header.Seed());
    segment::SegmentHeader scanned_header;
    segment::ScavengedFields scanned_fields;
    Status s = segment::ScanScavengedSegment(
        file.data(), file.size(), path,
        [&](const segment::ScannedRecord& r) {
          CheckRecord(path, file.data() + r.offset, r, &decoder, &scratch);
        },
        &scanned_header, &scanned_fields);
    if (!s.ok()) {
      StatusProblem(path, s);
      ListOtherDamage(file, header, s);
    } else {
      log_.segments.push_back(
          {path, header, fields.end_position, header.Seed()});
    }
    // The header verified: the next segment starts at its end.
    next_position_ = fields.end_position;
  }

  // Per record of a whole append: the full body decodes, and the stream's
  // revisions go 0, 1, 2, ... (only increase once a scavenged segment was
  // met).
  void CheckRecord(const std::string& file, const uint8_t* record,
                   const segment::ScannedRecord& r,
                   segment::EventDecoder* decoder, std::string* scratch) {
    ++report_.events;
    segment::EventFields fields;
    if (!decoder->Decode(record, r.header, scratch, &fields)) {
      Problem(file, r.offset,
              "event body does not decode (position " +
                  std::to_string(r.header.position) + ")");
      return;
    }
    auto [it, inserted] = revisions_.try_emplace(std::string(fields.stream), 0);
    uint64_t expected = inserted ? 0 : it->second + 1;
    const bool in_order = revision_gaps_ ? fields.revision >= expected
                                         : fields.revision == expected;
    if (!in_order) {
      Problem(file, r.offset,
              "stream '" + std::string(fields.stream) + "' has revision " +
                  std::to_string(fields.revision) + " at position " +
                  std::to_string(r.header.position) + ", expected revision " +
                  std::to_string(expected) +
                  (report_.log_problems > 0 && fields.revision > expected
                       ? " (the missing revisions may be in damage reported "
                         "above)"
                       : ""));
    }
    it->second = fields.revision;
  }

  // The scan stops at the first damage; the walk finds the rest. The first
  // damage the walk meets at or after the reported offset is the one the
  // scan already described, unless a valid record sits at that offset (the
  // scan then objected to its position, not its bytes). Valid records from
  // the reported offset on still go through the revision checks, so one
  // damaged record does not hide the state of the rest of the segment.
  void ListOtherDamage(const SegmentFile& file,
                       const segment::SegmentHeader& header,
                       const Status& reported) {
    const uint64_t from =
        reported.corruption() ? reported.corruption()->offset : 0;
    bool skip_first = true;
    bool after_bad_header = false;
    std::optional<uint64_t> last_position;
    std::string scratch;
    segment::EventDecoder decoder(file.data() + segment::kSegmentHeaderSize,
                                  header.Seed());
    auto damage = [&](uint64_t offset, const std::string& message) {
      if (offset < from) return;
      if (skip_first) {
        skip_first = false;
        return;
      }
      Problem(file.path, offset, message);
    };
    WalkSegment(
        file.data(), file.size(), header.Seed(),
        [&](const WalkedRecord& r) {
          if (r.status == RecordStatus::kOk) {
            if (r.offset < from) return;
            if (r.offset == from) skip_first = false;
            CheckRecord(file.path, file.data() + r.offset,
                        segment::ScannedRecord{r.offset, r.header}, &decoder,
                        &scratch);
            last_position = r.header.position;
            return;
          }
          std::string message =
              "damaged record (" + std::string(RecordStatusName(r.status));
          if (r.header_valid) {
            message += ", position " + std::to_string(r.header.position);
          }
          message += ")";
          after_bad_header =
              !r.header_valid || r.status == RecordStatus::kTruncated;
          damage(r.offset, message);
        },
        [&](const SkippedBytes& b) {
          // The bytes skipped after a damaged header belong to that record;
          // other skipped bytes are data after the zeroed end of the records.
          if (after_bad_header) {
            after_bad_header = false;
            return;
          }
          damage(b.begin, std::to_string(b.end - b.begin) +
                              " bytes after the zeroed end of the records");
        });
    if (last_position) {
      next_position_ = *last_position + 1;
    } else {
      next_position_.reset();
    }
  }

  const VerifyOptions& options_;
  std::string dir_;
  VerifyReport report_;
  std::optional<uint64_t> store_id_;
  std::optional<uint64_t> watermark_store_id_;
  uint64_t watermark_durable_ = 0;
  std::optional<uint64_t> next_position_ = 0;
  // A scavenged segment was met: revisions may skip removed events.
  bool revision_gaps_ = false;
  // Last revision seen per stream.
  std::unordered_map<std::string, uint64_t> revisions_;
  // The healthy segments, for checking the index against them.
  VerifiedLog log_;
};

}  // namespace

Result<VerifyReport> VerifyStore(const std::string& dir,
                                 const VerifyOptions& options) {
  return Verifier(options).Run(dir);
}

}  // namespace cairn::inspect
