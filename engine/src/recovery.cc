// Copyright (c) Cairn authors.
#include "engine/src/recovery.h"

#include <utility>

#include "engine/src/log_indexer.h"
#include "engine/src/report.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::engine {

Status Recovery::OpenIndexes(bool read_only,
                             const std::atomic<uint64_t>* durable) {
  Status s = OpenStreamIndex(read_only, durable);
  if (s.ok()) s = OpenLinkIndex(read_only);
  return s;
}

Status Recovery::OpenStreamIndex(bool read_only,
                                 const std::atomic<uint64_t>* durable) {
  const auto& segments = log_->segments();
  const uint64_t first_position = segments.front()->header.first_position;
  index::IndexOptions index_options;
  index_options.memtable_entries = options_.index_memtable_events;
  index_options.cache_streams = options_.index_cache_streams;
  index_options.read_only = read_only;
  if (options_.logger) {
    index_options.on_background_error = [logger =
                                             options_.logger](const Status& s) {
      logger(LogLevel::kError,
             "stream index background work failed (retried later): " +
                 s.ToString());
    };
  }
  index::NameReader names = [locator = locator_](uint64_t position,
                                                 uint32_t offset) {
    return locator->StreamNameAt(position, offset);
  };
  // A damaged entry block of a table is rebuilt from the log by the lookup
  // that meets it (index::Table::set_block_source).
  index_options.log_events =
      [locator = locator_](
          uint64_t first, uint64_t end,
          const std::function<bool(const index::LoggedEvent&)>& visit) {
        return locator->ForEachEvent(first, end, visit);
      };
  const std::string index_dir = io::JoinPath(dir_, kIndexDirName);
  for (int attempt = 1;; ++attempt) {
    auto opened = index::PersistentIndex::Open(fs_, index_dir, log_->store_id(),
                                               first_position, index_options,
                                               names, durable);
    if (!opened.ok()) return opened.status();
    index_ = std::move(opened.value());
    locator_->set_index(index_.get());
    if (!read_only || index_->open_note().empty() ||
        attempt == kReaderIndexAttempts) {
      break;
    }
  }
  if (!index_->open_note().empty()) {
    Report(options_, LogLevel::kWarning,
           "stream index in " + index_dir + ": " + index_->open_note());
  }
  if (options_.rebuild_index) {
    Status s = index_->Reset(first_position);
    if (!s.ok()) return s;
    Report(options_, LogLevel::kInfo,
           "stream index in " + index_dir +
               " discarded as asked (rebuild_index); rebuilding it from the "
               "log");
  }

  start_ = SegmentLog::ReplayStart{0, 0, first_position};
  const uint64_t next = index_->next_position();
  if (next == first_position) return Status::Ok();
  std::string mismatch;
  if (!ReplayStartFor(next, index_->loaded_last_position(),
                      index_->loaded_last_offset(), &start_, &mismatch)) {
    // Derived data never stops an open: start the index again.
    start_ = SegmentLog::ReplayStart{0, 0, first_position};
    Status s = index_->Reset(first_position);
    if (!s.ok()) return s;
    Report(options_, LogLevel::kWarning,
           "stream index in " + index_dir + " does not match the log (" +
               mismatch + "); discarded and rebuilt from the log");
  }
  return Status::Ok();
}

Status Recovery::OpenLinkIndex(bool read_only) {
  if (!options_.category_and_type_streams) return Status::Ok();
  const std::string dir =
      io::JoinPath(io::JoinPath(dir_, kIndexDirName), kLinkIndexDirName);
  // A read-only opener keeps the link index only when a writer maintains
  // one: otherwise it would index the whole log in memory, with no writer
  // tables ever bounding it.
  if (read_only && !fs_->Exists(dir)) return Status::Ok();
  const uint64_t first_position =
      log_->segments().front()->header.first_position;
  index::IndexOptions index_options;
  // Two entries per event: the same number of events per table as the
  // stream index, so their tables end at the same positions.
  index_options.memtable_entries = 2 * options_.index_memtable_events;
  index_options.cache_streams = options_.index_cache_streams;
  index_options.read_only = read_only;
  index_options.log_events =
      [locator = locator_](
          uint64_t first, uint64_t end,
          const std::function<bool(const index::LoggedEvent&)>& visit) {
        return locator->ForEachEvent(first, end, visit);
      };
  index::EventKeyReader keys = [locator = locator_](uint64_t position,
                                                    uint32_t offset) {
    return locator->EventKeyAt(position, offset);
  };
  for (int attempt = 1;; ++attempt) {
    auto opened = index::LinkIndex::Open(fs_, dir, log_->store_id(),
                                         first_position, index_options, keys);
    if (!opened.ok()) return opened.status();
    links_ = std::move(opened.value());
    if (!read_only || links_->open_note().empty() ||
        attempt == kReaderIndexAttempts) {
      break;
    }
  }
  bool reset = options_.rebuild_index;
  SegmentLog::ReplayStart link_start{0, 0, first_position};
  if (!reset) {
    if (auto last = links_->last_indexed_position()) {
      std::string mismatch;
      // Only half of the last event's entries can not come from a table
      // (tables end between events); if it happens, start again.
      reset =
          links_->next_position() != *last + 1 ||
          !ReplayStartFor(*last + 1, links_->loaded_last_position(),
                          links_->loaded_last_offset(), &link_start, &mismatch);
    }
  }
  if (reset) {
    link_start = SegmentLog::ReplayStart{0, 0, first_position};
    Status s = links_->Reset(first_position);
    if (!s.ok()) return s;
  }
  // One replay feeds both indexes, from where the one behind needs it.
  if (link_start.position < start_.position) start_ = link_start;
  return Status::Ok();
}

bool Recovery::ReplayStartFor(uint64_t next,
                              std::optional<uint64_t> last_position,
                              std::optional<uint32_t> last_offset,
                              SegmentLog::ReplayStart* start,
                              std::string* mismatch) {
  // The index claims every event below `next`. Believe it only if the log
  // has the last of them where the index says: a log restored from an
  // older backup, or an index copied from another store, is caught here
  // and the index rebuilt. After a scavenge the last of them can be below
  // next - 1 (the positions between were removed), so that every record
  // after it has a position of `next` or more.
  const auto& segments = log_->segments();
  auto at = last_position ? log_->SegmentStartingAtOrBefore(*last_position)
                          : std::nullopt;
  if (!at || !last_offset || *last_position >= next) {
    *mismatch = "the index ends at position " + std::to_string(next) +
                " but its last event is not in the log";
    return false;
  }
  segment::RecordHeader header;
  MappedSegment pin;
  auto record =
      locator_->VerifiedRecordAt(*last_position, *last_offset, &header, &pin);
  if (!record.ok()) {
    *mismatch = record.status().ToString();
    return false;
  }
  // A continuation's stream name is its append's head's: that must
  // verify too.
  segment::EventDecoder decoder(pin.data() + segment::kSegmentHeaderSize,
                                pin->seed);
  segment::HeadFields head;
  if (!decoder.Head(*record, header, &head)) {
    *mismatch = "the head of the append of the index's last event (position " +
                std::to_string(*last_position) + ") does not verify";
    return false;
  }
  if (*at + 1 < segments.size() &&
      segments[*at + 1]->header.first_position == next) {
    *start = SegmentLog::ReplayStart{*at + 1, 0, next};
  } else {
    *start =
        SegmentLog::ReplayStart{*at, *last_offset + header.RecordSize(), next};
  }
  return true;
}

Status Recovery::Replay(uint64_t durable_end, uint64_t limit) {
  LogIndexer indexer(log_, index_.get(), links_.get());
  OpenProgress progress;
  progress.total_bytes = log_->ReplayBound(start_);
  const auto& report = options_.open_progress;
  Status index_status;
  Status s = log_->Replay(
      start_, durable_end, limit,
      [&](const MappedSegment& segment,
          std::span<const segment::ScannedRecord> records) {
        if (!index_status.ok()) return;
        index_status = indexer.Add(segment, records);
        progress.events += records.size();
      },
      [&](uint64_t scanned) {
        progress.scanned_bytes = scanned;
        if (report) report(progress);
      });
  if (!s.ok()) return s;
  if (!index_status.ok()) return index_status;
  s = indexer.SkipToEnd(std::min(limit, log_->next_position()));
  if (!s.ok()) return s;
  progress.done = true;
  progress.scanned_bytes = progress.total_bytes;
  if (report) report(progress);
  if (progress.events > 0) {
    Report(options_, LogLevel::kInfo,
           "replayed " + std::to_string(progress.events) +
               " events of the log from position " +
               std::to_string(start_.position) + " into the stream index");
  }
  return Status::Ok();
}

void Recovery::FindSealedEnds() {
  const auto& segments = log_->segments();
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    Segment& seg = *segments[i];
    if (seg.scavenged() || seg.end_offset != segment::kSegmentHeaderSize ||
        seg.end_position == seg.header.first_position) {
      continue;  // replayed, or empty
    }
    auto last = locator_->Locate(seg.end_position - 1);
    segment::RecordHeader header;
    if (last.ok() &&
        RecordLocator::ReadHeader(last->segment, last->offset, &header).ok()) {
      seg.end_offset = last->offset + header.RecordSize();
    }
  }
}

}  // namespace cairn::engine
