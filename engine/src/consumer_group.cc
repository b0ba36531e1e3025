// Copyright (c) Cairn authors.
#include "engine/src/consumer_group.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "engine/src/stream_metadata.h"

namespace cairn::engine {
namespace {

constexpr std::chrono::milliseconds kIdleRecheck{100};

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class GroupMemberImpl final : public GroupMember {
 public:
  GroupMemberImpl(std::shared_ptr<ConsumerGroup> group, uint64_t id)
      : group_(std::move(group)), id_(id) {}
  ~GroupMemberImpl() override { Leave(); }

  Result<std::vector<RecordedEvent>> Receive(
      size_t max_events, std::chrono::milliseconds timeout) override {
    auto got = ReceiveDeliveries(max_events, timeout);
    if (!got.ok()) return got.status();
    std::vector<RecordedEvent> events;
    events.reserve(got->size());
    for (GroupDelivery& d : *got) events.push_back(std::move(d.event));
    return events;
  }
  Result<std::vector<GroupDelivery>> ReceiveDeliveries(
      size_t max_events, std::chrono::milliseconds timeout) override {
    if (group_ == nullptr) return Status::InvalidArgument("left the group");
    return group_->Receive(id_, max_events, timeout);
  }
  Status Ack(GlobalPosition position) override {
    if (group_ == nullptr) return Status::InvalidArgument("left the group");
    return group_->Ack(id_, position);
  }
  Status Nack(GlobalPosition position, NackAction action,
              std::string_view reason) override {
    if (group_ == nullptr) return Status::InvalidArgument("left the group");
    return group_->Nack(id_, position, action, reason);
  }
  void Leave() override {
    if (group_ == nullptr) return;
    group_->Leave(id_);
    group_.reset();  // the last member out stops the group
  }

 private:
  std::shared_ptr<ConsumerGroup> group_;
  const uint64_t id_;
};

}  // namespace

Result<std::shared_ptr<ConsumerGroup>> ConsumerGroup::Create(
    StoreImpl* store, std::string name, const ConsumerGroupOptions& options) {
  auto saved = store->LoadCheckpoint(CheckpointName(name));
  if (!saved.ok()) return saved.status();
  if (options.message_timeout.count() < 0) {
    return Status::InvalidArgument("message_timeout must not be negative");
  }
  uint64_t start = 0;
  if (saved->has_value()) {
    start = (*saved)->value();
  } else if (options.from_end) {
    auto end = store->DurableEnd();
    if (!end.ok()) return end.status();
    start = *end;
  }
  std::shared_ptr<ConsumerGroup> group(
      new ConsumerGroup(store, std::move(name), options, start));
  // Registered before the dispatcher starts, so a Close() from now on
  // stops and joins it before the store goes away.
  Status s = group->registry_->Add(group.get());
  if (!s.ok()) return s;
  ConsumerGroup* raw = group.get();
  group->dispatcher_ = std::thread([raw] { raw->Dispatch(); });
  return group;
}

ConsumerGroup::ConsumerGroup(StoreImpl* store, std::string name,
                             const ConsumerGroupOptions& options,
                             uint64_t start)
    : store_(store),
      registry_(store->followers()),
      name_(std::move(name)),
      parked_stream_(ParkedStreamName(name_)),
      parked_metastream_(MetastreamOf(parked_stream_)),
      options_(options),
      read_position_(start),
      saved_checkpoint_(start),
      last_save_(std::chrono::steady_clock::now()) {}

ConsumerGroup::Clock::time_point ConsumerGroup::Now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

ConsumerGroup::~ConsumerGroup() {
  Shutdown(Status::Closed("the consumer group stopped"));
  registry_->Remove(this);
  // Saved already if the store closed first (StopFollowing).
  MaybeSaveCheckpoint(/*force=*/true);
  TruncateReplayed();
}

void ConsumerGroup::Shutdown(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) stop_status_ = status;
    stopping_ = true;
  }
  stop_.store(true);
  dispatch_cv_.notify_all();
  members_cv_.notify_all();
  // Wakes the dispatcher if it waits for new events. Once the store is
  // detached the dispatcher was joined already.
  (void)registry_->WithStore([](StoreImpl& store) {
    store.WakeFollowers();
    return Status::Ok();
  });
  std::lock_guard<std::mutex> lock(join_mu_);
  if (dispatcher_.joinable()) dispatcher_.join();
}

void ConsumerGroup::StopFollowing() {
  Shutdown(Status::Closed("the store is closed"));
  MaybeSaveCheckpoint(/*force=*/true);
  TruncateReplayed();
}

Result<std::unique_ptr<GroupMember>> ConsumerGroup::Join(
    const std::shared_ptr<ConsumerGroup>& self) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return stop_status_;
    id = next_member_id_++;
    members_[id];
  }
  dispatch_cv_.notify_all();
  return std::unique_ptr<GroupMember>(
      std::make_unique<GroupMemberImpl>(self, id));
}

uint64_t ConsumerGroup::PickOwner(const std::string& stream) const {
  // Rendezvous hashing: when a member joins, only the streams it wins move
  // (once drained); when one leaves, only its streams do.
  const uint64_t h = std::hash<std::string>{}(stream);
  uint64_t best = 0;
  uint64_t best_score = 0;
  for (const auto& [id, member] : members_) {
    uint64_t score = Mix(h ^ Mix(id));
    if (best == 0 || score > best_score) {
      best = id;
      best_score = score;
    }
  }
  return best;
}

void ConsumerGroup::Assign(Delivery delivery) {
  const std::string& stream = delivery.event.stream;
  uint64_t& count = outstanding_[stream];
  uint64_t owner = 0;
  if (count > 0) {
    owner = owner_[stream];  // sticky while anything is outstanding
  } else {
    owner = PickOwner(stream);
    owner_[stream] = owner;
  }
  ++count;
  const uint64_t position = delivery.event.position.value();
  if (delivery.parked_revision) {
    replaying_[*delivery.parked_revision] = position;
    replaying_positions_.insert(position);
  } else {
    pending_.insert(position);
  }
  members_[owner].queue.push_back(std::move(delivery));
}

void ConsumerGroup::Dispatch() {
  const uint64_t per_member = std::max<uint32_t>(options_.max_in_flight, 1);
  std::vector<RecordedEvent> batch;
  for (;;) {
    uint64_t from = 0;
    uint64_t room = 0;
    uint64_t epoch = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      dispatch_cv_.wait_for(lock, kIdleRecheck, [&] {
        return stopping_ || (!members_.empty() &&
                             OutstandingCount() < per_member * members_.size());
      });
      if (stopping_) return;
      lock.unlock();
      ExpireDeliveries();
      TruncateReplayed();
      MaybeSaveCheckpoint(/*force=*/false);
      lock.lock();
      if (stopping_) return;
      if (members_.empty() ||
          OutstandingCount() >= per_member * members_.size()) {
        continue;
      }
      from = read_position_;
      epoch = epoch_;
      room = per_member * members_.size() - OutstandingCount();
    }
    if (!DispatchOnce(from, room, epoch, &batch)) return;
  }
}

bool ConsumerGroup::DispatchOnce(uint64_t from, uint64_t room, uint64_t epoch,
                                 std::vector<RecordedEvent>* batch) {
  ReadAllOptions filter;
  filter.stream_prefix = options_.stream_prefix;
  filter.type_prefix = options_.type_prefix;
  const uint32_t seen = store_->ChangeSequence();
  auto end = store_->DurableEnd();
  Status failure = end.status();
  if (end.ok() && from >= *end) {
    store_->WaitForChange(seen, kIdleRecheck);
    return true;
  }
  batch->clear();
  std::optional<uint64_t> next;
  if (end.ok()) {
    auto scanned = store_->ScanForward(
        from, *end, filter, room, room * 16, [&](const RecordedEventView& e) {
          batch->push_back(e.ToOwned());
          return !stop_.load(std::memory_order_relaxed);
        });
    if (scanned.ok()) {
      next = *scanned;
    } else {
      failure = scanned.status();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (epoch == epoch_) {  // else everyone left and it rewound: read again
      // The events read before a failure were verified: hand them out.
      uint64_t resume = next             ? *next
                        : batch->empty() ? from
                                         : batch->back().position.value() + 1;
      for (RecordedEvent& e : *batch) {
        if (members_.empty()) {
          // Everyone left meanwhile: re-read from here when someone joins.
          resume = e.position.value();
          break;
        }
        // Its own parked links (and their $tb) would otherwise come back
        // to a group that reads every stream.
        if (e.stream == parked_stream_ || e.stream == parked_metastream_) {
          continue;
        }
        Assign(Delivery{std::move(e), 0, std::nullopt, {}});
      }
      read_position_ = resume;
    }
    if (!failure.ok() && failure_.ok()) failure_ = failure;
  }
  members_cv_.notify_all();
  return failure.ok();
}

Result<std::vector<GroupDelivery>> ConsumerGroup::Receive(
    uint64_t member, size_t max, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  // The first queued event whose stream is not held back by a retry.
  auto next_ready = [&](Member& m) {
    return std::find_if(m.queue.begin(), m.queue.end(), [&](const auto& d) {
      return !blocked_.contains(d.event.stream);
    });
  };
  auto has_work = [&] {
    auto it = members_.find(member);
    return stopping_ || !failure_.ok() || it == members_.end() ||
           next_ready(it->second) != it->second.queue.end();
  };
  members_cv_.wait_for(lock, timeout, has_work);
  if (stopping_) return stop_status_;
  auto it = members_.find(member);
  if (it == members_.end()) return Status::InvalidArgument("not a member");
  Member& m = it->second;
  if (m.queue.empty() && !failure_.ok()) return failure_;
  std::vector<GroupDelivery> out;
  const Clock::time_point deadline = options_.message_timeout.count() > 0
                                         ? Now() + options_.message_timeout
                                         : Clock::time_point::max();
  for (auto d = next_ready(m); d != m.queue.end() && out.size() < max;) {
    if (blocked_.contains(d->event.stream)) {
      ++d;
      continue;
    }
    Delivery taken = std::move(*d);
    d = m.queue.erase(d);
    // A retry in flight holds back the later events of its stream.
    if (taken.retries > 0) ++blocked_[taken.event.stream];
    taken.deadline = deadline;
    out.push_back(GroupDelivery{taken.event, taken.retries});
    const uint64_t position = taken.event.position.value();
    m.in_flight.emplace(position, std::move(taken));
  }
  m.delivered += out.size();
  delivered_ += out.size();
  return out;
}

Result<std::map<uint64_t, ConsumerGroup::Delivery>::iterator>
ConsumerGroup::FindInFlight(uint64_t member, uint64_t position) {
  if (stopping_) return stop_status_;
  auto it = members_.find(member);
  if (it == members_.end()) return Status::InvalidArgument("not a member");
  auto flight = it->second.in_flight.find(position);
  if (flight == it->second.in_flight.end()) {
    return Status::InvalidArgument(
        "position " + std::to_string(position) +
        " was not received by this member, or was acknowledged already");
  }
  return flight;
}

Result<ConsumerGroup::Delivery> ConsumerGroup::TakeInFlight(uint64_t member,
                                                            uint64_t position) {
  auto flight = FindInFlight(member, position);
  if (!flight.ok()) return flight.status();
  Delivery delivery = std::move((*flight)->second);
  members_[member].in_flight.erase(*flight);
  if (delivery.retries > 0) {
    auto blocked = blocked_.find(delivery.event.stream);
    if (--blocked->second == 0) blocked_.erase(blocked);
  }
  return delivery;
}

void ConsumerGroup::Handled(const Delivery& delivery) {
  const uint64_t position = delivery.event.position.value();
  if (delivery.parked_revision) {
    replaying_.erase(*delivery.parked_revision);
    replaying_positions_.erase(position);
  } else {
    pending_.erase(position);
  }
  auto count = outstanding_.find(delivery.event.stream);
  if (--count->second == 0) {
    owner_.erase(delivery.event.stream);
    outstanding_.erase(count);
  }
}

Status ConsumerGroup::Ack(uint64_t member, GlobalPosition position) {
  bool was_retry = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto taken = TakeInFlight(member, position.value());
    if (!taken.ok()) return taken.status();
    was_retry = taken->retries > 0;
    Handled(*taken);
  }
  // A retry handled lets its stream's held-back events go.
  if (was_retry) members_cv_.notify_all();
  dispatch_cv_.notify_all();
  MaybeSaveCheckpoint(/*force=*/false);
  return Status::Ok();
}

void ConsumerGroup::Leave(uint64_t member) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = members_.find(member);
    if (it == members_.end()) return;
    std::vector<Delivery> orphans;
    for (auto& [position, d] : it->second.in_flight) {
      if (d.retries > 0) {
        auto blocked = blocked_.find(d.event.stream);
        if (--blocked->second == 0) blocked_.erase(blocked);
      }
      orphans.push_back(std::move(d));
    }
    for (Delivery& d : it->second.queue) orphans.push_back(std::move(d));
    members_.erase(it);
    // Log order within each stream (a replayed event is older than what
    // its stream has outstanding from the log).
    std::stable_sort(orphans.begin(), orphans.end(),
                     [](const Delivery& a, const Delivery& b) {
                       return a.event.position < b.event.position;
                     });
    if (members_.empty()) {
      // Nobody to hand them to: forget them and re-read from the lowest
      // outstanding position when a member joins. Replayed events stay in
      // the parked stream, from where a later replay takes them (those
      // before the first unhandled one are truncated).
      if (!pending_.empty()) read_position_ = *pending_.begin();
      if (!replaying_.empty()) next_replay_ = replaying_.begin()->first;
      ++epoch_;
      pending_.clear();
      replaying_.clear();
      replaying_positions_.clear();
      owner_.clear();
      outstanding_.clear();
      blocked_.clear();
    } else {
      // The leaving member owned these streams exclusively, so the new
      // owners hold nothing of them yet: appending keeps stream order.
      // Streams it owns with an event being parked move too.
      for (auto& [stream, owner] : owner_) {
        if (owner == member) owner = PickOwner(stream);
      }
      for (Delivery& d : orphans) {
        members_[owner_[d.event.stream]].queue.push_back(std::move(d));
      }
    }
  }
  members_cv_.notify_all();
  dispatch_cv_.notify_all();
}

void ConsumerGroup::MaybeSaveCheckpoint(bool force) {
  uint64_t checkpoint = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint = pending_.empty() ? read_position_ : *pending_.begin();
  }
  std::lock_guard<std::mutex> lock(save_mu_);
  auto now = std::chrono::steady_clock::now();
  if (checkpoint <= saved_checkpoint_) return;
  if (!force && now - last_save_ < options_.checkpoint_every) return;
  // A read-only (or closed) store can not save; the group then restarts
  // from its last saved checkpoint, which at-least-once delivery allows.
  Status s = registry_->WithStore([&](StoreImpl& store) {
    return store.SaveCheckpoint(CheckpointName(name_),
                                GlobalPosition(checkpoint));
  });
  if (s.ok()) saved_checkpoint_ = checkpoint;
  last_save_ = now;
}

}  // namespace cairn::engine
