// Copyright (c) Cairn authors.
//
// Consumer groups: per-stream order across members, nothing lost, members
// joining and leaving (rebalancing), and resuming from the group's durable
// checkpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <thread>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "tests/support/group_order_checker.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;

using testing::OrderChecker;

void Fill(Store& store, int events, int streams, std::mt19937& rng) {
  for (int i = 0; i < events; ++i) {
    ASSERT_TRUE(store
                    .Append("s-" + std::to_string(rng() % streams),
                            ExpectedVersion::Any(), {Event("E")})
                    .ok());
  }
}

// Receives and acknowledges until `stop` or the checker saw `total`.
void Consume(GroupMember& member, OrderChecker& checker, uint64_t total,
             std::atomic<bool>& stop) {
  while (!stop && checker.acked() < total) {
    auto got = member.Receive(64, std::chrono::milliseconds(20));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const RecordedEvent& e : *got) {
      checker.Acked(e);
      ASSERT_TRUE(member.Ack(e.position).ok());
    }
  }
}

TEST(ConsumerGroupTest, MembersSharePartitionedByStreamInOrder) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  std::mt19937 rng(7);
  Fill(**store, 600, 20, rng);
  ConsumerGroupOptions options;
  options.max_in_flight = 50;
  auto a = (*store)->JoinConsumerGroup("g", options);
  auto b = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(a.ok() && b.ok());
  OrderChecker checker;
  std::atomic<bool> stop{false};
  std::thread ta([&] { Consume(**a, checker, 900, stop); });
  std::thread tb([&] { Consume(**b, checker, 900, stop); });
  Fill(**store, 300, 20, rng);  // live events while they consume
  ta.join();
  tb.join();
  EXPECT_EQ(checker.acked(), 900u);
}

TEST(ConsumerGroupTest, RebalanceOnJoinAndLeaveKeepsStreamOrder) {
  for (int seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(seed);
    testing::TempDir dir;
    auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    std::mt19937 rng(seed);
    Fill(**store, 400, 12, rng);
    ConsumerGroupOptions options;
    options.max_in_flight = 1 + rng() % 40;
    OrderChecker checker;
    // A member that receives a batch, acknowledges only part of it and
    // leaves: the rest must reach the new owners, in order.
    {
      auto quitter = (*store)->JoinConsumerGroup("g", options);
      ASSERT_TRUE(quitter.ok());
      auto got = (*quitter)->Receive(1 + rng() % 30, std::chrono::seconds(60));
      ASSERT_TRUE(got.ok());
      ASSERT_FALSE(got->empty());
      auto stay = (*store)->JoinConsumerGroup("g", options);  // joins mid-way
      ASSERT_TRUE(stay.ok());
      std::map<std::string, bool> skipped;  // once one is left unacked,
      for (const RecordedEvent& e :
           *got) {  // later ones of that stream are too
        if (skipped[e.stream] || rng() % 3 == 0) {
          skipped[e.stream] = true;
          continue;
        }
        checker.Acked(e);
        ASSERT_TRUE((*quitter)->Ack(e.position).ok());
      }
      (*quitter)->Leave();
      EXPECT_FALSE((*quitter)->Ack(GlobalPosition(0)).ok());
      auto late = (*store)->JoinConsumerGroup("g", options);
      ASSERT_TRUE(late.ok());
      std::atomic<bool> stop{false};
      std::thread t1([&] { Consume(**stay, checker, 500, stop); });
      std::thread t2([&] { Consume(**late, checker, 500, stop); });
      Fill(**store, 100, 12, rng);
      t1.join();
      t2.join();
    }
    EXPECT_EQ(checker.acked(), 500u);
  }
}

TEST(ConsumerGroupTest, ResumesFromDurableCheckpoint) {
  testing::TempDir dir;
  ConsumerGroupOptions options;
  options.checkpoint_every = std::chrono::milliseconds(0);
  {
    auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    std::mt19937 rng(3);
    Fill(**store, 100, 5, rng);
    auto member = (*store)->JoinConsumerGroup("billing", options);
    ASSERT_TRUE(member.ok());
    uint64_t acked = 0;
    while (acked < 40) {
      auto got = (*member)->Receive(40 - acked, std::chrono::seconds(60));
      ASSERT_TRUE(got.ok());
      for (const RecordedEvent& e : *got) {
        EXPECT_EQ(e.position, GlobalPosition(acked));  // one member: log order
        ASSERT_TRUE((*member)->Ack(e.position).ok());
        ++acked;
      }
    }
    // Leaving (the last member) saves the checkpoint.
  }
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  auto saved = (*store)->LoadCheckpoint("group-billing");
  ASSERT_TRUE(saved.ok());
  ASSERT_TRUE(saved->has_value());
  EXPECT_EQ(**saved, GlobalPosition(40));
  auto member = (*store)->JoinConsumerGroup("billing", options);
  ASSERT_TRUE(member.ok());
  auto got = (*member)->Receive(1, std::chrono::seconds(60));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].position, GlobalPosition(40));
}

// A group ends when its last member leaves; the store's map of groups then
// drops its entry (when the next group is created), so it is bounded by
// the live groups, not by every group name ever joined.
TEST(ConsumerGroupTest, EndedGroupsLeaveNoEntries) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  auto* impl = static_cast<engine::StoreImpl*>(store->get());
  for (int i = 0; i < 50; ++i) {
    auto member = (*store)->JoinConsumerGroup("g-" + std::to_string(i), {});
    ASSERT_TRUE(member.ok()) << member.status().ToString();
  }  // each member leaves, ending its group, at the end of its iteration
  EXPECT_EQ(impl->ConsumerGroupEntriesForTest(), 1u);
}

TEST(ConsumerGroupTest, BadAcksAreRejected) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      (*store)->Append("a", ExpectedVersion::Any(), testing::Events(2)).ok());
  auto member = (*store)->JoinConsumerGroup("g", ConsumerGroupOptions{});
  ASSERT_TRUE(member.ok());
  EXPECT_TRUE(
      (*member)->Ack(GlobalPosition(0)).IsInvalidArgument());  // not received
  auto got = (*member)->Receive(1, std::chrono::seconds(60));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_TRUE((*member)->Ack((*got)[0].position).ok());
  EXPECT_TRUE((*member)->Ack((*got)[0].position).IsInvalidArgument());  // twice
  // Group names are 1..200 bytes.
  EXPECT_TRUE((*store)
                  ->JoinConsumerGroup("", ConsumerGroupOptions{})
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      (*store)
          ->JoinConsumerGroup(std::string(201, 'g'), ConsumerGroupOptions{})
          .status()
          .IsInvalidArgument());
  // "::" joins a group's stream and name in its key: group "b::c" of
  // stream "a" would be group "c" of stream "a::b".
  ConsumerGroupOptions of_a;
  of_a.stream = "a";
  EXPECT_TRUE(
      (*store)->JoinConsumerGroup("b::c", of_a).status().IsInvalidArgument());
}

// A dispatcher that hits damage in the log tells every member: each gets
// the events before the damage, then the error, never silent emptiness.
TEST(ConsumerGroupTest, DispatchErrorReachesEveryMember) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  {
    auto store = Store::Open(path, testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(
          (*store)
              ->Append("s-" + std::to_string(i % 2), ExpectedVersion::Any(),
                       {Event("E", "{\"n\":" + std::to_string(i) + "}")})
              .ok());
    }
    ASSERT_TRUE((*store)->Close().ok());
  }
  // Flip a byte in the data of the event at position 5.
  const std::string segment = path + "/000000000000.seg";
  std::string bytes;
  {
    std::ifstream in(segment, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = bytes.find("{\"n\":5}");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find("{\"n\":5}", at + 1), std::string::npos);
  {
    std::fstream out(segment, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(at + 5));
    out.put('6');
  }

  auto store = Store::Open(path, testing::SmallOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::unique_ptr<GroupMember>> members;
  for (int i = 0; i < 2; ++i) {
    auto member = (*store)->JoinConsumerGroup("g", ConsumerGroupOptions{});
    ASSERT_TRUE(member.ok());
    members.push_back(std::move(member.value()));
  }
  std::vector<uint64_t> delivered;
  for (auto& member : members) {
    for (;;) {
      // The timeout only guards against a hang: the error comes at once.
      auto got = member->Receive(16, std::chrono::seconds(30));
      if (!got.ok()) {
        EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
        break;
      }
      ASSERT_FALSE(got->empty()) << "an empty receive hides the error";
      for (const RecordedEvent& e : *got) {
        delivered.push_back(e.position.value());
        EXPECT_TRUE(member->Ack(e.position).ok());
      }
    }
  }
  std::sort(delivered.begin(), delivered.end());
  EXPECT_EQ(delivered, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  // The error stays until the group is rebuilt: every later call says it.
  EXPECT_TRUE(members[0]
                  ->Receive(1, std::chrono::milliseconds(0))
                  .status()
                  .IsCorruption());
}

}  // namespace
}  // namespace cairn
