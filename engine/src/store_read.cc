// Copyright (c) Cairn authors.
//
// The read path. Readers find record locations under the shared state lock
// and decode the records from the segment mappings after releasing it:
// published bytes never change, and a pinned MappedSegment keeps its
// mapping alive even when the cache of open segments evicts it.
#include <algorithm>
#include <limits>
#include <optional>

#include "engine/src/store_impl.h"
#include "index/link_streams.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::engine {
namespace {

Status ClosedStatus() { return Status::Closed("the store is closed"); }

// Backward reads gather this many locations per lock hold.
constexpr uint64_t kBackwardChunk = 512;

// Index entries a stream read with ReadStreamOptions::max_bytes takes at
// a time: its memory is this many entries plus about max_bytes of events,
// whatever max_count asks for.
constexpr uint64_t kByteBoundedIndexChunk = 1024;

// How far ahead of the record being decoded a scan without body checksums
// asks for the mapping's bytes: a few records, about the memory latency at
// the scan's rate.
constexpr uint64_t kPrefetchDistance = 1024;

// Asks the CPU for the mapping's cache lines kPrefetchDistance past the
// record [offset, next). A scan that skips body checksums reads only each
// record's first lines, a sparse pattern the hardware prefetcher follows
// poorly, so without this most header loads wait on memory. A checksummed
// scan streams every byte and needs no help.
void PrefetchAhead(const MappedSegment& seg, uint64_t offset, uint64_t next) {
  const uint64_t end =
      std::min<uint64_t>(next + kPrefetchDistance, seg.mapped_size());
  for (uint64_t line = (offset + kPrefetchDistance) & ~uint64_t{63}; line < end;
       line += 64) {
    __builtin_prefetch(seg.data() + line);
  }
}

}  // namespace

Status StoreImpl::DecodeAt(const MappedSegment& segment, uint64_t offset,
                           uint64_t expected_position, std::string* scratch,
                           RecordedEventView* view,
                           const segment::RecordHeader* known_header,
                           bool verify_body,
                           segment::EventDecoder* decoder) const {
  segment::RecordHeader header;
  if (known_header != nullptr) {
    header = *known_header;
  } else {
    Status s = RecordLocator::ReadHeader(segment, offset, &header);
    if (!s.ok()) return s;
  }
  const uint8_t* record = segment.data() + offset;
  if (header.position != expected_position) {
    return Status::Corruption(
        segment->path, offset,
        "record has position " + std::to_string(header.position) +
            ", expected " + std::to_string(expected_position));
  }
  if (verify_body &&
      !segment::VerifyRecordBody(record, header, segment->seed)) {
    return Status::Corruption(segment->path, offset,
                              "record body checksum does not match");
  }
  segment::EventFields fields;
  if (!decoder->Decode(record, header, scratch, &fields)) {
    return Status::Corruption(segment->path, offset,
                              "event record body is malformed");
  }
  view->stream = fields.stream;
  view->revision = StreamRevision(fields.revision);
  view->position = GlobalPosition(header.position);
  view->id = fields.id;
  view->type = fields.type;
  view->data = fields.data;
  view->metadata = fields.metadata;
  view->content_type = fields.content_type;
  view->created_us = fields.created_us;
  return Status::Ok();
}

Result<ReadStreamResult> StoreImpl::ReadStoredStream(
    std::string_view stream, const ReadStreamOptions& options) {
  if (closed_flag_.load(std::memory_order_acquire)) return ClosedStatus();
  if (stream.empty()) {
    return Status::InvalidArgument("stream name must not be empty");
  }
  // Category and event-type streams come from their own index.
  const bool link = index::IsLinkStreamName(stream);
  Status s = link ? CheckLinksEnabled(stream) : Status::Ok();
  if (s.ok()) s = Refresh();
  if (!s.ok()) return s;
  ReadStreamResult result;
  struct Item {
    std::shared_ptr<Segment> segment;
    uint64_t offset;
    uint64_t position;
    uint64_t revision;
  };
  std::vector<Item> items;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    auto last =
        link ? links_->LastRevision(stream) : index_->LastRevision(stream);
    if (!last.ok()) return last.status();
    if (!last->has_value()) {
      return Status::NotFound("stream '" + std::string(stream) +
                              "' has no events");
    }
    result.last_revision = StreamRevision(**last);
    bool forward = options.direction == Direction::kForward;
    uint64_t from =
        options.from ? options.from->value() : (forward ? 0 : **last);
    if (!forward && from > **last) from = **last;
    // A byte-bounded read takes the index a chunk at a time, so that its
    // entries are bounded too, not only its events.
    const uint64_t wanted =
        options.max_bytes == 0
            ? options.max_count
            : std::min<uint64_t>(options.max_count, kByteBoundedIndexChunk);
    std::vector<index::IndexedEvent> events;
    s = link ? links_->Read(stream, from, options.direction, wanted, &events)
             : index_->Read(stream, from, options.direction, wanted, &events);
    if (!s.ok()) return s;
    items.reserve(events.size());
    const auto& segments = log_->segments();
    for (const index::IndexedEvent& e : events) {
      auto index = log_->SegmentIndexOf(e.position);
      if (!index) {
        return Status::Corruption(dir_, 0, "stream index points past the log");
      }
      items.push_back({segments[*index], e.offset, e.position, e.revision});
    }
    // Fewer events than asked for: the index ran out of them (a scavenge
    // can leave gaps in the revisions, so counting is not enough).
    const bool ran_out = events.size() < wanted;
    if (forward) {
      result.end_of_stream = from + events.size() > **last || ran_out;
    } else {
      result.end_of_stream = events.size() == from + 1 || ran_out;
    }
  }
  result.events.reserve(items.size());
  uint64_t bytes = 0;
  std::string scratch;
  MappedSegment pinned;
  std::shared_ptr<Segment> pinned_for;  // the item segment `pinned` serves
  // Reads `pinned`: an append's events share their head, checked once.
  std::optional<segment::EventDecoder> decoder;
  for (const Item& item : items) {
    if (pinned_for != item.segment) {
      auto pin = log_->Pin(item.segment);
      if (!pin.ok()) return pin.status();
      pinned = std::move(pin.value());
      pinned_for = item.segment;
      decoder.emplace(pinned.data() + segment::kSegmentHeaderSize,
                      pinned->seed);
    }
    // A scavenge may have replaced the segment's file during this read.
    auto moved =
        locator_->OffsetInPin(pinned, item.segment, item.position, item.offset);
    if (!moved.ok()) return moved.status();
    if (!moved->has_value()) continue;  // removed
    const uint64_t offset = **moved;
    RecordedEventView view;
    s = DecodeAt(pinned, offset, item.position, &scratch, &view, nullptr, true,
                 &*decoder);
    if (s.ok() && link) {
      view.link_revision = StreamRevision(item.revision);
      s = CheckLinkMember(stream, view, pinned, offset);
    }
    if (!s.ok()) return s;
    result.events.push_back(view.ToOwned());
    bytes += view.type.size() + view.data.size() + view.metadata.size();
    if (options.max_bytes != 0 && bytes >= options.max_bytes &&
        &item != &items.back()) {
      // Stopped short of what the index found: more may follow.
      result.end_of_stream = false;
      break;
    }
  }
  return result;
}

Status StoreImpl::FilterAndDecode(const MappedSegment& seg, uint64_t offset,
                                  uint64_t position,
                                  const segment::RecordHeader& header,
                                  const ReadAllOptions& filter,
                                  std::string* scratch, RecordedEventView* view,
                                  bool* matched,
                                  segment::EventDecoder* decoder) const {
  *matched = false;
  bool verify_body = filter.verify_checksums;
  if (!filter.stream_prefix.empty() || !filter.type_prefix.empty()) {
    // Filter on the record key alone: no payload decompression for
    // events that are skipped. The key is in the body, so the body is
    // verified first: a damaged name must give Corruption, not make the
    // event look like another stream's and vanish from the answer.
    if (verify_body &&
        !segment::VerifyRecordBody(seg.data() + offset, header, seg->seed)) {
      return Status::Corruption(seg->path, offset,
                                "record body checksum does not match");
    }
    verify_body = false;  // done
    std::string_view name;
    std::string_view type;
    uint64_t revision = 0;
    if (!decoder->PeekKey(seg.data() + offset, header, &name, &type,
                          &revision)) {
      return Status::Corruption(seg->path, offset,
                                "event record body is malformed");
    }
    if (!name.starts_with(filter.stream_prefix) ||
        !type.starts_with(filter.type_prefix)) {
      return Status::Ok();
    }
  }
  Status s = DecodeAt(seg, offset, position, scratch, view, &header,
                      verify_body, decoder);
  if (s.ok()) *matched = true;
  return s;
}

Result<uint64_t> StoreImpl::ScanForward(
    uint64_t from, uint64_t end, const ReadAllOptions& filter,
    uint64_t max_matches, uint64_t max_examined,
    const std::function<bool(const RecordedEventView&)>& visitor) {
  if (from >= end || max_matches == 0) return from;
  // The segments from the one holding `from` on, listed as they are now
  // (they cover `end`): not the whole list, which grows with the log and
  // would be copied on every call (each batch of every subscription).
  std::vector<std::shared_ptr<Segment>> segments;
  size_t seg_index = 0;
  uint64_t offset = 0;
  uint64_t position = from;
  MappedSegment seg;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    auto location = locator_->Locate(from);
    if (!location.ok()) return location.status();
    const auto& listed = log_->segments();
    segments.assign(listed.begin() + *log_->SegmentIndexOf(from), listed.end());
    offset = location->offset;
    position = location->position;
    seg = std::move(location->segment);
  }
  std::string scratch;
  uint64_t matched = 0;
  uint64_t examined = 0;
  // One view for the whole scan: DecodeAt sets every field but
  // link_revision, which a scan of the log never sets. A view constructed
  // per record costs a 128-byte clear each time.
  RecordedEventView view;
  // Reads `seg`: remade wherever `seg` changes.
  std::optional<segment::EventDecoder> decoder;
  decoder.emplace(seg.data() + segment::kSegmentHeaderSize, seg->seed,
                  filter.verify_checksums);
  while (position < end && examined < max_examined) {
    // A loop: a sealed segment without records (a scavenged one can have
    // none; an original one the list rules accept, though the writer never
    // seals one) starts where the next one does, and is skipped.
    bool hopped = false;
    while (seg_index + 1 < segments.size() &&
           position >= segments[seg_index + 1]->header.first_position) {
      ++seg_index;
      hopped = true;
    }
    if (hopped) {
      auto pinned = log_->Pin(segments[seg_index]);
      if (!pinned.ok()) return pinned.status();
      seg = std::move(pinned.value());
      offset = segment::kSegmentHeaderSize;
      decoder.emplace(seg.data() + segment::kSegmentHeaderSize, seg->seed,
                      filter.verify_checksums);
    }
    if (seg->scavenged() && offset >= seg->end_offset) {
      // Past the kept records: the hole runs to the segment's end.
      position = seg->end_position;
      continue;
    }
    segment::RecordHeader header;
    Status s = RecordLocator::ReadHeader(seg, offset, &header);
    if (!s.ok()) return s;
    if (seg->scavenged()) {
      // Positions of removed records are skipped: the hole's width is
      // whatever lies between two kept records.
      if (header.position < position) {
        return Status::Corruption(seg->path, offset,
                                  "record position " +
                                      std::to_string(header.position) +
                                      " out of order in a scavenged segment");
      }
      position = header.position;
    }
    bool match = false;
    s = FilterAndDecode(seg, offset, position, header, filter, &scratch, &view,
                        &match, &*decoder);
    if (!s.ok()) return s;
    const uint64_t next = offset + header.RecordSize();
    if (!filter.verify_checksums) PrefetchAhead(seg, offset, next);
    offset = next;
    ++position;
    ++examined;
    if (match) {
      ++matched;
      if (!visitor(view) || matched >= max_matches) break;
    }
  }
  return position;
}

Result<std::optional<GlobalPosition>> StoreImpl::VisitAll(
    const ReadAllOptions& options,
    const std::function<bool(const RecordedEventView&)>& visitor) {
  activity_.CountAllRead();
  if (closed_flag_.load(std::memory_order_acquire)) return ClosedStatus();
  Status s = Refresh();
  if (!s.ok()) return s;
  if (options.max_count == 0) {
    return std::optional<GlobalPosition>(
        options.from.value_or(GlobalPosition(0)));
  }

  if (options.direction == Direction::kForward) {
    uint64_t end = visible_next_.load(std::memory_order_acquire);
    uint64_t start = options.from ? options.from->value() : 0;
    auto next = ScanForward(start, end, options, options.max_count,
                            std::numeric_limits<uint64_t>::max(), visitor);
    if (!next.ok()) return next.status();
    if (*next >= end) return std::optional<GlobalPosition>();
    return std::optional<GlobalPosition>(GlobalPosition(*next));
  }

  std::string scratch;
  uint64_t matched = 0;
  // Backward: locations are found forward from an anchor, a chunk at a
  // time, then visited in reverse.
  uint64_t end = visible_next_.load(std::memory_order_acquire);
  if (end == 0) return std::optional<GlobalPosition>();
  uint64_t position = options.from ? options.from->value() : end - 1;
  if (position >= end) position = end - 1;
  std::vector<Location> items;
  RecordedEventView view;  // one for the whole read, as in ScanForward
  // Reads the mapping at `decoding` (as in ScanForward).
  std::optional<segment::EventDecoder> decoder;
  const uint8_t* decoding = nullptr;
  for (;;) {
    items.clear();
    // The previous chunk's pins go: a mapping address may come back for
    // another file.
    decoding = nullptr;
    // Positions [first, position]; a scavenged segment's hole in it has no
    // items.
    const uint64_t first =
        position + 1 - std::min<uint64_t>(kBackwardChunk, position + 1);
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      s = locator_->LocateRange(first, position, &items);
      if (!s.ok()) return s;
      std::reverse(items.begin(), items.end());
    }
    for (const Location& item : items) {
      segment::RecordHeader header;
      s = RecordLocator::ReadHeader(item.segment, item.offset, &header);
      if (!s.ok()) return s;
      if (decoding != item.segment.data()) {
        decoding = item.segment.data();
        decoder.emplace(decoding + segment::kSegmentHeaderSize,
                        item.segment->seed, options.verify_checksums);
      }
      bool match = false;
      s = FilterAndDecode(item.segment, item.offset, item.position, header,
                          options, &scratch, &view, &match, &*decoder);
      if (!s.ok()) return s;
      bool stop = false;
      if (match) {
        ++matched;
        stop = !visitor(view) || matched >= options.max_count;
      }
      if (item.position == 0) return std::optional<GlobalPosition>();
      if (stop) {
        return std::optional<GlobalPosition>(GlobalPosition(item.position - 1));
      }
    }
    if (first == 0) return std::optional<GlobalPosition>();
    position = first - 1;
  }
}

Result<ReadAllResult> StoreImpl::ReadAll(const ReadAllOptions& options) {
  ReadAllResult result;
  auto next = VisitAll(options, [&](const RecordedEventView& view) {
    result.events.push_back(view.ToOwned());
    return true;
  });
  if (!next.ok()) return next.status();
  result.next_position = *next;
  return result;
}

Result<std::optional<StreamRevision>> StoreImpl::GetStreamRevision(
    std::string_view stream) {
  if (closed_flag_.load(std::memory_order_acquire)) return ClosedStatus();
  Status s = Refresh();
  if (!s.ok()) return s;
  const bool link = index::IsLinkStreamName(stream);
  if (link) {
    s = CheckLinksEnabled(stream);
    if (!s.ok()) return s;
  }
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  auto last =
      link ? links_->LastRevision(stream) : index_->LastRevision(stream);
  if (!last.ok()) return last.status();
  if (!last->has_value()) return std::optional<StreamRevision>();
  return std::optional<StreamRevision>(StreamRevision(**last));
}

Result<StoreStats> StoreImpl::GetStats() {
  if (closed_flag_.load(std::memory_order_acquire)) return ClosedStatus();
  Status s = Refresh();
  if (!s.ok()) return s;
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  StoreStats stats;
  stats.events = visible_next_.load(std::memory_order_acquire);
  stats.streams = index_->StreamCount();
  const index::IndexStats index = index_->Stats();
  stats.index_checkpoint = GlobalPosition(index.checkpoint);
  stats.index.tables = index.tables.size();
  for (const auto& table : index.tables) stats.index.table_bytes += table.bytes;
  stats.index.memory_entries = index.memtable_entries;
  stats.index.flushes = index.flushes;
  stats.index.merges = index.merges;
  stats.index.cache_hits = index.cache_hits;
  stats.index.cache_misses = index.cache_misses;
  stats.index.background_error = index.background_error;
  stats.segments = log_->segments().size();
  stats.bytes = log_->record_bytes();
  stats.durable_position_end =
      GlobalPosition(durable_next_.load(std::memory_order_acquire));
  lock.unlock();
  stats.activity = activity_.Snapshot();
  const FollowerLag lag = followers_->Lag(stats.durable_position_end.value());
  stats.activity.subscriptions = lag.followers;
  stats.activity.subscription_lag_max = lag.max;
  stats.activity.subscription_lag_sum = lag.sum;
  return stats;
}

}  // namespace cairn::engine
