// Copyright (c) Cairn authors.
//
// A subscription: one thread following the log from a position, delivering
// matching durable events to a handler in order. There is no separate live
// buffer: catch-up and live delivery read the same mapped segments through
// the same cursor, so the hand-over from history to live can neither skip
// nor repeat an event, and a slow handler can neither block writers nor
// make anything buffer without bound (the page cache is the buffer).
#ifndef CAIRN_ENGINE_SRC_SUBSCRIPTION_H_
#define CAIRN_ENGINE_SRC_SUBSCRIPTION_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "cairn/subscription.h"
#include "engine/src/store_impl.h"

namespace cairn::engine {

class SubscriptionImpl final : public Subscription, public Follower {
 public:
  // Registers with the store and starts following from `start_position`
  // ($all) or options.from_revision (a stream); Closed if the store is
  // closing.
  static Result<std::unique_ptr<Subscription>> Start(
      StoreImpl* store, const SubscriptionOptions& options,
      std::shared_ptr<SubscriptionHandler> handler, uint64_t start_position);
  ~SubscriptionImpl() override;

  void Stop() override;
  GlobalPosition position() const override {
    return GlobalPosition(position_.load(std::memory_order_acquire));
  }
  // The store is closing: the handler's OnStopped gets Closed.
  void StopFollowing() override;
  // $all: the position; a stream: the durable end when the stream was
  // last found to have nothing more below it.
  std::optional<uint64_t> ExaminedEnd() const override {
    return options_.stream ? examined_end_.load(std::memory_order_relaxed)
                           : position_.load(std::memory_order_relaxed);
  }

 private:
  SubscriptionImpl(StoreImpl* store, const SubscriptionOptions& options,
                   std::shared_ptr<SubscriptionHandler> handler,
                   uint64_t start_position);
  void Run();
  Status RunAll();
  Status RunStream();

  // Used by thread_ only, which the store's Close() joins before the store
  // goes; the handle's own methods go through registry_.
  StoreImpl* const store_;
  const std::shared_ptr<FollowerRegistry> registry_;
  const SubscriptionOptions options_;
  const std::shared_ptr<SubscriptionHandler> handler_;
  std::atomic<uint64_t> position_;
  // Stream subscriptions: how far the log is examined (ExaminedEnd).
  std::atomic<uint64_t> examined_end_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> store_closed_{false};
  std::mutex join_mu_;  // Stop() may race with itself (Close vs destructor)
  std::thread thread_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SUBSCRIPTION_H_
