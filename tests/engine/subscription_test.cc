// Copyright (c) Cairn authors.
//
// Subscriptions: catch-up then live without gap or duplicate while writers
// run, filters and checkpoint reports, slow consumers, stream
// subscriptions, durable-only delivery, following from a read-only opener.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <random>
#include <thread>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::Events;
using testing::SubscriptionRecorder;

std::unique_ptr<Store> Open(const std::string& dir,
                            const Options& options = testing::SmallOptions()) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

void ExpectGapless(const std::vector<RecordedEvent>& events, uint64_t first,
                   uint64_t count) {
  ASSERT_EQ(events.size(), count);
  for (uint64_t i = 0; i < count; ++i) {
    ASSERT_EQ(events[i].position, GlobalPosition(first + i)) << "index " << i;
  }
}

class HandoverTest : public ::testing::TestWithParam<int> {};

// History, then live, while writers keep appending: every event exactly
// once, in position order, across the hand-over.
TEST_P(HandoverTest, CatchUpThenLiveUnderConcurrentAppends) {
  std::mt19937 rng(GetParam());
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_NE(store, nullptr);
  const int history = static_cast<int>(rng() % 300);
  for (int i = 0; i < history; ++i) {
    ASSERT_TRUE(store
                    ->Append("h-" + std::to_string(i % 7),
                             ExpectedVersion::Any(), {Event("E")})
                    .ok());
  }
  auto recorder = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions options;
  options.batch_size = 1 + rng() % 64;
  constexpr int kWriters = 3;
  const int per_writer = 100 + static_cast<int>(rng() % 200);
  std::vector<std::thread> writers;
  std::latch start(kWriters + 1);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < per_writer; ++i) {
        auto r = store->Append("w-" + std::to_string(w), ExpectedVersion::Any(),
                               {Event("E")});
        ASSERT_TRUE(r.ok());
      }
    });
  }
  start.arrive_and_wait();
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  for (auto& t : writers) t.join();
  const uint64_t total = history + kWriters * per_writer;
  ASSERT_TRUE(recorder->WaitForEvents(total));
  (*sub)->Stop();
  // It went live at some point (OnCaughtUp marks each transition to live).
  EXPECT_FALSE(recorder->caught_up().empty());
  ExpectGapless(recorder->events(), 0, total);
  EXPECT_EQ((*sub)->position(), GlobalPosition(total));
  EXPECT_TRUE(recorder->stopped());
}

INSTANTIATE_TEST_SUITE_P(Seeds, HandoverTest, ::testing::Range(1, 21));

TEST(SubscriptionTest, FromEndAndFromPosition) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(10)).ok());
  auto tail = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions from_end;
  from_end.from_end = true;
  auto sub_end = store->Subscribe(from_end, tail);
  ASSERT_TRUE(sub_end.ok());
  auto middle = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions from_seven;
  from_seven.from_position = GlobalPosition(7);
  auto sub_mid = store->Subscribe(from_seven, middle);
  ASSERT_TRUE(sub_mid.ok());
  ASSERT_TRUE(tail->WaitFor([&] { return !tail->caught_up_locked().empty(); }));
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(2)).ok());
  ASSERT_TRUE(tail->WaitForEvents(2));
  ASSERT_TRUE(middle->WaitForEvents(5));
  ExpectGapless(tail->events(), 10, 2);
  ExpectGapless(middle->events(), 7, 5);
}

TEST(SubscriptionTest, FiltersAndCheckpointsThroughUnmatchedRuns) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  for (int i = 0; i < 500; ++i) {
    std::string stream = i % 50 == 0 ? "Order-" + std::to_string(i) : "User-1";
    ASSERT_TRUE(store
                    ->Append(stream, ExpectedVersion::Any(),
                             {Event(i % 100 == 0 ? "Placed" : "Other")})
                    .ok());
  }
  auto recorder = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions options;
  options.stream_prefix = "Order-";
  options.type_prefix = "Pla";
  options.checkpoint_interval = 64;
  options.batch_size = 16;
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(recorder->WaitFor([&] {
    return !recorder->checkpoints_locked().empty() &&
           recorder->checkpoints_locked().back() == 500;
  }));
  auto events = recorder->events();
  ASSERT_EQ(events.size(), 5u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].position, GlobalPosition(i * 100));
    EXPECT_EQ(events[i].type, "Placed");
  }
  // Progress was reported through the long unmatched runs, in order.
  auto checkpoints = recorder->checkpoints();
  EXPECT_GE(checkpoints.size(), 3u);
  EXPECT_TRUE(std::is_sorted(checkpoints.begin(), checkpoints.end()));
}

TEST(SubscriptionTest, SlowConsumerNeverBlocksWriters) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  auto recorder = std::make_shared<SubscriptionRecorder>();
  std::latch release(1);
  std::atomic<bool> first{true};
  recorder->SetGate([&] {
    if (first.exchange(false)) release.wait();  // stuck on the first event
  });
  SubscriptionOptions options;
  options.batch_size = 32;
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok());
  // The writers finish while the consumer is stuck: they never wait on it.
  constexpr int kEvents = 3000;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(store
                    ->Append("s-" + std::to_string(i % 10),
                             ExpectedVersion::Any(), {Event("E")})
                    .ok());
  }
  release.count_down();
  ASSERT_TRUE(recorder->WaitForEvents(kEvents));
  ExpectGapless(recorder->events(), 0, kEvents);
  // Having been far behind, it reported catching up at the end.
  ASSERT_TRUE(recorder->WaitFor([&] {
    return !recorder->caught_up_locked().empty() &&
           recorder->caught_up_locked().back() == kEvents;
  }));
}

TEST(SubscriptionTest, StreamSubscriptionFromRevision) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  ASSERT_TRUE(store->Append("x", ExpectedVersion::Any(), Events(5)).ok());
  ASSERT_TRUE(store->Append("y", ExpectedVersion::Any(), Events(5)).ok());
  auto recorder = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions options;
  options.stream = "x";
  options.from_revision = StreamRevision(2);
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(recorder->WaitForEvents(3));
  ASSERT_TRUE(store->Append("y", ExpectedVersion::Any(), Events(3)).ok());
  ASSERT_TRUE(store->Append("x", ExpectedVersion::Any(), Events(2)).ok());
  ASSERT_TRUE(recorder->WaitForEvents(5));
  auto events = recorder->events();
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].stream, "x");
    EXPECT_EQ(events[i].revision, StreamRevision(2 + i));
  }
  // A subscription to a stream that does not exist yet waits for it.
  auto later = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions new_stream;
  new_stream.stream = "later";
  auto sub2 = store->Subscribe(new_stream, later);
  ASSERT_TRUE(sub2.ok());
  ASSERT_TRUE(
      store->Append("later", ExpectedVersion::NoStream(), Events(1)).ok());
  ASSERT_TRUE(later->WaitForEvents(1));
}

TEST(SubscriptionTest, DeliversOnlyDurableEvents) {
  testing::TempDir dir;
  Options options = testing::SmallOptions();
  options.durability = Durability::kNone;  // nothing durable until Sync
  auto store = Open(dir.Sub("s"), options);
  auto recorder = std::make_shared<SubscriptionRecorder>();
  auto sub = store->Subscribe(SubscriptionOptions{}, recorder);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(5)).ok());
  ASSERT_TRUE(
      recorder->WaitFor([&] { return !recorder->caught_up_locked().empty(); }));
  EXPECT_TRUE(recorder->events().empty());
  ASSERT_TRUE(store->Sync().ok());
  ASSERT_TRUE(recorder->WaitForEvents(5));
  ExpectGapless(recorder->events(), 0, 5);
}

TEST(SubscriptionTest, FollowsWriterFromReadOnlyOpener) {
  testing::TempDir dir;
  auto writer = Open(dir.Sub("s"));
  ASSERT_TRUE(writer->Append("a", ExpectedVersion::Any(), Events(3)).ok());
  Options ro = testing::SmallOptions();
  ro.read_only = true;
  auto reader = Open(dir.Sub("s"), ro);
  ASSERT_NE(reader, nullptr);
  auto recorder = std::make_shared<SubscriptionRecorder>();
  auto sub = reader->Subscribe(SubscriptionOptions{}, recorder);
  ASSERT_TRUE(sub.ok());
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(writer
                    ->Append("b-" + std::to_string(i % 3),
                             ExpectedVersion::Any(),
                             {Event("Big", std::string(1500, 'q'))})
                    .ok());
  }
  ASSERT_TRUE(recorder->WaitForEvents(303));
  ExpectGapless(recorder->events(), 0, 303);
}

TEST(SubscriptionTest, CloseStopsSubscriptions) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  auto recorder = std::make_shared<SubscriptionRecorder>();
  auto sub = store->Subscribe(SubscriptionOptions{}, recorder);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(store->Close().ok());
  EXPECT_TRUE(recorder->stopped());
  sub->reset();
}

TEST(SubscriptionTest, RejectsBadOptions) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("s"));
  auto recorder = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions bad;
  bad.stream = "x";
  bad.stream_prefix = "y";
  EXPECT_TRUE(store->Subscribe(bad, recorder).status().IsInvalidArgument());
  EXPECT_TRUE(store->Subscribe(SubscriptionOptions{}, nullptr)
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace cairn
