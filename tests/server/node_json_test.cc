// Copyright (c) Cairn authors.
#include "server/node_json.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tools/jsonl/json.h"

namespace cairn::server {
namespace {

namespace json = cairn::tools::json;

// A parsed value points into its text (json::Value::raw), so the text is
// kept with it.
struct ParsedJson {
  std::string text;
  json::Value value;
};

std::unique_ptr<ParsedJson> Parsed(std::string text) {
  auto parsed = std::make_unique<ParsedJson>();
  parsed->text = std::move(text);
  json::ParseError error;
  EXPECT_TRUE(json::Parse(parsed->text, &parsed->value, &error))
      << error.ToString() << parsed->text;
  return parsed;
}

TEST(NodeJsonTest, StatsHoldTheStoreActivityAndServerFigures) {
  StoreStats store;
  store.events = 7;
  store.durable_position_end = GlobalPosition(7);
  store.index.background_error = "disk \"full\"\n";
  store.activity.appends = 3;
  store.activity.sync_micros.upper_bounds = {1, 2};
  store.activity.sync_micros.cumulative_counts = {0, 4};
  store.activity.sync_micros.count = 5;
  ServerFigures server;
  server.calls.push_back({"Streams.Append", 0, 9});
  server.open_connections = 2;
  ProcessFigures process;
  process.cpu_seconds = 1.25;
  process.resident_bytes = 4096;
  process.open_fds = 17;
  process.start_time_seconds = 1700000000.5;
  server.process = process;
  const auto parsed = Parsed(StatsJson(store, server));
  const json::Value& stats = parsed->value;
  EXPECT_EQ(stats.Find("store")->Find("events")->AsUint64(), 7u);
  EXPECT_EQ(stats.Find("store")
                ->Find("index")
                ->Find("backgroundError")
                ->string_value(),
            "disk \"full\"\n");
  const json::Value* activity = stats.Find("activity");
  EXPECT_EQ(activity->Find("appends")->AsUint64(), 3u);
  EXPECT_EQ(activity->Find("syncMicros")->Find("count")->AsUint64(), 5u);
  EXPECT_EQ(
      activity->Find("syncMicros")->Find("cumulativeCounts")->items().size(),
      2u);
  const json::Value* calls = stats.Find("server")->Find("calls");
  ASSERT_EQ(calls->items().size(), 1u);
  EXPECT_EQ(calls->items()[0].Find("method")->string_value(), "Streams.Append");
  EXPECT_EQ(calls->items()[0].Find("code")->string_value(), "OK");
  EXPECT_EQ(calls->items()[0].Find("calls")->AsUint64(), 9u);
  EXPECT_EQ(stats.Find("server")->Find("openConnections")->AsUint64(), 2u);
  const json::Value* p = stats.Find("server")->Find("process");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->Find("cpuSeconds")->raw(), "1.25");
  EXPECT_EQ(p->Find("residentMemoryBytes")->AsUint64(), 4096u);
  EXPECT_EQ(p->Find("openFds")->AsUint64(), 17u);
  EXPECT_EQ(p->Find("startTimeSeconds")->raw(), "1700000000.5");
}

TEST(NodeJsonTest, GossipDescribesOneLeaderInKurrentDbsShape) {
  GossipNode node;
  node.instance_id = EventId::Generate();
  node.host = "127.0.0.1";
  node.port = 2113;
  node.now_micros = 1700000000123456;  // 2023-11-14T22:13:20.123456Z
  node.store.events = 5;
  node.store.durable_position_end = GlobalPosition(5);
  const auto parsed = Parsed(GossipJson(node));
  const json::Value& gossip = parsed->value;
  EXPECT_EQ(gossip.Find("serverIp")->string_value(), "127.0.0.1");
  EXPECT_EQ(gossip.Find("serverPort")->AsUint64(), 2113u);
  ASSERT_EQ(gossip.Find("members")->items().size(), 1u);
  const json::Value& member = gossip.Find("members")->items()[0];
  EXPECT_EQ(member.Find("instanceId")->string_value(),
            node.instance_id.ToString());
  EXPECT_EQ(member.Find("timeStamp")->string_value(),
            "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(member.Find("state")->string_value(), "Leader");
  EXPECT_TRUE(member.Find("isAlive")->bool_value());
  EXPECT_EQ(member.Find("httpEndPointIp")->string_value(), "127.0.0.1");
  EXPECT_EQ(member.Find("httpEndPointPort")->AsUint64(), 2113u);
  EXPECT_EQ(member.Find("lastCommitPosition")->AsUint64(), 5u);
  EXPECT_FALSE(member.Find("isReadOnlyReplica")->bool_value());
  EXPECT_EQ(member.Find("esVersion")->string_value(), "24.10.0");
}

}  // namespace
}  // namespace cairn::server
