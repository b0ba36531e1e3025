// Copyright (c) Cairn authors.
//
// Consumer groups' at-least-once machinery: nack (retry, park, skip,
// stop), message timeouts on an injected clock, parking after the retry
// limit, replaying parked events, the group's figures, and what survives
// a restart or a Close with nacks pending.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "cairn/cairn.h"
#include "tests/support/group_order_checker.h"
#include "tests/support/group_test_util.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::FakeClock;
using testing::Key;
using testing::OrderChecker;
using testing::ReceiveN;
constexpr auto kWait = testing::kGroupWait;

void AppendTo(Store& store, const std::string& stream, int n) {
  ASSERT_TRUE(
      store.Append(stream, ExpectedVersion::Any(), testing::Events(n)).ok());
}

// The events of the group's parked stream, read by a second group that
// follows only that stream (so the test waits on a delivery, not a clock).
class ParkedWatcher {
 public:
  ParkedWatcher(Store& store, const std::string& group) {
    ConsumerGroupOptions options;
    options.stream_prefix = ParkedStreamName(group);
    auto member = store.JoinConsumerGroup("watch-" + group, options);
    EXPECT_TRUE(member.ok());
    member_ = std::move(member.value());
  }
  std::vector<RecordedEvent> Next(size_t n) {
    std::vector<RecordedEvent> links;
    for (GroupDelivery& d : ReceiveN(*member_, n)) {
      EXPECT_TRUE(member_->Ack(d.event.position).ok());
      links.push_back(std::move(d.event));
    }
    return links;
  }

 private:
  std::unique_ptr<GroupMember> member_;
};

TEST(ConsumerGroupNackTest, RetryComesFirstAndHoldsBackItsStream) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "a", 3);
  AppendTo(**store, "b", 1);
  auto member = (*store)->JoinConsumerGroup("g", {});
  ASSERT_TRUE(member.ok());
  auto first = ReceiveN(**member, 2);  // one member: log order
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(Key(first[0].event), "a@0");
  EXPECT_EQ(Key(first[1].event), "a@1");
  // An in-order consumer that fails a@0 nacks the rest of its stream too.
  ASSERT_TRUE((*member)
                  ->Nack(first[0].event.position, NackAction::kRetry, "busy")
                  .ok());
  ASSERT_TRUE((*member)
                  ->Nack(first[1].event.position, NackAction::kRetry, "busy")
                  .ok());
  // a@0 again, first; a@1 and a@2 wait for it; b is not held back.
  auto second = ReceiveN(**member, 2);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(Key(second[0].event), "a@0");
  EXPECT_EQ(second[0].retry_count, 1u);
  EXPECT_EQ(Key(second[1].event), "b@0");
  EXPECT_EQ(second[1].retry_count, 0u);
  auto held = (*member)->ReceiveDeliveries(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->empty());
  ASSERT_TRUE((*member)->Ack(second[0].event.position).ok());
  auto rest = ReceiveN(**member, 1);  // a@1 is a retry: a@2 waits again
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(Key(rest[0].event), "a@1");
  EXPECT_EQ(rest[0].retry_count, 1u);
  ASSERT_TRUE((*member)->Ack(rest[0].event.position).ok());
  rest = ReceiveN(**member, 1);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(Key(rest[0].event), "a@2");
  auto info = (*store)->GetConsumerGroupInfo("g");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->live);
  EXPECT_EQ(info->retries, 2u);
  EXPECT_EQ(info->in_flight, 2u);  // b@0 and a@2
  ASSERT_EQ(info->members.size(), 1u);
  EXPECT_EQ(info->members[0].in_flight, 2u);
  EXPECT_EQ(info->members[0].delivered, 6u);
}

TEST(ConsumerGroupNackTest, TimeoutRetriesThenParksAfterMaxRetries) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "x", 1);
  FakeClock clock;
  ConsumerGroupOptions options;
  options.message_timeout = std::chrono::seconds(10);
  options.max_retry_count = 2;
  options.clock = clock.Fn();
  ParkedWatcher watcher(**store, "g");
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  for (uint32_t attempt = 0; attempt <= 2; ++attempt) {
    auto got = ReceiveN(**member, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(Key(got[0].event), "x@0");
    EXPECT_EQ(got[0].retry_count, attempt);
    clock.Advance(std::chrono::seconds(11));  // never acked: it expires
  }
  auto links = watcher.Next(1);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].stream, "$persistentsubscription-$all::g-parked");
  EXPECT_EQ(links[0].type, "$>");
  EXPECT_EQ(links[0].data, "0@x");
  EXPECT_NE(links[0].metadata.find("Reached retry count of 2"),
            std::string::npos)
      << links[0].metadata;
  auto info = (*store)->GetConsumerGroupInfo("g");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->parked, 1u);
  EXPECT_EQ(info->retries, 2u);
  EXPECT_EQ(info->in_flight, 0u);
  // Acknowledging it now is too late: it was parked.
  EXPECT_TRUE((*member)->Ack(GlobalPosition(0)).IsInvalidArgument());
}

TEST(ConsumerGroupNackTest, ParkSkipAndStop) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "p", 1);
  AppendTo(**store, "q", 1);
  AppendTo(**store, "r", 1);
  FakeClock clock;
  ConsumerGroupOptions options;
  options.clock = clock.Fn();
  options.message_timeout = std::chrono::seconds(5);
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  auto got = ReceiveN(**member, 3);
  ASSERT_EQ(got.size(), 3u);
  // Park returns once the link is durable: it is readable at once.
  ASSERT_TRUE((*member)
                  ->Nack(got[0].event.position, NackAction::kPark, "bad data")
                  .ok());
  auto parked = (*store)->ReadStream(ParkedStreamName("g"), {});
  ASSERT_TRUE(parked.ok()) << parked.status().ToString();
  ASSERT_EQ(parked->events.size(), 1u);
  EXPECT_EQ(parked->events[0].data, "0@p");
  EXPECT_NE(parked->events[0].metadata.find(
                "Client explicitly NAK'ed message.\\nbad data"),
            std::string::npos)
      << parked->events[0].metadata;
  ASSERT_TRUE(
      (*member)->Nack(got[1].event.position, NackAction::kSkip, "").ok());
  // Skipped and parked events are handled: nacking again is refused.
  EXPECT_TRUE((*member)
                  ->Nack(got[1].event.position, NackAction::kSkip, "")
                  .IsInvalidArgument());
  // Stop leaves the event in flight, until the timeout retries it.
  ASSERT_TRUE(
      (*member)->Nack(got[2].event.position, NackAction::kStop, "").ok());
  auto info = (*store)->GetConsumerGroupInfo("g");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->in_flight, 1u);
  EXPECT_EQ(info->parked, 1u);
  clock.Advance(std::chrono::seconds(6));
  auto again = ReceiveN(**member, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(Key(again[0].event), "r@0");
  EXPECT_EQ(again[0].retry_count, 1u);
}

TEST(ConsumerGroupNackTest, ReplayParkedRedeliversAndTruncates) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  {
    auto store = Store::Open(path, testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    AppendTo(**store, "a", 1);
    AppendTo(**store, "b", 1);
    AppendTo(**store, "c", 1);
    EXPECT_TRUE((*store)->ReplayParkedEvents("g", std::nullopt).IsNotFound());
    auto member = (*store)->JoinConsumerGroup("g", {});
    ASSERT_TRUE(member.ok());
    for (const GroupDelivery& d : ReceiveN(**member, 3)) {
      ASSERT_TRUE(
          (*member)->Nack(d.event.position, NackAction::kPark, "later").ok());
    }
    // At most one, then the rest.
    ASSERT_TRUE((*store)->ReplayParkedEvents("g", 1).ok());
    auto one = ReceiveN(**member, 1);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(Key(one[0].event), "a@0");
    auto info = (*store)->GetConsumerGroupInfo("g");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->parked, 2u);
    EXPECT_EQ(info->replaying, 1u);
    ASSERT_TRUE((*store)->ReplayParkedEvents("g", std::nullopt).ok());
    auto two = ReceiveN(**member, 2);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(Key(two[0].event), "b@0");
    EXPECT_EQ(Key(two[1].event), "c@0");
    // A second replay finds nothing new to hand out.
    ASSERT_TRUE((*store)->ReplayParkedEvents("g", std::nullopt).ok());
    auto none = (*member)->ReceiveDeliveries(10, std::chrono::milliseconds(0));
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    ASSERT_TRUE((*member)->Ack(one[0].event.position).ok());
    ASSERT_TRUE((*member)->Ack(two[0].event.position).ok());
    // c@0 is not handled when the store closes: its link stays.
  }
  auto store = Store::Open(path, testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  auto info = (*store)->GetConsumerGroupInfo("g");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->live);
  EXPECT_EQ(info->parked, 1u);
  auto meta = (*store)->GetStreamMetadata(ParkedStreamName("g"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->metadata.truncate_before, std::optional<uint64_t>(2));
  auto member = (*store)->JoinConsumerGroup("g", {});
  ASSERT_TRUE(member.ok());
  ASSERT_TRUE((*store)->ReplayParkedEvents("g", std::nullopt).ok());
  auto back = ReceiveN(**member, 1);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(Key(back[0].event), "c@0");
}

TEST(ConsumerGroupNackTest, RestartKeepsParkedEventsAndCheckpoint) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  ConsumerGroupOptions options;
  options.checkpoint_every = std::chrono::milliseconds(0);
  {
    auto store = Store::Open(path, testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    AppendTo(**store, "a", 4);
    auto member = (*store)->JoinConsumerGroup("g", options);
    ASSERT_TRUE(member.ok());
    auto got = ReceiveN(**member, 4);
    ASSERT_EQ(got.size(), 4u);
    ASSERT_TRUE(
        (*member)->Nack(got[0].event.position, NackAction::kPark, "").ok());
    ASSERT_TRUE(
        (*member)->Nack(got[1].event.position, NackAction::kSkip, "").ok());
    ASSERT_TRUE((*member)->Ack(got[2].event.position).ok());
    // got[3] stays unacknowledged: the checkpoint stops before it.
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto store = Store::Open(path, testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  auto info = (*store)->GetConsumerGroupInfo("g");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->parked, 1u);
  ASSERT_TRUE(info->last_checkpoint.has_value());
  EXPECT_EQ(*info->last_checkpoint, GlobalPosition(3));
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  auto resumed = ReceiveN(**member, 1);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(Key(resumed[0].event), "a@3");
  ASSERT_TRUE((*store)->ReplayParkedEvents("g", std::nullopt).ok());
  auto replayed = ReceiveN(**member, 1);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(Key(replayed[0].event), "a@0");
}

// A group of a category stream parks the link it received, as KurrentDB
// does ("<link revision>@$ce-order"), and a replay finds the event at that
// link revision: an unrelated event in flight at the same number (the
// event's own revision) neither hides it nor gets it delivered twice.
TEST(ConsumerGroupNackTest, ACategoryGroupParksAndReplaysTheLink) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "order-a", 1);  // $ce-order 0
  AppendTo(**store, "order-b", 1);  // $ce-order 1
  AppendTo(**store, "order-a", 1);  // $ce-order 2: order-a@1
  ConsumerGroupOptions options;
  options.stream = "$ce-order";
  auto member = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(member.ok());
  auto got = ReceiveN(**member, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(Key(got[2].event), "order-a@1");
  ASSERT_TRUE((*member)->Ack(got[0].event.position).ok());
  // order-b@0, link revision 1, stays in flight; order-a@1 is parked.
  ASSERT_TRUE(
      (*member)->Nack(got[2].event.position, NackAction::kPark, "").ok());
  auto parked = (*store)->ReadStream(ParkedStreamName("g", "$ce-order"), {});
  ASSERT_TRUE(parked.ok()) << parked.status().ToString();
  ASSERT_EQ(parked->events.size(), 1u);
  EXPECT_EQ(parked->events[0].data, "2@$ce-order");

  ASSERT_TRUE(
      (*store)->ReplayParkedEvents("g", "$ce-order", std::nullopt).ok());
  auto replayed = ReceiveN(**member, 1);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(Key(replayed[0].event), "order-a@1");
  ASSERT_TRUE(replayed[0].event.link_revision.has_value());
  EXPECT_EQ(*replayed[0].event.link_revision, StreamRevision(2));
  ASSERT_TRUE((*member)->Ack(replayed[0].event.position).ok());
  ASSERT_TRUE((*member)->Ack(got[1].event.position).ok());
}

// An event replayed from the parked stream and still outstanding is not
// handed out a second time when the group reads it again from the log
// (after a restart, its checkpoint is before it).
TEST(ConsumerGroupNackTest, AReplayedEventIsNotDeliveredAgainFromTheLog) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  {
    auto store = Store::Open(path, testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    AppendTo(**store, "x", 1);  // position 0
    AppendTo(**store, "e", 1);  // position 1
    auto member = (*store)->JoinConsumerGroup("g", {});
    ASSERT_TRUE(member.ok());
    auto got = ReceiveN(**member, 2);
    ASSERT_EQ(got.size(), 2u);
    ASSERT_EQ(Key(got[1].event), "e@0");
    ASSERT_TRUE(
        (*member)->Nack(got[1].event.position, NackAction::kPark, "").ok());
    // x@0 stays unacknowledged: the checkpoint stays before e@0.
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto store = Store::Open(path, testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  AppendTo(**store, "e", 1);  // position 2: e@1
  ConsumerGroupOptions options;
  options.max_in_flight = 1;
  auto first = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(first.ok());
  // x@0 from the log (one in flight fills the group), then e@0 replayed.
  auto x = ReceiveN(**first, 1);
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(Key(x[0].event), "x@0");
  ASSERT_TRUE((*store)->ReplayParkedEvents("g", std::nullopt).ok());
  auto replayed = ReceiveN(**first, 1);
  ASSERT_EQ(replayed.size(), 1u);
  const GroupDelivery& e = replayed[0];
  EXPECT_EQ(Key(e.event), "e@0");
  ASSERT_TRUE((*first)->Ack(x[0].event.position).ok());
  // A second member makes room: the group reads on from e@0's position.
  // Stream e is the first member's while e@0 is outstanding, so what it
  // receives next is e@1, not e@0 again.
  auto second = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(second.ok());
  auto next = ReceiveN(**first, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(Key(next[0].event), "e@1");
  EXPECT_TRUE((*first)->Ack(e.event.position).ok());
  EXPECT_TRUE((*first)->Ack(next[0].event.position).ok());
}

// An in-order consumer that fails some events (nack retry), and with them
// the rest of their stream in the batch, until `stop`.
void ConsumeWithRetries(GroupMember& member, OrderChecker& acks,
                        std::atomic<bool>& stop, uint32_t seed) {
  std::mt19937 rng(seed);
  while (!stop) {
    auto got = member.ReceiveDeliveries(8, std::chrono::milliseconds(20));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::set<std::string> failed;
    for (const GroupDelivery& d : *got) {
      const RecordedEvent& e = d.event;
      if (failed.contains(e.stream) || rng() % 5 == 0) {
        failed.insert(e.stream);
        ASSERT_TRUE(member.Nack(e.position, NackAction::kRetry, "").ok());
        continue;
      }
      acks.Acked(e);
      ASSERT_TRUE(member.Ack(e.position).ok());
    }
  }
}

// Members that retry events while others join and leave keep each
// stream's order, and lose nothing.
TEST(ConsumerGroupNackTest, RetriesWithRebalanceKeepStreamOrder) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  std::mt19937 rng(11);
  constexpr uint64_t kEvents = 400;
  for (uint64_t i = 0; i < kEvents; ++i) {
    AppendTo(**store, "s-" + std::to_string(rng() % 12), 1);
  }
  ConsumerGroupOptions options;
  options.max_in_flight = 16;
  options.max_retry_count = 1000;
  OrderChecker acks;
  auto a = (*store)->JoinConsumerGroup("g", options);
  ASSERT_TRUE(a.ok());
  std::atomic<bool> stop_a{false};
  std::thread ta([&] { ConsumeWithRetries(**a, acks, stop_a, 1); });
  for (uint32_t round = 0; round < 3; ++round) {
    auto b = (*store)->JoinConsumerGroup("g", options);
    ASSERT_TRUE(b.ok());
    std::atomic<bool> stop_b{false};
    std::thread tb([&] { ConsumeWithRetries(**b, acks, stop_b, 100 + round); });
    EXPECT_TRUE(acks.WaitFor(std::min(kEvents, acks.acked() + 60), kWait));
    // b leaves with events queued: they move to a, in order.
    stop_b = true;
    tb.join();
    (*b)->Leave();
  }
  EXPECT_TRUE(acks.WaitFor(kEvents, kWait));
  stop_a = true;
  ta.join();
  EXPECT_EQ(acks.acked(), kEvents);
}

// Close with nacks racing it: every call returns Ok or Closed, the member
// outlives the store, and nothing deadlocks (run under TSan too).
TEST(ConsumerGroupNackTest, CloseWithNacksPending) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 50; ++i) AppendTo(**store, "s-" + std::to_string(i), 1);
  auto member = (*store)->JoinConsumerGroup("g", {});
  ASSERT_TRUE(member.ok());
  std::promise<void> busy;
  std::thread worker([&] {
    int nacked = 0;
    for (uint32_t i = 0;; ++i) {
      auto got = (*member)->ReceiveDeliveries(4, std::chrono::milliseconds(20));
      if (!got.ok()) {
        EXPECT_TRUE(got.status().IsClosed()) << got.status().ToString();
        return;
      }
      for (const GroupDelivery& d : *got) {
        const NackAction action =
            i % 2 == 0 ? NackAction::kPark : NackAction::kRetry;
        Status s = (*member)->Nack(d.event.position, action, "closing");
        EXPECT_TRUE(s.ok() || s.IsClosed()) << s.ToString();
        if (++nacked == 10) busy.set_value();
      }
    }
  });
  ASSERT_EQ(busy.get_future().wait_for(kWait), std::future_status::ready);
  ASSERT_TRUE((*store)->Close().ok());
  worker.join();
  store->reset();  // the store goes first, with retries still queued
  EXPECT_TRUE(
      (*member)->Nack(GlobalPosition(0), NackAction::kRetry, "").IsClosed());
  member->reset();
}

}  // namespace
}  // namespace cairn
