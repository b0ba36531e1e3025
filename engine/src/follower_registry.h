// Copyright (c) Cairn authors.
//
// The followers of one store (subscriptions, consumer groups) and the link
// through which their handles reach the store. Handles and the store may be
// destroyed in either order, on any threads:
// - The registry is shared (reference-counted) by the store and every
//   follower, so it outlives whichever goes last.
// - A follower's own thread uses the store directly: it is registered
//   before it starts, and the store's Close() stops and joins every
//   registered follower before it releases anything.
// - A follower's handle methods, called on the application's threads, reach
//   the store only through WithStore(): after Close() detaches the store
//   they get Closed and touch nothing of it.
#ifndef CAIRN_ENGINE_SRC_FOLLOWER_REGISTRY_H_
#define CAIRN_ENGINE_SRC_FOLLOWER_REGISTRY_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "cairn/status.h"

namespace cairn::engine {

class StoreImpl;

// Anything that follows the log on its own thread and must stop before the
// store closes (subscriptions, consumer-group dispatchers).
class Follower {
 public:
  virtual ~Follower() = default;
  // The store is closing: stop and join the follower's thread. The store
  // is still usable during the call.
  virtual void StopFollowing() = 0;
  // The position below which the follower has examined the log (for its
  // lag), or nullopt if it reports none.
  virtual std::optional<uint64_t> ExaminedEnd() const { return std::nullopt; }
};

// Followers that report how far they are, and how far behind `end`.
struct FollowerLag {
  uint64_t followers = 0;
  uint64_t max = 0;
  uint64_t sum = 0;
};

class FollowerRegistry {
 public:
  explicit FollowerRegistry(StoreImpl* store) : store_(store) {}
  FollowerRegistry(const FollowerRegistry&) = delete;
  FollowerRegistry& operator=(const FollowerRegistry&) = delete;

  // Registers a follower before it starts its thread. Closed once the
  // store's Close() began: the follower must then not start.
  Status Add(Follower* follower);
  // Unregisters a follower (its destructor, after its thread stopped). If
  // Close() is stopping this very follower, waits until that call
  // returned, so the follower stays alive while Close() uses it.
  void Remove(Follower* follower);
  // Runs `fn` on the store, unless Close() detached it: then returns
  // Closed without running it. Close() waits for calls in progress.
  Status WithStore(const std::function<Status(StoreImpl&)>& fn);
  // The lag behind `end` of the followers that report a position.
  FollowerLag Lag(uint64_t end);
  // For the store's Close(): refuses new followers, stops every registered
  // one (each joins its thread), then detaches the store. Idempotent.
  void Close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  StoreImpl* store_;                  // guarded by mu_; null once detached
  bool closing_ = false;              // guarded by mu_
  std::vector<Follower*> followers_;  // guarded by mu_
  Follower* stopping_ = nullptr;      // guarded by mu_: in StopFollowing
  uint64_t calls_ = 0;                // guarded by mu_: WithStore running
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_FOLLOWER_REGISTRY_H_
