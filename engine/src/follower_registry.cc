// Copyright (c) Cairn authors.
#include "engine/src/follower_registry.h"

#include <algorithm>

namespace cairn::engine {

Status FollowerRegistry::Add(Follower* follower) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) return Status::Closed("the store is closed");
  followers_.push_back(follower);
  return Status::Ok();
}

void FollowerRegistry::Remove(Follower* follower) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stopping_ != follower; });
  followers_.erase(std::remove(followers_.begin(), followers_.end(), follower),
                   followers_.end());
}

Status FollowerRegistry::WithStore(
    const std::function<Status(StoreImpl&)>& fn) {
  StoreImpl* store = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (store_ == nullptr) return Status::Closed("the store is closed");
    store = store_;
    ++calls_;
  }
  Status s = fn(*store);
  {
    std::lock_guard<std::mutex> lock(mu_);
    --calls_;
  }
  cv_.notify_all();
  return s;
}

FollowerLag FollowerRegistry::Lag(uint64_t end) {
  std::lock_guard<std::mutex> lock(mu_);
  FollowerLag lag;
  for (const Follower* follower : followers_) {
    const std::optional<uint64_t> examined = follower->ExaminedEnd();
    if (!examined) continue;
    const uint64_t behind = end > *examined ? end - *examined : 0;
    ++lag.followers;
    lag.max = std::max(lag.max, behind);
    lag.sum += behind;
  }
  return lag;
}

void FollowerRegistry::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  // Stopping a follower joins its thread, which may itself call WithStore
  // (a group saving its checkpoint): the lock is not held across the call.
  while (!followers_.empty()) {
    Follower* follower = followers_.back();
    followers_.pop_back();
    stopping_ = follower;
    lock.unlock();
    follower->StopFollowing();
    lock.lock();
    stopping_ = nullptr;
    cv_.notify_all();
  }
  // Every follower thread is joined; what is left are handle calls on the
  // application's threads, which are short.
  store_ = nullptr;
  cv_.wait(lock, [&] { return calls_ == 0; });
}

}  // namespace cairn::engine
