// Copyright (c) Cairn authors.
//
// What a consumer group follows and how it is bounded: one stream (from a
// revision, from its end, resuming from its checkpoint) or $all from a
// position; the member limit; checkpoints by count and time on an
// injected clock; the group's buffer bound; and ending a group, keeping
// or forgetting its state.
#include <gtest/gtest.h>

#include <string>

#include "cairn/cairn.h"
#include "tests/support/group_test_util.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::FakeClock;
using testing::Key;
using testing::ReceiveN;

void AppendTo(Store& store, const std::string& stream, int n) {
  ASSERT_TRUE(
      store.Append(stream, ExpectedVersion::Any(), testing::Events(n)).ok());
}

std::vector<std::string> Keys(const std::vector<GroupDelivery>& got) {
  std::vector<std::string> keys;
  for (const GroupDelivery& d : got) keys.push_back(Key(d.event));
  return keys;
}

ConsumerGroupOptions StreamGroup(const std::string& stream) {
  ConsumerGroupOptions options;
  options.stream = stream;
  return options;
}

TEST(ConsumerGroupSourceTest, StreamGroupFollowsItsStreamFromARevision) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "other", 2);
  AppendTo(**store, "orders", 4);
  ConsumerGroupOptions options = StreamGroup("orders");
  options.from_revision = StreamRevision(1);
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  AppendTo(**store, "other", 1);
  AppendTo(**store, "orders", 1);
  auto got = ReceiveN(**member, 4);
  EXPECT_EQ(Keys(got), (std::vector<std::string>{"orders@1", "orders@2",
                                                 "orders@3", "orders@4"}));
  // Parked into the stream group's own parked stream.
  ASSERT_TRUE(
      (*member)->Nack(got[0].event.position, NackAction::kPark, "bad").ok());
  auto parked = (*store)->ReadStream("$persistentsubscription-orders::g-parked",
                                     testing::StreamUpTo(10));
  ASSERT_TRUE(parked.ok()) << parked.status().ToString();
  ASSERT_EQ(parked->events.size(), 1u);
  EXPECT_EQ(parked->events[0].data, "1@orders");
  auto info = (*store)->GetConsumerGroupInfo("g", "orders");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->stream, "orders");
  EXPECT_EQ(info->parked_stream, "$persistentsubscription-orders::g-parked");
  EXPECT_EQ(info->parked, 1u);
  EXPECT_EQ(info->handled, 1u);
  EXPECT_EQ(info->read_position, GlobalPosition(5));  // the next revision
  // The $all group of the same name is another group.
  auto all = (*store)->GetConsumerGroupInfo("g");
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->live);
}

TEST(ConsumerGroupSourceTest, StreamGroupFromEndAndResumeAfterReopen) {
  testing::TempDir dir;
  {
    auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    AppendTo(**store, "orders", 3);
    ConsumerGroupOptions options = StreamGroup("orders");
    options.from_end = true;
    auto member = (*store)->JoinConsumerGroup("g", options);
    ASSERT_TRUE(member.ok());
    AppendTo(**store, "orders", 3);
    auto got = ReceiveN(**member, 3);
    EXPECT_EQ(Keys(got),
              (std::vector<std::string>{"orders@3", "orders@4", "orders@5"}));
    ASSERT_EQ(got.size(), 3u);
    ASSERT_TRUE((*member)->Ack(got[0].event.position).ok());
    ASSERT_TRUE((*member)->Ack(got[2].event.position).ok());
    ASSERT_TRUE((*store)->Close().ok());  // saves the checkpoint
  }
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  auto info = (*store)->GetConsumerGroupInfo("g", "orders");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_checkpoint, GlobalPosition(4));  // orders@4 unacked
  auto member = (*store)->JoinConsumerGroup("g", StreamGroup("orders"));
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(Keys(ReceiveN(**member, 2)),
            (std::vector<std::string>{"orders@4", "orders@5"}));
}

TEST(ConsumerGroupSourceTest, AllGroupStartsFromAPosition) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "a", 2);
  auto read = (*store)->ReadStream("a", testing::StreamUpTo(2));
  ASSERT_TRUE(read.ok() && read->events.size() == 2);
  ConsumerGroupOptions options;
  options.from_position = read->events[1].position;
  options.stream_prefix = "a";
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(Keys(ReceiveN(**member, 1)), (std::vector<std::string>{"a@1"}));
}

TEST(ConsumerGroupSourceTest, JoinBeyondMaxMembersIsLimitReached) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  ConsumerGroupOptions options;
  options.max_members = 2;
  auto a = (*store)->JoinConsumerGroup("g", options);
  auto b = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = (*store)->JoinConsumerGroup("g", options);
  EXPECT_TRUE(c.status().IsLimitReached()) << c.status().ToString();
  (*a)->Leave();
  EXPECT_TRUE((*store)->JoinConsumerGroup("g", options).ok());
}

TEST(ConsumerGroupSourceTest, CheckpointSavedByCountAndTime) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "orders", 10);
  FakeClock clock;
  ConsumerGroupOptions options = StreamGroup("orders");
  options.clock = clock.Fn();
  options.checkpoint_every = std::chrono::seconds(2);
  options.min_checkpoint_count = 3;
  options.max_checkpoint_count = 6;
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  auto got = ReceiveN(**member, 10);
  ASSERT_EQ(got.size(), 10u);
  auto checkpoint = [&] {
    auto info = (*store)->GetConsumerGroupInfo("g", "orders");
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->last_checkpoint : std::nullopt;
  };
  // Time passed, but fewer than min_checkpoint_count were handled.
  clock.Advance(std::chrono::seconds(3));
  ASSERT_TRUE((*member)->Ack(got[0].event.position).ok());
  ASSERT_TRUE((*member)->Ack(got[1].event.position).ok());
  EXPECT_EQ(checkpoint(), std::nullopt);
  // The third is enough.
  ASSERT_TRUE((*member)->Ack(got[2].event.position).ok());
  EXPECT_EQ(checkpoint(), GlobalPosition(3));
  // No time passes now: only max_checkpoint_count saves.
  for (int i = 3; i < 8; ++i) {
    ASSERT_TRUE((*member)->Ack(got[i].event.position).ok());
  }
  EXPECT_EQ(checkpoint(), GlobalPosition(3));
  ASSERT_TRUE((*member)->Ack(got[8].event.position).ok());
  EXPECT_EQ(checkpoint(), GlobalPosition(9));
}

TEST(ConsumerGroupSourceTest, MaxBufferedBoundsWhatTheGroupHolds) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "orders", 10);
  ConsumerGroupOptions options = StreamGroup("orders");
  options.max_buffered = 3;
  options.read_batch_size = 2;
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  auto got = ReceiveN(**member, 3);
  ASSERT_EQ(got.size(), 3u);
  auto info = (*store)->GetConsumerGroupInfo("g", "orders");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->in_flight, 3u);
  EXPECT_EQ(info->queued, 0u);  // nothing more is read until acks free room
  ASSERT_TRUE((*member)->Ack(got[0].event.position).ok());
  EXPECT_EQ(Keys(ReceiveN(**member, 1)),
            (std::vector<std::string>{"orders@3"}));
}

TEST(ConsumerGroupSourceTest, EndKeepsOrForgetsTheGroupsState) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "orders", 3);
  auto member = (*store)->JoinConsumerGroup("g", StreamGroup("orders"));
  ASSERT_TRUE(member.ok());
  auto got = ReceiveN(**member, 3);
  ASSERT_EQ(got.size(), 3u);
  ASSERT_TRUE((*member)->Ack(got[0].event.position).ok());
  ASSERT_TRUE(
      (*member)->Nack(got[1].event.position, NackAction::kPark, "x").ok());
  // Stopped: members get Closed, the checkpoint is kept.
  ASSERT_TRUE((*store)->EndConsumerGroup("g", "orders", false).ok());
  EXPECT_TRUE(
      (*member)->Receive(1, std::chrono::milliseconds(0)).status().IsClosed());
  auto info = (*store)->GetConsumerGroupInfo("g", "orders");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_checkpoint, GlobalPosition(2));
  EXPECT_EQ(info->parked, 1u);
  // Forgotten: members get NotFound; checkpoint and parked stream go.
  auto again = (*store)->JoinConsumerGroup("g", StreamGroup("orders"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Keys(ReceiveN(**again, 1)), (std::vector<std::string>{"orders@2"}));
  ASSERT_TRUE((*store)->EndConsumerGroup("g", "orders", true).ok());
  EXPECT_TRUE(
      (*again)->Receive(1, std::chrono::milliseconds(0)).status().IsNotFound());
  info = (*store)->GetConsumerGroupInfo("g", "orders");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_checkpoint, std::nullopt);
  EXPECT_EQ(info->parked, 0u);
  auto fresh = (*store)->JoinConsumerGroup("g", StreamGroup("orders"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(Keys(ReceiveN(**fresh, 1)), (std::vector<std::string>{"orders@0"}));
}

}  // namespace
}  // namespace cairn
