// Copyright (c) Cairn authors.
//
// Scavenging, the part that decides: which records of the sealed segments
// no stream read can return any more (scavenge_plan.h has the rule). The
// decision reads the log and the index only, through the same paths as
// reads, so it runs beside appends and reads like any reader.
#include <string>
#include <vector>

#include "engine/src/snapshots.h"
#include "engine/src/store_impl.h"
#include "segment/record.h"
#include "segment/scavenged_segment.h"
#include "segment/segment_scan.h"

namespace cairn::engine {

Result<std::optional<StreamRetention>> StoreImpl::RetentionOf(
    std::string_view stream) {
  if (IsSnapshotStream(stream)) {
    auto owner = ReadHead(SnapshotOwner(stream));
    if (!owner.ok() && owner.status().IsStreamDeleted()) {
      StreamRetention retention;
      retention.erase_all = true;
      return std::optional<StreamRetention>(retention);
    }
    if (!owner.ok() && !owner.status().IsNotFound()) return owner.status();
  }
  auto head = ReadHead(stream);
  if (!head.ok()) {
    if (!head.status().IsStreamDeleted()) return head.status();
    // Tombstoned: everything but the tombstone (its last event) goes.
    std::optional<uint64_t> last;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      auto found = index_->LastRevision(stream);
      if (!found.ok()) return found.status();
      last = *found;
    }
    if (!last) {
      return Status::Corruption(
          dir_, 0,
          "stream index lacks the tombstone of '" + std::string(stream) + "'");
    }
    StreamRetention retention;
    retention.last = *last;
    retention.tombstoned = true;
    return std::optional<StreamRetention>(retention);
  }
  if (!head->last) return std::optional<StreamRetention>();
  auto visible = VisibilityFromHead(stream, *head);
  if (!visible.ok()) return visible.status();
  StreamRetention retention;
  retention.last = visible->last;
  retention.first_readable = visible->first;
  retention.min_created_us = visible->min_created_us;
  return std::optional<StreamRetention>(retention);
}

ScavengePlanner StoreImpl::MakeScavengePlanner(size_t max_cached_streams) {
  return ScavengePlanner(
      [this](std::string_view stream) { return RetentionOf(stream); },
      max_cached_streams);
}

Result<ScavengePlan> StoreImpl::PlanScavenge(size_t max_cached_streams,
                                             uint64_t end,
                                             ScavengePacer* pacer) {
  // Sealed segments never change: the list of them is taken once, and the
  // active one (still written) is left out.
  std::vector<std::shared_ptr<Segment>> sealed;
  ScavengePlan plan;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    const auto& listed = log_->segments();
    // A sealed segment ends where the next one starts.
    for (size_t i = 0; i + 1 < listed.size(); ++i) {
      if (listed[i + 1]->header.first_position > end) break;
      sealed.push_back(listed[i]);
    }
    plan.examined_end =
        listed.empty() ? 0 : listed[sealed.size()]->header.first_position;
  }
  ScavengePlanner planner = MakeScavengePlanner(max_cached_streams);
  for (const std::shared_ptr<Segment>& seg : sealed) {
    auto pinned = log_->Pin(seg);
    if (!pinned.ok()) return pinned.status();
    const MappedSegment& mapped = *pinned;
    ScavengeUnitPlan unit;
    unit.unit = seg->header.segment_number;
    unit.first_position = seg->header.first_position;
    unit.end_position = seg->end_position;
    unit.file_bytes = mapped.mapped_size();
    Status failure;
    segment::EventDecoder decoder(mapped.data() + segment::kSegmentHeaderSize,
                                  seg->seed);
    auto visit = [&](const segment::ScannedRecord& r) {
      if (!failure.ok()) return;
      ++unit.records;
      unit.record_bytes += r.header.RecordSize();
      auto removable = planner.RemovableRecord(
          &decoder, mapped.data() + r.offset, r.header, seg->path, r.offset);
      if (!removable.ok()) {
        failure = removable.status();
        return;
      }
      if (*removable) {
        ++unit.removable_records;
        unit.removable_bytes += r.header.RecordSize();
      }
    };
    // The scans verify every header and body checksum: nothing is decided
    // on bytes that do not verify.
    Status s;
    if (seg->generation != 0) {
      segment::SegmentHeader header;
      segment::ScavengedFields fields;
      s = segment::ScanScavengedSegment(mapped.data(), mapped.mapped_size(),
                                        seg->path, visit, &header, &fields);
    } else {
      segment::SegmentScanOptions scan_options;
      segment::SegmentScanResult scanned;
      s = segment::ScanSegment(
          mapped.data(), mapped.mapped_size(), seg->header, seg->path,
          scan_options,
          [&](std::span<const segment::ScannedRecord> records) {
            for (const segment::ScannedRecord& r : records) visit(r);
          },
          &scanned);
    }
    if (!s.ok()) return s;
    if (!failure.ok()) return failure;
    ++plan.units_examined;
    plan.records += unit.records;
    plan.removable_records += unit.removable_records;
    plan.removable_bytes += unit.removable_bytes;
    if (WorthRewriting(unit)) plan.units.push_back(unit);
    if (pacer != nullptr) pacer->Rest();
  }
  return plan;
}

}  // namespace cairn::engine
