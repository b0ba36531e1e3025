// Copyright (c) Cairn authors.
//
// The stored `$PersistentConfig` JSON: KurrentDB's field names, a round
// trip of every setting, and events that are not a config.
#include "server/persistent_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cairn::server {
namespace {

TEST(PersistentConfigTest, RoundTripsEverySetting) {
  PersistentDefinition stream;
  stream.stream = "orders";
  stream.group = "g";
  stream.start = std::nullopt;
  stream.end_at = 17;
  stream.resolve_links = true;
  stream.message_timeout_ms = 1234;
  stream.max_retry_count = 3;
  stream.max_subscriber_count = 7;
  stream.strategy = "OrderedByStream";
  PersistentDefinition all;
  all.stream = "$all";
  all.group = "h";
  all.start = 99;
  all.stream_prefix = "orders-";
  const std::string text = PersistentConfigToJson({stream, all}, "admin", 0);
  auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["UpdatedBy"], "admin");
  EXPECT_EQ(json["Updated"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(json["Entries"][0]["StartFrom"], -1);
  EXPECT_EQ(json["Entries"][0]["NamedConsumerStrategy"], "OrderedByStream");
  EXPECT_EQ(json["Entries"][1]["StartPosition"], "C:99/P:99");
  EXPECT_EQ(json["Entries"][1]["Filter"]["Context"], "StreamId");
  auto back = PersistentConfigFromJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  const PersistentDefinition& s = (*back)[0];
  EXPECT_EQ(s.Key(), "orders::g");
  EXPECT_EQ(s.start, std::nullopt);
  EXPECT_EQ(s.end_at, 17u);
  EXPECT_TRUE(s.resolve_links);
  EXPECT_EQ(s.message_timeout_ms, 1234);
  EXPECT_EQ(s.max_retry_count, 3);
  EXPECT_EQ(s.max_subscriber_count, 7);
  EXPECT_EQ(s.strategy, "OrderedByStream");
  const PersistentDefinition& a = (*back)[1];
  EXPECT_EQ(a.Key(), "$all::h");
  EXPECT_EQ(a.start, 99u);
  EXPECT_EQ(a.stream_prefix, "orders-");
}

TEST(PersistentConfigTest, RefusesWhatIsNotAConfig) {
  EXPECT_TRUE(PersistentConfigFromJson("nope").status().IsInvalidArgument());
  EXPECT_TRUE(PersistentConfigFromJson(R"({"Entries":3})")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(PersistentConfigFromJson(R"({"Entries":[{"Stream":"s"}]})")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      PersistentConfigFromJson(
          R"({"Entries":[{"Stream":"s","Group":"g","MaxRetryCount":-1}]})")
          .status()
          .IsInvalidArgument());
  auto empty = PersistentConfigFromJson(R"({"Version":"2","Entries":null})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace cairn::server
