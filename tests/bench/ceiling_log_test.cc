// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

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

}  // namespace
}  // namespace cairn::bench::serve
