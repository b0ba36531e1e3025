// Copyright (c) Cairn authors.
//
// The consumer group's at-least-once machinery (consumer_group.h): nacks,
// message timeouts, parking, replaying parked events, and the group's
// figures.
#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "engine/src/consumer_group.h"
#include "engine/src/parked_stream.h"
#include "engine/src/wall_clock.h"
#include "index/link_streams.h"

namespace cairn::engine {
namespace {

// Parked entries read per step of a replay.
constexpr uint64_t kReplayChunk = 256;

}  // namespace

Status ConsumerGroup::Nack(uint64_t member, GlobalPosition position,
                           NackAction action, std::string_view reason) {
  std::string park_reason;
  Delivery parked;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (action == NackAction::kStop) {
      // As KurrentDB: nothing happens; the timeout retries it.
      return FindInFlight(member, position.value()).status();
    }
    auto taken = TakeInFlight(member, position.value());
    if (!taken.ok()) return taken.status();
    if (action == NackAction::kSkip) {
      Handled(*taken);
    } else if (action == NackAction::kRetry &&
               taken->retries < options_.max_retry_count) {
      Retry(std::move(*taken));
    } else {
      park_reason =
          action == NackAction::kPark
              ? "Client explicitly NAK'ed message.\n" + std::string(reason)
              : "Reached retry count of " +
                    std::to_string(options_.max_retry_count);
      parked = std::move(*taken);
      epoch = epoch_;
    }
  }
  members_cv_.notify_all();
  dispatch_cv_.notify_all();
  if (!park_reason.empty()) {
    return Park(std::move(parked), park_reason, epoch);
  }
  MaybeSaveCheckpoint(/*force=*/false);
  return Status::Ok();
}

void ConsumerGroup::Retry(Delivery delivery) {
  ++delivery.retries;
  ++retries_;
  if (!ordered()) {
    // First in line at whichever member the strategy picks now.
    members_[PickMember(delivery.event)].queue.push_front(std::move(delivery));
    return;
  }
  const std::string& stream = delivery.event.stream;
  uint64_t& owner = owner_[stream];
  // Alone in its stream, it may go to whichever member owns it now.
  if (outstanding_[stream] == 1 || !members_.contains(owner)) {
    owner = PickOwner(stream);
  }
  // Before the rest of its stream, and after its stream's older retries
  // (a member nacking several of a stream's events nacks them in order):
  // right after the last queued event of its stream below it, else first.
  std::deque<Delivery>& queue = members_[owner].queue;
  auto at = queue.begin();
  for (auto it = queue.begin(); it != queue.end(); ++it) {
    if (it->event.stream == stream &&
        it->event.position < delivery.event.position) {
      at = std::next(it);
    }
  }
  queue.insert(at, std::move(delivery));
}

Status ConsumerGroup::Park(Delivery delivery, std::string_view reason,
                           uint64_t epoch) {
  const EventData link = ParkedLink(
      delivery.event,
      stream_ ? std::optional<std::string_view>(*stream_) : std::nullopt,
      reason, WallClockMicros());
  Status s = registry_->WithStore([&](StoreImpl& store) {
    return store.Append(parked_stream_, ExpectedVersion::Any(), {&link, 1})
        .status();
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Once every member left, Leave forgot it: it is read again from the
    // log or the parked stream.
    if (epoch == epoch_) {
      if (s.ok()) {
        Handled(delivery);
      } else if (!stopping_) {
        // Not parked: deliver it again rather than lose it.
        Retry(std::move(delivery));
      }
    }
  }
  members_cv_.notify_all();
  dispatch_cv_.notify_all();
  if (s.ok()) MaybeSaveCheckpoint(/*force=*/false);
  return s;
}

void ConsumerGroup::ExpireDeliveries() {
  if (options_.message_timeout.count() == 0) return;
  std::vector<Delivery> to_park;
  bool retried = false;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    epoch = epoch_;
    const Clock::time_point now = Now();
    for (auto& [id, member] : members_) {
      std::vector<uint64_t> expired;
      for (const auto& [position, d] : member.in_flight) {
        if (d.deadline <= now) expired.push_back(position);
      }
      for (uint64_t position : expired) {
        auto taken = TakeInFlight(id, position);
        if (!taken.ok()) continue;
        if (taken->retries < options_.max_retry_count) {
          Retry(std::move(*taken));
          retried = true;
        } else {
          to_park.push_back(std::move(*taken));
        }
      }
    }
  }
  if (retried) members_cv_.notify_all();
  const std::string reason =
      "Reached retry count of " + std::to_string(options_.max_retry_count);
  // A failed park retries the event; the next pass tries again.
  for (Delivery& d : to_park) (void)Park(std::move(d), reason, epoch);
}

void ConsumerGroup::TruncateReplayed() {
  uint64_t truncate_before = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    truncate_before =
        replaying_.empty() ? next_replay_ : replaying_.begin()->first;
  }
  std::lock_guard<std::mutex> lock(save_mu_);
  if (forgotten_ || truncate_before <= truncated_) return;
  Status s = registry_->WithStore([&](StoreImpl& store) {
    return TruncateParked(store, parked_stream_, truncate_before);
  });
  // Else the links stay and a later replay delivers them again.
  if (s.ok()) truncated_ = truncate_before;
}

Status ConsumerGroup::ReplayParked(std::optional<uint64_t> max_events) {
  uint64_t left = max_events.value_or(UINT64_MAX);
  uint64_t from = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return stop_status_;
    from = next_replay_;
  }
  // What is parked when the replay is asked for, as in KurrentDB: events
  // parked again meanwhile wait for the next replay, so that one of an
  // event that keeps failing ends.
  std::optional<uint64_t> end;
  while (left > 0) {
    std::vector<ParkedEntry> entries;
    Status s = registry_->WithStore([&](StoreImpl& store) {
      auto range = ParkedRangeOf(store, parked_stream_);
      if (!range.ok()) return range.status();
      if (!end) end = range->end;
      from = std::max(from, range->first);
      if (from >= *end) return Status::Ok();
      auto read = ReadParked(store, parked_stream_, from,
                             std::min({left, kReplayChunk, *end - from}));
      if (!read.ok()) return read.status();
      entries = std::move(read.value());
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (entries.empty()) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return stop_status_;
      if (members_.empty()) {
        return Status::NotFound("every member left the group '" + name_ + "'");
      }
      for (ParkedEntry& entry : entries) {
        if (entry.revision < next_replay_) continue;  // a concurrent replay
        next_replay_ = entry.revision + 1;
        // An event no longer readable, or being delivered already, is
        // handled as far as its link goes.
        if (!entry.event) continue;
        if (Outstanding(*entry.event)) continue;
        Assign(Delivery{std::move(*entry.event), 0, entry.revision, {}});
      }
      from = next_replay_;
    }
    members_cv_.notify_all();
    left -= entries.size();
  }
  dispatch_cv_.notify_all();
  return Status::Ok();
}

bool ConsumerGroup::Outstanding(const RecordedEvent& event) const {
  const uint64_t position = event.position.value();
  if (replaying_positions_.contains(position)) return true;
  // A link a group of a category or event-type stream parked before
  // parked links named the link (parked_stream.h) resolves to the event
  // without its link revision, the group's cursor: only its position
  // tells whether it is outstanding, among the deliveries of the members.
  if (stream_ && !event.link_revision && index::IsLinkStreamName(*stream_)) {
    for (const auto& [id, member] : members_) {
      if (member.in_flight.contains(position)) return true;
      for (const Delivery& d : member.queue) {
        if (d.event.position.value() == position) return true;
      }
    }
    return false;
  }
  return pending_.contains(CursorOf(event));
}

Result<ConsumerGroupInfo> ConsumerGroup::DurableInfo(
    StoreImpl& store, const std::string& name,
    std::optional<std::string_view> stream, uint64_t replayed_before) {
  ConsumerGroupInfo info;
  info.name = name;
  if (stream) info.stream = std::string(*stream);
  info.parked_stream =
      stream ? ParkedStreamName(name, *stream) : ParkedStreamName(name);
  auto checkpoint = store.LoadCheckpoint(CheckpointName(name, stream));
  if (!checkpoint.ok()) return checkpoint.status();
  info.last_checkpoint = *checkpoint;
  if (*checkpoint) info.read_position = **checkpoint;
  auto range = ParkedRangeOf(store, info.parked_stream);
  if (!range.ok()) return range.status();
  const uint64_t first = std::max(range->first, replayed_before);
  info.parked = range->end > first ? range->end - first : 0;
  return info;
}

Result<ConsumerGroupInfo> ConsumerGroup::Info() {
  ConsumerGroupInfo live;
  uint64_t replayed_before = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return stop_status_;
    live.live = !members_.empty();
    const uint64_t slots = std::max<uint32_t>(options_.max_in_flight, 1);
    for (const auto& [id, m] : members_) {
      GroupMemberInfo member;
      member.id = id;
      member.in_flight = m.in_flight.size();
      member.queued = m.queue.size();
      member.delivered = m.delivered;
      const uint64_t used = member.in_flight + member.queued;
      member.available_slots =
          static_cast<uint32_t>(used < slots ? slots - used : 0);
      live.in_flight += member.in_flight;
      live.queued += member.queued;
      live.members.push_back(member);
    }
    live.delivered = delivered_;
    live.retries = retries_;
    live.handled = handled_;
    live.replaying = replaying_.size();
    live.read_position = GlobalPosition(read_position_);
    replayed_before = next_replay_;
  }
  ConsumerGroupInfo info;
  Status s = registry_->WithStore([&](StoreImpl& store) {
    auto durable = DurableInfo(
        store, name_,
        stream_ ? std::optional<std::string_view>(*stream_) : std::nullopt,
        replayed_before);
    if (!durable.ok()) return durable.status();
    info = std::move(durable.value());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  live.name = std::move(info.name);
  live.stream = std::move(info.stream);
  live.parked_stream = std::move(info.parked_stream);
  live.parked = info.parked;
  live.last_checkpoint = info.last_checkpoint;
  return live;
}

}  // namespace cairn::engine
