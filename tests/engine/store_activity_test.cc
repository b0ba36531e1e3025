// Copyright (c) Cairn authors.
//
// StoreStats::activity: appends, events and bytes written, durability
// syncs, group commits, reads by kind, subscription deliveries and lag all
// follow what the store really did.
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

std::unique_ptr<Store> Open(const std::string& dir) {
  Options options = testing::SmallOptions();
  options.create_if_missing = true;
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

StoreActivity Activity(Store* store) {
  auto stats = store->GetStats();
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return stats.ok() ? stats->activity : StoreActivity();
}

TEST(StoreActivityTest, CountsWritesSyncsAndGroups) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store);
  const StoreActivity before = Activity(store.get());
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(3)).ok());
  ASSERT_TRUE(store->Append("b", ExpectedVersion::Any(), Events(2)).ok());
  const StoreActivity after = Activity(store.get());
  EXPECT_EQ(after.appends - before.appends, 2u);
  EXPECT_EQ(after.events_written - before.events_written, 5u);
  auto stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  // Each synchronous append is its own group here; every group is synced.
  EXPECT_GT(after.bytes_written, before.bytes_written);
  EXPECT_EQ(after.group_commit_events.count - before.group_commit_events.count,
            2u);
  EXPECT_EQ(after.group_commit_events.sum - before.group_commit_events.sum, 5u);
  EXPECT_GE(after.sync_micros.count - before.sync_micros.count, 2u);
  EXPECT_EQ(after.sync_micros.cumulative_counts.back(), after.sync_micros.count)
      << "no sync should take longer than the last bound (16 s)";
}

TEST(StoreActivityTest, AnIdempotentRetryWritesNothing) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store);
  auto events = Events(2);
  ASSERT_TRUE(store->Append("a", ExpectedVersion::NoStream(), events).ok());
  const StoreActivity before = Activity(store.get());
  auto retry = store->Append("a", ExpectedVersion::NoStream(), events);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->idempotent_replay);
  const StoreActivity after = Activity(store.get());
  EXPECT_EQ(after.appends, before.appends);
  EXPECT_EQ(after.events_written, before.events_written);
}

TEST(StoreActivityTest, CountsReadsByKind) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Append("order-1", ExpectedVersion::Any(), Events(2)).ok());
  const StoreActivity before = Activity(store.get());
  ASSERT_TRUE(store->ReadStream("order-1", testing::StreamUpTo(10)).ok());
  ASSERT_TRUE(store->ReadStream("order-1", testing::StreamUpTo(10)).ok());
  ASSERT_TRUE(store->ReadStream("$ce-order", testing::StreamUpTo(10)).ok());
  ASSERT_TRUE(store->ReadAll(testing::AllUpTo(10)).ok());
  const StoreActivity after = Activity(store.get());
  EXPECT_EQ(after.stream_reads - before.stream_reads, 2u);
  EXPECT_EQ(after.link_stream_reads - before.link_stream_reads, 1u);
  EXPECT_EQ(after.all_reads - before.all_reads, 1u);
}

// Holds the subscription's thread inside its first OnEvent until released.
class BlockingHandler : public SubscriptionHandler {
 public:
  void OnEvent(const RecordedEventView&) override {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

TEST(StoreActivityTest, SubscriptionLagIsTheDurableEventsNotYetExamined) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store);
  EXPECT_EQ(Activity(store.get()).subscriptions, 0u);
  auto handler = std::make_shared<BlockingHandler>();
  auto sub = store->Subscribe(SubscriptionOptions(), handler);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(1)).ok());
  handler->WaitEntered();  // at position 0, which it has not passed yet
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(9)).ok());
  StoreActivity held = Activity(store.get());
  EXPECT_EQ(held.subscriptions, 1u);
  EXPECT_EQ(held.subscription_lag_max, 10u);
  EXPECT_EQ(held.subscription_lag_sum, 10u);
  handler->Release();
  (*sub)->Stop();
  sub->reset();
  EXPECT_EQ(Activity(store.get()).subscriptions, 0u);
}

TEST(StoreActivityTest,
     CountsDeliveriesAndACaughtUpStreamSubscriptionHasNoLag) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Append("x", ExpectedVersion::Any(), Events(3)).ok());
  ASSERT_TRUE(store->Append("y", ExpectedVersion::Any(), Events(4)).ok());
  auto recorder = std::make_shared<testing::SubscriptionRecorder>();
  SubscriptionOptions options;
  options.stream = "x";
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(
      recorder->WaitFor([&] { return !recorder->caught_up_locked().empty(); }));
  const StoreActivity activity = Activity(store.get());
  EXPECT_EQ(activity.subscription_events, 3u);
  EXPECT_EQ(activity.subscriptions, 1u);
  // Caught up: the other stream's events after x's are examined too.
  EXPECT_EQ(activity.subscription_lag_max, 0u);
}

TEST(StoreActivityTest, CountsScavengesAndWhatTheyRemoved) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Append("gone", ExpectedVersion::Any(), Events(4)).ok());
  ASSERT_TRUE(store->Tombstone("gone", ExpectedVersion::Any()).ok());
  StoreActivity during;
  ScavengeOptions options;
  options.progress = [&](const ScavengeProgress&) {
    during = Activity(store.get());
  };
  auto result = store->Scavenge(options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(during.scavenge_running);
  const StoreActivity after = Activity(store.get());
  EXPECT_FALSE(after.scavenge_running);
  EXPECT_EQ(after.scavenges, 1u);
  EXPECT_EQ(after.scavenged_events, 4u);
  EXPECT_EQ(after.scavenged_bytes, result->bytes_reclaimed());
  EXPECT_GE(after.scavenge_parts_total, 1u);
  EXPECT_EQ(after.scavenge_parts_done, after.scavenge_parts_total);
}

}  // namespace
}  // namespace cairn
