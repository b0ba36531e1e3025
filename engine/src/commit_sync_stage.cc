// Copyright (c) Cairn authors.
//
// The commit pipeline's sync stage and the publication of written groups.
// While appends keep arriving, the commit thread writes a group and hands
// it to the sync thread, which fdatasyncs (one call for every group handed
// to it meanwhile), publishes the groups in order and passes them on to
// the acknowledgement thread, which completes their appends. The commit
// thread sequences and writes the next group during that fdatasync instead
// of waiting for it, and the sync thread syncs the next groups while the
// acknowledgement thread runs the last ones' callbacks. An overlay per
// handed-off group keeps sequencing correct until the group is in the index.
// When nothing else waits, FlushGroup syncs and publishes on its own thread, as
// a lone append gains nothing from a hand-off.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/src/commit_pipeline.h"
#include "index/format.h"
#include "segment/record.h"

namespace cairn::engine {
namespace {

// Groups written but not yet published at most: bounds the bytes held for
// the sync thread (each group at most max_group_bytes) and how far the
// commit thread runs ahead of durability.
constexpr uint64_t kMaxGroupsInFlight = 4;

// With group commit, a durable-end mark follows every this many groups
// (one extra fdatasync each time). The groups before the newest one are
// vouched for by the synced_offset of later records anyway; the mark
// covers the newest group when the appends stop (docs/durability.md).
constexpr uint64_t kGroupsPerDurableMark = 64;

// Waits on `cv` until `queue` holds something or `stop` is set, then moves
// everything queued into `out`. False when stopping with nothing left.
template <typename T>
bool TakeQueued(std::mutex& mu, std::condition_variable& cv,
                std::deque<T>& queue, const bool& stop, std::deque<T>* out) {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return !queue.empty() || stop; });
  if (queue.empty()) return false;
  out->swap(queue);
  return true;
}

}  // namespace

void CommitPipeline::PublishGroup(Group* group, bool durable) {
  const uint64_t end_offset = group->start_offset + group->bytes.size();
  Status indexed;
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    Segment& active = log_->active();
    indexed = IndexGroup(*group);
    if (indexed.ok() && links_) indexed = IndexGroupLinks(*group);
    active.end_position = group->next_position;
    active.end_offset = end_offset;
    visible_next_.store(group->next_position, std::memory_order_release);
  }
  if (!indexed.ok()) {
    // The group is written (and acknowledged below once durable), but the
    // index could not take it: stop writing rather than sequence later
    // appends against an index that lacks it. A reopen replays it.
    Fail(indexed);
  }
  if (durable) {
    synced_offset_.store(end_offset, std::memory_order_relaxed);
    mark_durable_(group->next_position);
  } else {
    dirty_ = true;
  }
  PublishWatermark();
  // Counted before the acknowledgements, so a caller that saw its append
  // succeed finds it in the figures.
  uint64_t events = 0;
  for (const auto& member : group->members) {
    events += member->record_sizes.size();
  }
  activity_.CountGroup(group->members.size(), events, group->bytes.size());
}

void CommitPipeline::AcknowledgeGroup(Group* group) {
  for (auto& member : group->members) Complete(std::move(member));
  group->members.clear();
}

void CommitPipeline::CountDurableGroups(uint64_t groups) {
  groups_since_mark_ += groups;
  if (groups_since_mark_ >= kGroupsPerDurableMark) {
    // The groups are durable and acknowledged either way; a failed mark
    // stops the store (Fail), which the next append reports.
    (void)WriteDurableMark(/*closed=*/false);
  }
}

Status CommitPipeline::IndexGroup(const Group& group) {
  uint64_t offset = group.start_offset;
  std::vector<uint32_t> offsets;
  for (const auto& member : group.members) {
    const AppendResult& r = member->result->value();
    offsets.clear();
    for (uint32_t size : member->record_sizes) {
      offsets.push_back(static_cast<uint32_t>(offset));
      offset += size;
    }
    // The stream cache learns whether the stream now ends in a tombstone,
    // which spares the next append to it reading its last record.
    Status s = index_->AddRun(member->stream, r.first_revision.value(),
                              r.first_position.value(), offsets, member->ids,
                              member->tombstone);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status CommitPipeline::IndexGroupLinks(const Group& group) {
  const Segment& active = log_->active();
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(group.bytes.data());
  // The group holds whole appends, so every head is in it.
  segment::EventDecoder decoder(bytes, active.seed);
  uint64_t offset = group.start_offset;
  for (const auto& member : group.members) {
    const AppendResult& r = member->result->value();
    uint64_t position = r.first_position.value();
    for (size_t i = 0; i < member->record_sizes.size(); ++i, ++position) {
      const uint64_t at = offset - group.start_offset;
      segment::RecordHeader header;
      std::string_view stream;
      std::string_view type;
      uint64_t revision = 0;
      if (segment::DecodeRecordHeader(bytes + at, group.bytes.size() - at,
                                      active.seed,
                                      &header) != segment::HeaderCheck::kOk ||
          !decoder.PeekKey(bytes + at, header, &stream, &type, &revision)) {
        return Status::Corruption(active.path, offset,
                                  "record just sealed does not decode");
      }
      Status s = links_->Add(member->stream, type, position,
                             static_cast<uint32_t>(offset), member->ids[i]);
      if (!s.ok()) return s;
      offset += member->record_sizes[i];
    }
  }
  return Status::Ok();
}

void CommitPipeline::PublishWatermark() {
  uint64_t durable = durable_next_.load(std::memory_order_relaxed);
  // Other processes may read only durable events, except in kNone where
  // nothing is ever durable before Close.
  uint64_t visible = options_.durability == Durability::kNone
                         ? visible_next_.load(std::memory_order_relaxed)
                         : durable;
  watermark_->Publish(durable, visible);
}

void CommitPipeline::FailGroup(Group* group, const Status& status) {
  for (auto& member : group->members) {
    member->result = status;
    Complete(std::move(member));
  }
  group->members.clear();
  group->bytes.clear();
  group->revisions.clear();
  group->tombstones.clear();
  group->id_tags.clear();
}

bool CommitPipeline::PipelineIdle() const {
  return published_seq_.load(std::memory_order_acquire) == handed_seq_;
}

void CommitPipeline::HandOff(Group group) {
  group.seq = handed_seq_ + 1;
  Overlay overlay;
  overlay.seq = group.seq;
  overlay.revisions = std::move(group.revisions);
  overlay.tombstones = std::move(group.tombstones);
  overlay.id_tags = std::move(group.id_tags);
  {
    std::unique_lock<std::mutex> lock(pipe_mu_);
    pipe_done_cv_.wait(lock, [&] {
      return handed_seq_ - published_seq_.load(std::memory_order_acquire) <
             kMaxGroupsInFlight;
    });
    handed_seq_ = group.seq;
    pipe_.push_back(std::move(group));
  }
  pipe_cv_.notify_one();
  overlays_.push_back(std::move(overlay));
}

void CommitPipeline::Drain() {
  if (!PipelineIdle()) {
    std::unique_lock<std::mutex> lock(pipe_mu_);
    pipe_done_cv_.wait(lock, [&] { return PipelineIdle(); });
  }
  overlays_.clear();
}

void CommitPipeline::PruneOverlays() {
  const uint64_t published = indexed_seq_.load(std::memory_order_acquire);
  while (!overlays_.empty() && overlays_.front().seq <= published) {
    overlays_.pop_front();
  }
}

std::optional<CommitPipeline::Pending> CommitPipeline::PendingOf(
    const std::string& stream) const {
  auto in = [&](const auto& revisions,
                const auto& tombstones) -> std::optional<Pending> {
    auto found = revisions.find(stream);
    if (found == revisions.end()) return std::nullopt;
    return Pending{found->second, tombstones.count(stream) != 0};
  };
  if (auto pending = in(group_.revisions, group_.tombstones)) return pending;
  for (auto it = overlays_.rbegin(); it != overlays_.rend(); ++it) {
    if (auto pending = in(it->revisions, it->tombstones)) return pending;
  }
  return std::nullopt;
}

bool CommitPipeline::PendingIdsOverlap(const CommitRequest& request) const {
  auto in = [&](const std::unordered_set<uint32_t>& tags) {
    if (tags.empty()) return false;
    return std::any_of(
        request.ids.begin(), request.ids.end(),
        [&](const EventId& id) { return tags.contains(index::IdTag(id)); });
  };
  if (in(group_.id_tags)) return true;
  return std::any_of(overlays_.begin(), overlays_.end(),
                     [&](const Overlay& o) { return in(o.id_tags); });
}

void CommitPipeline::SyncLoop() {
  MarkPipelineThread();
  std::deque<Group> groups;
  for (;;) {
    // Empty when stopping: the commit thread drained the stage first.
    if (!TakeQueued(pipe_mu_, pipe_cv_, pipe_, pipe_stop_, &groups)) return;
    // One fdatasync covers every group written so far. After a fatal
    // error nothing more is synced (a failed fdatasync is never retried)
    // and the groups fail.
    Status s = WriteGate();
    if (s.ok()) {
      s = SyncActiveCounted();
      if (!s.ok()) Fail(s);
    }
    // Published here, at once: readers and subscribers see the groups as
    // soon as they are durable. Their acknowledgements go to the
    // acknowledgement thread, so that the callbacks they run never hold
    // back the next fdatasync.
    const uint64_t last = groups.back().seq;
    if (s.ok()) {
      for (Group& group : groups) PublishGroup(&group, /*durable=*/true);
      // The mark is written here, by the thread that has just stored the
      // durable offset and position it names, and before the groups are
      // acknowledged: until then the committing thread syncs nothing
      // itself. So no other fdatasync of the segment runs beside this
      // thread's: two at once could let one report a writeback error of
      // the other's pages (Linux reports it once per open file), and the
      // other return success over lost bytes.
      CountDurableGroups(groups.size());
    }
    indexed_seq_.store(last, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(pipe_mu_);
      for (Group& group : groups) {
        acks_.push_back(Synced{std::move(group), s});
      }
    }
    groups.clear();
    ack_cv_.notify_one();
  }
}

void CommitPipeline::AcknowledgeLoop() {
  MarkPipelineThread();
  std::deque<Synced> batch;
  for (;;) {
    if (!TakeQueued(pipe_mu_, ack_cv_, acks_, ack_stop_, &batch)) return;
    const uint64_t last = batch.back().group.seq;
    for (Synced& synced : batch) {
      if (synced.status.ok()) {
        AcknowledgeGroup(&synced.group);
      } else {
        FailGroup(&synced.group, synced.status);
      }
    }
    batch.clear();
    {
      std::lock_guard<std::mutex> lock(pipe_mu_);
      published_seq_.store(last, std::memory_order_release);
    }
    pipe_done_cv_.notify_all();
  }
}

}  // namespace cairn::engine
