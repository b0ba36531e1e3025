// Copyright (c) Cairn authors.
#include "engine/src/consumer_group.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "engine/io/thread_name.h"
#include "engine/src/stream_metadata.h"

namespace cairn::engine {
namespace {

constexpr std::chrono::milliseconds kIdleRecheck{100};

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
  auto saved = store->LoadCheckpoint(CheckpointName(
      name, options.stream ? std::optional<std::string_view>(*options.stream)
                           : std::nullopt));
  if (!saved.ok()) return saved.status();
  if (options.message_timeout.count() < 0) {
    return Status::InvalidArgument("message_timeout must not be negative");
  }
  uint64_t start = 0;
  if (saved->has_value()) {
    start = (*saved)->value();
  } else if (options.from_end && options.stream) {
    // The stream's next revision; 0 for a stream not written yet.
    ReadStreamOptions last;
    last.direction = Direction::kBackward;
    last.max_count = 1;
    auto read = store->ReadStream(*options.stream, last);
    if (read.ok()) {
      start = read->last_revision.value() + 1;
    } else if (!read.status().IsNotFound()) {
      return read.status();
    }
  } else if (options.from_end) {
    auto end = store->DurableEnd();
    if (!end.ok()) return end.status();
    start = *end;
  } else if (options.stream) {
    start = options.from_revision.value();
  } else if (options.from_position) {
    start = options.from_position->value();
  }
  std::shared_ptr<ConsumerGroup> group(
      new ConsumerGroup(store, std::move(name), options, start));
  // Registered before the dispatcher starts, so a Close() from now on
  // stops and joins it before the store goes away.
  Status s = group->registry_->Add(group.get());
  if (!s.ok()) return s;
  // Started under join_mu_, unless a Close() since the registration has
  // stopped the group already (Shutdown sets stop_ before it takes join_mu_
  // to join): a dispatcher never outlives the Close.
  ConsumerGroup* raw = group.get();
  bool started = false;
  {
    std::lock_guard<std::mutex> lock(group->join_mu_);
    if (!group->stop_.load()) {
      group->dispatcher_ =
          io::StartThread("cairn-group", [raw] { raw->Dispatch(); });
      started = true;
    }
  }
  if (!started) return Status::Closed("the store is closed");
  return group;
}

ConsumerGroup::ConsumerGroup(StoreImpl* store, std::string name,
                             const ConsumerGroupOptions& options,
                             uint64_t start)
    : store_(store),
      registry_(store->followers()),
      name_(std::move(name)),
      stream_(options.stream),
      checkpoint_name_(CheckpointName(
          name_,
          stream_ ? std::optional<std::string_view>(*stream_) : std::nullopt)),
      parked_stream_(stream_ ? ParkedStreamName(name_, *stream_)
                             : ParkedStreamName(name_)),
      parked_metastream_(MetastreamOf(parked_stream_)),
      options_(options),
      read_position_(start),
      saved_checkpoint_(start),
      last_save_(Now()) {}

ConsumerGroup::Clock::time_point ConsumerGroup::Now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

uint64_t ConsumerGroup::CursorOf(const RecordedEvent& event) const {
  if (!stream_) return event.position.value();
  return event.link_revision.value_or(event.revision).value();
}

uint64_t ConsumerGroup::Capacity() const {
  const uint64_t per_member = std::max<uint32_t>(options_.max_in_flight, 1);
  const uint64_t capacity = per_member * members_.size();
  return options_.max_buffered == 0
             ? capacity
             : std::min<uint64_t>(capacity, options_.max_buffered);
}

bool ConsumerGroup::WantsEvents() const {
  if (members_.empty()) return false;
  const uint64_t capacity = Capacity();
  const uint64_t outstanding = OutstandingCount();
  if (outstanding >= capacity) return false;
  uint64_t batch = std::max<uint64_t>(capacity / 4, 1);
  if (options_.read_batch_size > 0) {
    batch = std::min<uint64_t>(batch, options_.read_batch_size);
  }
  if (capacity - outstanding >= batch) return true;
  return std::any_of(members_.begin(), members_.end(),
                     [](const auto& m) { return m.second.queue.empty(); });
}

void ConsumerGroup::End(bool forget) {
  if (forget) {
    // Nothing is saved from here on: the caller removes the state.
    std::lock_guard<std::mutex> lock(save_mu_);
    forgotten_ = true;
  }
  Shutdown(
      forget
          ? Status::NotFound("the consumer group '" + name_ + "' was deleted")
          : Status::Closed("the consumer group '" + name_ + "' was stopped"));
  MaybeSaveCheckpoint(/*force=*/true);
  TruncateReplayed();
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
    if (options_.max_members > 0 && members_.size() >= options_.max_members) {
      return Status::LimitReached("the consumer group '" + name_ + "' has " +
                                  std::to_string(options_.max_members) +
                                  " members, its maximum");
    }
    id = next_member_id_++;
    members_[id];
  }
  dispatch_cv_.notify_all();
  return std::unique_ptr<GroupMember>(
      std::make_unique<GroupMemberImpl>(self, id));
}

void ConsumerGroup::Assign(Delivery delivery) {
  const std::string& stream = delivery.event.stream;
  uint64_t& count = outstanding_[stream];
  uint64_t owner = 0;
  if (!ordered()) {
    owner = PickMember(delivery.event);
  } else if (count > 0) {
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
    pending_.insert(CursorOf(delivery.event));
  }
  members_[owner].queue.push_back(std::move(delivery));
}

void ConsumerGroup::Dispatch() {
  std::vector<RecordedEvent> batch;
  for (;;) {
    uint64_t from = 0;
    uint64_t room = 0;
    uint64_t epoch = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      dispatch_cv_.wait_for(lock, kIdleRecheck,
                            [&] { return stopping_ || WantsEvents(); });
      if (stopping_) return;
      lock.unlock();
      ExpireDeliveries();
      TruncateReplayed();
      MaybeSaveCheckpoint(/*force=*/false);
      lock.lock();
      if (stopping_) return;
      if (!WantsEvents()) continue;
      from = read_position_;
      epoch = epoch_;
      room = Capacity() - OutstandingCount();
      if (options_.read_batch_size > 0) {
        room = std::min<uint64_t>(room, options_.read_batch_size);
      }
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
  batch->clear();
  std::optional<uint64_t> next;
  if (end.ok() && stream_) {
    uint64_t after = from;
    failure = ReadStreamBatch(from, room, *end, batch, &after);
    if (failure.ok() && batch->empty()) {
      store_->WaitForChange(seen, kIdleRecheck);
      return true;
    }
    if (failure.ok()) next = after;
  } else if (end.ok() && from >= *end) {
    store_->WaitForChange(seen, kIdleRecheck);
    return true;
  } else if (end.ok()) {
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
                                         : CursorOf(batch->back()) + 1;
      for (RecordedEvent& e : *batch) {
        if (members_.empty()) {
          // Everyone left meanwhile: re-read from here when someone joins.
          resume = CursorOf(e);
          break;
        }
        // Its own parked links (and their $tb) would otherwise come back
        // to a group that reads every stream.
        if (e.stream == parked_stream_ || e.stream == parked_metastream_) {
          continue;
        }
        // Replayed from the parked stream and outstanding: one copy at a
        // time, or a member would hold two at one position. Its link stays
        // parked until it is handled, so the log's copy is not needed.
        if (replaying_positions_.contains(e.position.value())) continue;
        Assign(Delivery{std::move(e), 0, std::nullopt, {}});
      }
      read_position_ = resume;
    }
    if (!failure.ok() && failure_.ok()) failure_ = failure;
  }
  members_cv_.notify_all();
  return failure.ok();
}

Status ConsumerGroup::ReadStreamBatch(uint64_t from, uint64_t room,
                                      uint64_t end,
                                      std::vector<RecordedEvent>* batch,
                                      uint64_t* next) {
  ReadStreamOptions read;
  read.from = StreamRevision(from);
  read.max_count = std::max<uint64_t>(room, 1);
  auto events = store_->ReadVisibleStream(*stream_, read);
  // A stream not written yet (or deleted) has nothing to hand out; a
  // tombstone or damage stops the group.
  if (events.status().IsNotFound()) return Status::Ok();
  if (!events.ok()) return events.status();
  for (RecordedEvent& e : events->events) {
    // Only durable events (in kInterval mode the index runs ahead).
    if (e.position.value() >= end) break;
    // Retention may skip revisions ($maxCount, $maxAge, $tb).
    *next = CursorOf(e) + 1;
    batch->push_back(std::move(e));
  }
  return Status::Ok();
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
    if (Holds(taken)) ++blocked_[taken.event.stream];
    taken.deadline = deadline;
    out.push_back(GroupDelivery{taken.event, taken.retries});
    const uint64_t position = taken.event.position.value();
    m.in_flight.emplace(position, std::move(taken));
  }
  m.delivered += out.size();
  delivered_ += out.size();
  // A member that ran dry makes the dispatcher read (WantsEvents).
  if (!out.empty() && m.queue.empty() && WantsEvents()) {
    dispatch_cv_.notify_all();
  }
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
  if (Holds(delivery)) {
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
    pending_.erase(CursorOf(delivery.event));
  }
  ++handled_;
  auto count = outstanding_.find(delivery.event.stream);
  if (--count->second == 0) {
    owner_.erase(delivery.event.stream);
    outstanding_.erase(count);
  }
}

Status ConsumerGroup::Ack(uint64_t member, GlobalPosition position) {
  bool was_retry = false;
  bool dispatch = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto taken = TakeInFlight(member, position.value());
    if (!taken.ok()) return taken.status();
    was_retry = taken->retries > 0;
    Handled(*taken);
    dispatch = WantsEvents();
  }
  // A retry handled lets its stream's held-back events go.
  if (was_retry) members_cv_.notify_all();
  // The dispatcher wakes only when it would read.
  if (dispatch) dispatch_cv_.notify_all();
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
      if (Holds(d)) {
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
    } else if (!ordered()) {
      for (Delivery& d : orphans) {
        members_[PickMember(d.event)].queue.push_back(std::move(d));
      }
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
  uint64_t handled = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint = pending_.empty() ? read_position_ : *pending_.begin();
    handled = handled_;
  }
  std::lock_guard<std::mutex> lock(save_mu_);
  if (forgotten_ || checkpoint <= saved_checkpoint_) return;
  const Clock::time_point now = Now();
  const uint64_t since = handled - handled_at_save_;
  const bool due = now - last_save_ >= options_.checkpoint_every &&
                   since >= options_.min_checkpoint_count;
  const bool full = options_.max_checkpoint_count > 0 &&
                    since >= options_.max_checkpoint_count;
  if (!force && !due && !full) return;
  // A read-only (or closed) store can not save; the group then restarts
  // from its last saved checkpoint, which at-least-once delivery allows.
  Status s = registry_->WithStore([&](StoreImpl& store) {
    return store.SaveCheckpoint(checkpoint_name_, GlobalPosition(checkpoint));
  });
  if (s.ok()) saved_checkpoint_ = checkpoint;
  last_save_ = now;
  handled_at_save_ = handled;
}

}  // namespace cairn::engine
