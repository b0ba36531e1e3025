// Copyright (c) Cairn authors.
//
// Consumer group strategies (ConsumerStrategy): which member each event
// goes to with DispatchToSingle, RoundRobin, Pinned and
// PinnedByCorrelation, and where a retried event goes. Members join before
// the events are appended, so every event is assigned with both present.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "cairn/cairn.h"
#include "tests/support/group_test_util.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Key;
using testing::ReceiveN;

struct TwoMembers {
  std::unique_ptr<GroupMember> a;
  std::unique_ptr<GroupMember> b;
};

TwoMembers Join(Store& store, ConsumerStrategy strategy,
                uint32_t max_in_flight) {
  ConsumerGroupOptions options;
  options.strategy = strategy;
  options.max_in_flight = max_in_flight;
  TwoMembers members;
  auto a = store.JoinConsumerGroup("g", options);
  auto b = store.JoinConsumerGroup("g", options);
  EXPECT_TRUE(a.ok() && b.ok());
  if (a.ok()) members.a = std::move(a.value());
  if (b.ok()) members.b = std::move(b.value());
  return members;
}

class ConsumerGroupStrategyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(opened.ok());
    store_ = std::move(opened.value());
  }
  // Two members of group "g" with `strategy`.
  TwoMembers JoinTwo(ConsumerStrategy strategy, uint32_t max_in_flight) {
    TwoMembers m = Join(*store_, strategy, max_in_flight);
    EXPECT_TRUE(m.a && m.b);
    return m;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

std::vector<std::string> Keys(const std::vector<GroupDelivery>& got) {
  std::vector<std::string> keys;
  for (const GroupDelivery& d : got) keys.push_back(Key(d.event));
  return keys;
}

TEST_F(ConsumerGroupStrategyTest, DispatchToSingleFillsTheOldestMemberFirst) {
  TwoMembers m = JoinTwo(ConsumerStrategy::kDispatchToSingle, 5);
  ASSERT_TRUE(m.a && m.b);
  ASSERT_TRUE(
      store_->Append("s", ExpectedVersion::Any(), testing::Events(8)).ok());
  EXPECT_EQ(Keys(ReceiveN(*m.a, 5)),
            (std::vector<std::string>{"s@0", "s@1", "s@2", "s@3", "s@4"}));
  EXPECT_EQ(Keys(ReceiveN(*m.b, 3)),
            (std::vector<std::string>{"s@5", "s@6", "s@7"}));
}

TEST_F(ConsumerGroupStrategyTest, RoundRobinAlternatesAndRetriesComeFirst) {
  TwoMembers m = JoinTwo(ConsumerStrategy::kRoundRobin, 10);
  ASSERT_TRUE(m.a && m.b);
  ASSERT_TRUE(
      store_->Append("s", ExpectedVersion::Any(), testing::Events(6)).ok());
  auto at_a = ReceiveN(*m.a, 3);
  EXPECT_EQ(Keys(at_a), (std::vector<std::string>{"s@0", "s@2", "s@4"}));
  EXPECT_EQ(Keys(ReceiveN(*m.b, 3)),
            (std::vector<std::string>{"s@1", "s@3", "s@5"}));
  // No order is kept: a retry goes first to the next member in turn, while
  // nothing holds back the stream's later events.
  ASSERT_EQ(at_a.size(), 3u);
  ASSERT_TRUE(
      m.a->Nack(at_a[1].event.position, NackAction::kRetry, "again").ok());
  ASSERT_TRUE(
      store_->Append("s", ExpectedVersion::Any(), testing::Events(1)).ok());
  auto next_a = ReceiveN(*m.a, 1);
  auto next_b = ReceiveN(*m.b, 1);
  ASSERT_EQ(next_a.size() + next_b.size(), 2u);
  std::map<std::string, uint32_t> retries;
  for (const GroupDelivery& d : next_a) retries[Key(d.event)] = d.retry_count;
  for (const GroupDelivery& d : next_b) retries[Key(d.event)] = d.retry_count;
  EXPECT_EQ(retries, (std::map<std::string, uint32_t>{{"s@2", 1}, {"s@6", 0}}));
}

// Which member received each key.
std::map<std::string, int> Owners(
    GroupMember& a, GroupMember& b, size_t total,
    const std::function<std::string(const RecordedEvent&)>& key_of) {
  std::map<std::string, std::set<int>> seen;
  size_t got = 0;
  while (got < total) {
    for (int i = 0; i < 2; ++i) {
      GroupMember& m = i == 0 ? a : b;
      auto batch = m.ReceiveDeliveries(total, std::chrono::milliseconds(10));
      EXPECT_TRUE(batch.ok());
      if (!batch.ok()) return {};
      for (const GroupDelivery& d : *batch) {
        seen[key_of(d.event)].insert(i);
        EXPECT_TRUE(m.Ack(d.event.position).ok());
        ++got;
      }
    }
  }
  std::map<std::string, int> owners;
  for (const auto& [key, members] : seen) {
    EXPECT_EQ(members.size(), 1u) << key << " went to both members";
    owners[key] = *members.begin();
  }
  return owners;
}

TEST_F(ConsumerGroupStrategyTest, PinnedKeepsEachStreamAtOneMember) {
  TwoMembers m = JoinTwo(ConsumerStrategy::kPinned, 1000);
  ASSERT_TRUE(m.a && m.b);
  for (int round = 0; round < 4; ++round) {
    for (int s = 0; s < 16; ++s) {
      std::string stream = "s-";
      stream += std::to_string(s);
      ASSERT_TRUE(
          store_->Append(stream, ExpectedVersion::Any(), testing::Events(1))
              .ok());
    }
  }
  auto owners =
      Owners(*m.a, *m.b, 64, [](const RecordedEvent& e) { return e.stream; });
  ASSERT_EQ(owners.size(), 16u);
  std::set<int> used;
  for (const auto& [stream, member] : owners) used.insert(member);
  EXPECT_EQ(used.size(), 2u);  // the hash spreads the streams
}

TEST_F(ConsumerGroupStrategyTest, PinnedByCorrelationFollowsTheCorrelationId) {
  TwoMembers m = JoinTwo(ConsumerStrategy::kPinnedByCorrelation, 1000);
  ASSERT_TRUE(m.a && m.b);
  // Events of 16 streams, correlated four ways; the uncorrelated ones
  // (not JSON, or without the key) are pinned by their stream.
  for (int s = 0; s < 16; ++s) {
    std::string stream = "s-";
    stream += std::to_string(s);
    EventData e = testing::Event("E");
    e.metadata = "{\"$correlationId\":\"c";
    e.metadata += std::to_string(s % 4);
    e.metadata += "\"}";
    EventData plain = testing::Event("E");
    plain.metadata = s % 2 == 0 ? "not json" : "{\"other\":1}";
    ASSERT_TRUE(store_->Append(stream, ExpectedVersion::Any(), {e}).ok());
    ASSERT_TRUE(store_->Append(stream, ExpectedVersion::Any(), {plain}).ok());
  }
  auto owners = Owners(*m.a, *m.b, 32, [](const RecordedEvent& e) {
    if (e.metadata.find("$correlationId") == std::string::npos) {
      return e.stream;
    }
    return e.metadata;
  });
  // Four correlation ids plus sixteen streams, each at one member.
  EXPECT_EQ(owners.size(), 20u);
}

}  // namespace
}  // namespace cairn
