// Copyright (c) Cairn authors.
//
// The Store's side of following the log: subscriptions, checkpoints,
// consumer groups, and the change notification they wait on.
#include "engine/src/consumer_group.h"
#include "engine/src/store_impl.h"
#include "engine/src/subscription.h"
#include "engine/src/validation.h"

namespace cairn::engine {

Result<uint64_t> StoreImpl::DurableEnd() {
  if (closed()) return Status::Closed("the store is closed");
  Status s = Refresh();
  if (!s.ok()) return s;
  return durable_next_.load(std::memory_order_acquire);
}

uint32_t StoreImpl::ChangeSequence() const {
  return watermark_ ? watermark_->sequence()
                    : follow_seq_.load(std::memory_order_acquire);
}

void StoreImpl::WaitForChange(uint32_t seen,
                              std::chrono::milliseconds timeout) {
  if (watermark_) {
    watermark_->Wait(seen, timeout);
    return;
  }
  std::unique_lock<std::mutex> lock(follow_mu_);
  follow_cv_.wait_for(lock, timeout,
                      [&] { return follow_seq_.load() != seen; });
}

void StoreImpl::WakeFollowers() {
  if (watermark_) watermark_->WakeAll();
  {
    std::lock_guard<std::mutex> lock(follow_mu_);
    follow_seq_.fetch_add(1);
  }
  follow_cv_.notify_all();
}

Result<std::unique_ptr<Subscription>> StoreImpl::Subscribe(
    const SubscriptionOptions& options,
    std::shared_ptr<SubscriptionHandler> handler) {
  if (closed()) return Status::Closed("the store is closed");
  if (handler == nullptr) {
    return Status::InvalidArgument("a subscription needs a handler");
  }
  uint64_t start = 0;
  if (options.stream) {
    if (options.stream->empty()) {
      return Status::InvalidArgument("stream name must not be empty");
    }
    if (options.from_position || options.from_end ||
        !options.stream_prefix.empty() || !options.type_prefix.empty()) {
      return Status::InvalidArgument(
          "a stream subscription takes from_revision only; positions and "
          "filters are for $all");
    }
  } else {
    auto end = DurableEnd();
    if (!end.ok()) return end.status();
    if (options.from_end) {
      start = *end;
    } else if (options.from_position) {
      // A position beyond the end waits there for the log to reach it.
      start = options.from_position->value();
    }
  }
  return SubscriptionImpl::Start(this, options, std::move(handler), start);
}

Status StoreImpl::SaveCheckpoint(std::string_view name,
                                 GlobalPosition position) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  if (closed()) return Status::Closed("the store is closed");
  return checkpoints_.Save(name, position.value());
}

Result<std::optional<GlobalPosition>> StoreImpl::LoadCheckpoint(
    std::string_view name) {
  if (closed()) return Status::Closed("the store is closed");
  auto loaded = checkpoints_.Load(name);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return std::optional<GlobalPosition>();
  return std::optional<GlobalPosition>(GlobalPosition(**loaded));
}

Result<std::unique_ptr<GroupMember>> StoreImpl::JoinConsumerGroup(
    std::string_view group, const ConsumerGroupOptions& options) {
  if (closed()) return Status::Closed("the store is closed");
  const std::optional<std::string_view> stream =
      options.stream ? std::optional<std::string_view>(*options.stream)
                     : std::nullopt;
  Status s = ConsumerGroup::ValidateNames(group, stream);
  if (!s.ok()) return s;
  const std::string key = ConsumerGroup::Key(group, stream);
  std::shared_ptr<ConsumerGroup> state;
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    auto it = groups_.find(key);
    if (it != groups_.end()) state = it->second.lock();
    if (state == nullptr) {
      // Groups whose members all left are gone: drop their entries, or
      // the map would grow with every group name ever joined.
      std::erase_if(groups_,
                    [](const auto& entry) { return entry.second.expired(); });
      auto created = ConsumerGroup::Create(this, std::string(group), options);
      if (!created.ok()) return created.status();
      state = std::move(created.value());
      groups_[key] = state;
    }
  }
  return state->Join(state);
}

std::shared_ptr<ConsumerGroup> StoreImpl::LiveGroup(const std::string& key) {
  std::lock_guard<std::mutex> lock(groups_mu_);
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : it->second.lock();
}

Result<ConsumerGroupInfo> StoreImpl::GetConsumerGroupInfo(
    std::string_view group, std::optional<std::string_view> stream) {
  if (closed()) return Status::Closed("the store is closed");
  Status s = ConsumerGroup::ValidateNames(group, stream);
  if (!s.ok()) return s;
  if (auto live = LiveGroup(ConsumerGroup::Key(group, stream))) {
    return live->Info();
  }
  return ConsumerGroup::DurableInfo(*this, std::string(group), stream,
                                    /*replayed_before=*/0);
}

Status StoreImpl::ReplayParkedEvents(std::string_view group,
                                     std::optional<std::string_view> stream,
                                     std::optional<uint64_t> max_events) {
  if (closed()) return Status::Closed("the store is closed");
  Status s = ConsumerGroup::ValidateNames(group, stream);
  if (!s.ok()) return s;
  auto live = LiveGroup(ConsumerGroup::Key(group, stream));
  if (live == nullptr) {
    return Status::NotFound("no member of the consumer group '" +
                            std::string(group) +
                            "' is joined: nobody could receive a replay");
  }
  return live->ReplayParked(max_events);
}

Status StoreImpl::EndConsumerGroup(std::string_view group,
                                   std::optional<std::string_view> stream,
                                   bool forget) {
  if (closed()) return Status::Closed("the store is closed");
  Status s = ConsumerGroup::ValidateNames(group, stream);
  if (!s.ok()) return s;
  const std::string key = ConsumerGroup::Key(group, stream);
  std::shared_ptr<ConsumerGroup> live;
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    auto it = groups_.find(key);
    if (it != groups_.end()) {
      live = it->second.lock();
      // A join from now on creates the group afresh.
      groups_.erase(it);
    }
  }
  if (live) live->End(forget);
  if (!forget) return Status::Ok();
  return ConsumerGroup::Forget(*this, group, stream);
}

}  // namespace cairn::engine
