// Copyright (c) Cairn authors.
//
// A SubscriptionHandler that records what it is given and lets a test wait
// for a condition on it (no sleeps).
#ifndef CAIRN_TESTS_SUPPORT_SUBSCRIPTION_RECORDER_H_
#define CAIRN_TESTS_SUPPORT_SUBSCRIPTION_RECORDER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "cairn/cairn.h"

namespace cairn::testing {

class SubscriptionRecorder : public SubscriptionHandler {
 public:
  void OnEvent(const RecordedEventView& event) override {
    if (gate_) gate_();
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event.ToOwned());
    cv_.notify_all();
  }
  void OnCaughtUp(GlobalPosition position) override {
    std::lock_guard<std::mutex> lock(mu_);
    caught_up_.push_back(position.value());
    cv_.notify_all();
  }
  void OnFellBehind(GlobalPosition position) override {
    std::lock_guard<std::mutex> lock(mu_);
    fell_behind_.push_back(position.value());
  }
  void OnCheckpoint(GlobalPosition position) override {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoints_.push_back(position.value());
    cv_.notify_all();
  }
  void OnStopped(const Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    stop_status_ = status;
    cv_.notify_all();
  }

  // Waits until pred() holds (checked under the lock); false after a long
  // safety timeout, which only a broken implementation reaches.
  bool WaitFor(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), pred);
  }
  bool WaitForEvents(size_t n) {
    return WaitFor([&] { return events_.size() >= n; });
  }

  // Runs before each event is recorded (e.g. to block a slow consumer).
  void SetGate(std::function<void()> gate) { gate_ = std::move(gate); }

  std::vector<RecordedEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::vector<uint64_t> caught_up() {
    std::lock_guard<std::mutex> lock(mu_);
    return caught_up_;
  }
  std::vector<uint64_t> checkpoints() {
    std::lock_guard<std::mutex> lock(mu_);
    return checkpoints_;
  }
  std::vector<uint64_t> fell_behind() {
    std::lock_guard<std::mutex> lock(mu_);
    return fell_behind_;
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  Status stop_status() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_status_;
  }
  // Under the lock, for WaitFor predicates.
  const std::vector<RecordedEvent>& events_locked() const { return events_; }
  const std::vector<uint64_t>& checkpoints_locked() const {
    return checkpoints_;
  }
  const std::vector<uint64_t>& caught_up_locked() const { return caught_up_; }
  bool stopped_locked() const { return stopped_; }

 private:
  std::function<void()> gate_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RecordedEvent> events_;
  std::vector<uint64_t> caught_up_;
  std::vector<uint64_t> fell_behind_;
  std::vector<uint64_t> checkpoints_;
  bool stopped_ = false;
  Status stop_status_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_SUBSCRIPTION_RECORDER_H_
