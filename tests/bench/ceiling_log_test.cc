// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cairn::bench::serve {
namespace {

pb::AppendReq::ProposedMessage Proposed(const std::string& id,
                                        const std::string& data) {
  pb::AppendReq::ProposedMessage message;
  message.mutable_id()->set_string(id);
  (*message.mutable_metadata())["type"] = "OrderPlaced";
  message.set_custom_metadata("{}");
  message.set_data(data);
  return message;
}

TEST(CeilingLogTest, CountsEachStreamAndTheWholeLog) {
  CeilingLog log;
  std::shared_ptr<const CeilingEvent> event;
  EXPECT_EQ(log.StreamEvents("a", &event), 0u);
  EXPECT_EQ(log.AllEvents(&event), 0u);
  EXPECT_EQ(event, nullptr);

  CeilingAppended at = log.Append("a", 3, Proposed("id-a", "first"));
  EXPECT_EQ(at.revision, 2u);
  EXPECT_EQ(at.position, 3u);
  at = log.Append("b", 1, Proposed("id-b", "other"));
  EXPECT_EQ(at.revision, 0u);
  EXPECT_EQ(at.position, 4u);
  at = log.Append("a", 2, Proposed("id-later", "later"));
  EXPECT_EQ(at.revision, 4u);
  EXPECT_EQ(at.position, 6u);

  // A stream's template is its first event, whatever came after.
  ASSERT_EQ(log.StreamEvents("a", &event), 5u);
  EXPECT_EQ(event->id().string(), "id-a");
  EXPECT_EQ(event->stream_identifier().stream_name(), "a");
  EXPECT_EQ(event->data(), "first");
  EXPECT_EQ(event->custom_metadata(), "{}");
  EXPECT_EQ(event->metadata().at("type"), "OrderPlaced");
  EXPECT_EQ(event->metadata().count("created"), 1u);
  // $all's is the newest stream's.
  ASSERT_EQ(log.AllEvents(&event), 6u);
  EXPECT_EQ(event->id().string(), "id-b");
}

TEST(CeilingLogTest, AGroupHandsOutEachRevisionOnce) {
  CeilingLog log;
  EXPECT_TRUE(log.CreateGroup("s", "g"));
  EXPECT_FALSE(log.CreateGroup("s", "g"));
  EXPECT_TRUE(log.CreateGroup("t", "g"));
  EXPECT_EQ(log.FindGroup("s", "other"), nullptr);
  std::shared_ptr<CeilingGroup> group = log.FindGroup("s", "g");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->stream(), "s");
  EXPECT_EQ(log.FindGroup("s", "g"), group);
  EXPECT_EQ(group->Take(2), std::optional<uint64_t>(0));
  EXPECT_EQ(group->Take(2), std::optional<uint64_t>(1));
  EXPECT_EQ(group->Take(2), std::nullopt);
  // More events came: the group goes on where it was.
  EXPECT_EQ(group->Take(3), std::optional<uint64_t>(2));
}

// What a subscriber was handed.
class Recorder final : public CeilingSubscriber {
 public:
  void Deliver(const CeilingEvent& event, uint64_t revision,
               uint64_t position) override {
    seen.push_back(event.stream_identifier().stream_name() + "@" +
                   std::to_string(revision) + "/" + std::to_string(position) +
                   ":" + event.data());
    EXPECT_EQ(event.metadata().count("created"), 1u);
    std::set<std::string>& keys = metadata.emplace_back();
    for (const auto& [key, value] : event.metadata()) keys.insert(key);
  }
  std::vector<std::string> seen;
  std::vector<std::set<std::string>> metadata;  // each event's keys
};

TEST(CeilingLogTest, SubscribersGetEachAppendedEventInOrder) {
  CeilingLog log;
  EXPECT_FALSE(log.HasSubscribers());
  log.Append("a", 2, Proposed("id-0", "before"));
  Recorder first;
  Recorder second;
  log.AddSubscriber(&first);
  EXPECT_TRUE(log.HasSubscribers());
  std::vector<pb::AppendReq::ProposedMessage> events = {
      Proposed("id-1", "one"), Proposed("id-2", "two")};
  CeilingAppended at = log.AppendAndDeliver("a", events);
  EXPECT_EQ(at.revision, 3u);
  EXPECT_EQ(at.position, 4u);
  log.AddSubscriber(&second);
  at = log.AppendAndDeliver("b", std::vector{Proposed("id-3", "three")});
  EXPECT_EQ(at.revision, 0u);
  EXPECT_EQ(at.position, 5u);
  log.RemoveSubscriber(&first);
  log.AppendAndDeliver("a", std::vector{Proposed("id-4", "four")});
  log.RemoveSubscriber(&second);
  EXPECT_FALSE(log.HasSubscribers());
  log.AppendAndDeliver("a", std::vector{Proposed("id-5", "five")});

  EXPECT_EQ(first.seen, (std::vector<std::string>{"a@2/3:one", "a@3/4:two",
                                                  "b@0/5:three"}));
  EXPECT_EQ(second.seen,
            (std::vector<std::string>{"b@0/5:three", "a@4/6:four"}));
  // Delivering counts as Append does, and sets the template the same way.
  std::shared_ptr<const CeilingEvent> event;
  EXPECT_EQ(log.StreamEvents("a", &event), 6u);
  EXPECT_EQ(event->data(), "before");
  EXPECT_EQ(log.StreamEvents("b", &event), 1u);
  EXPECT_EQ(event->id().string(), "id-3");
  EXPECT_EQ(log.AllEvents(&event), 7u);
}

// Each delivered event carries its own metadata keys, none of the event
// delivered before it.
TEST(CeilingLogTest, DeliveredEventsCarryOnlyTheirOwnMetadata) {
  CeilingLog log;
  Recorder recorder;
  log.AddSubscriber(&recorder);
  pb::AppendReq::ProposedMessage other = Proposed("id-2", "two");
  other.mutable_metadata()->clear();
  (*other.mutable_metadata())["content-type"] = "application/json";
  std::vector<pb::AppendReq::ProposedMessage> events = {Proposed("id-1", "one"),
                                                        other};
  log.AppendAndDeliver("a", events);
  log.RemoveSubscriber(&recorder);
  ASSERT_EQ(recorder.metadata.size(), 2u);
  EXPECT_EQ(recorder.metadata[0], (std::set<std::string>{"created", "type"}));
  EXPECT_EQ(recorder.metadata[1],
            (std::set<std::string>{"content-type", "created"}));
}

}  // namespace
}  // namespace cairn::bench::serve
