// Copyright (c) Cairn authors.
#include "server/http_endpoint.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "cairn/version.h"
#include "server/password_hash.h"
#include "server/prometheus_text.h"
#include "server/user_store.h"
#include "tests/server/prometheus_exposition_checker.h"
#include "tests/server/server_test_util.h"
#include "tools/jsonl/json.h"

namespace cairn::server {
namespace {

TEST(HttpEndpointTest, HealthFollowsReadinessAndInfoNamesTheVersions) {
  HttpEndpoint endpoint;
  ASSERT_TRUE(endpoint.Start({"127.0.0.1", 0}).ok());
  httplib::Client client("127.0.0.1", endpoint.port());
  auto opening = client.Get("/health/live");
  ASSERT_TRUE(opening);
  EXPECT_EQ(opening->status, 503);
  endpoint.SetReady(true);
  auto ready = client.Get("/health/live");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 204);
  auto info = client.Get("/info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  EXPECT_NE(info->body.find(std::string("\"dbVersion\":\"") + Version()),
            std::string::npos);
  EXPECT_NE(info->body.find("\"esVersion\":\"24.10.0\""), std::string::npos);
  auto ping = client.Get("/ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  endpoint.Stop();
}

// A request body is refused (413) past 4 KiB rather than read into
// memory: no page takes one, and nobody needs to log in to send one.
TEST(HttpEndpointTest, ALargeRequestBodyIsRefused) {
  HttpEndpoint endpoint;
  ASSERT_TRUE(endpoint.Start({"127.0.0.1", 0}).ok());
  httplib::Client client("127.0.0.1", endpoint.port());
  auto large = client.Post("/x", std::string(1 << 20, 'x'), "text/plain");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  auto small = client.Post("/x", std::string(100, 'x'), "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 404);
  auto ping = client.Get("/ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
  endpoint.Stop();
}

TEST(HttpEndpointTest, ABusyPortIsAnError) {
  HttpEndpoint first;
  ASSERT_TRUE(first.Start({"127.0.0.1", 0}).ok());
  HttpEndpoint second;
  auto port = static_cast<uint16_t>(first.port());
  EXPECT_TRUE(second.Start({"127.0.0.1", port}).IsIOError());
}

using HttpEndpointPagesTest = testing::ServerTest;

TEST_F(HttpEndpointPagesTest, MetricsStatsAndGossipServeTheAttachedNode) {
  HttpEndpoint endpoint;
  ASSERT_TRUE(endpoint.Start({"127.0.0.1", 0}).ok());
  httplib::Client client("127.0.0.1", endpoint.port());
  for (const char* page : {"/metrics", "/stats", "/gossip"}) {
    auto detached = client.Get(page);
    ASSERT_TRUE(detached);
    EXPECT_EQ(detached->status, 503) << page;
  }
  endpoint.Attach(store_.get(), server_.get());
  Seed("s", 3);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), kPrometheusContentType);
  testing::ExpositionChecker checker(metrics->body);
  for (const std::string& error : checker.errors()) ADD_FAILURE() << error;
  EXPECT_GE(checker.Value("cairn_written_events_total"), 3);

  namespace json = cairn::tools::json;
  auto stats = client.Get("/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  json::Value stats_json;
  ASSERT_TRUE(json::Parse(stats->body, &stats_json)) << stats->body;
  EXPECT_GE(stats_json.Find("store")->Find("events")->AsUint64(), 3u);

  auto gossip = client.Get("/gossip");
  ASSERT_TRUE(gossip);
  EXPECT_EQ(gossip->status, 200);
  json::Value gossip_json;
  ASSERT_TRUE(json::Parse(gossip->body, &gossip_json)) << gossip->body;
  const json::Value& member = gossip_json.Find("members")->items().at(0);
  EXPECT_EQ(member.Find("httpEndPointPort")->AsUint64(),
            static_cast<uint64_t>(server_->port()));
  EXPECT_EQ(member.Find("instanceId")->string_value(),
            server_->instance_id().ToString());

  endpoint.Detach();
  auto after = client.Get("/metrics");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 503);
  endpoint.Stop();
}

class HttpEndpointAuthTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    authenticate_ = true;
    StartServer(ServerOptions());
    UserStore users(store_.get());
    UserRecord record;
    record.login = "carol";
    record.password_hash =
        HashPassword("pw", MinimumPasswordHashCost()).value();
    ASSERT_TRUE(users.Create(record).ok());
  }
};

TEST_F(HttpEndpointAuthTest, StatsNeedsAUsersCredentialsAndInfoSaysSo) {
  HttpEndpoint endpoint;
  ASSERT_TRUE(endpoint.Start({"127.0.0.1", 0}).ok());
  endpoint.Attach(store_.get(), server_.get());
  httplib::Client client("127.0.0.1", endpoint.port());
  auto anonymous = client.Get("/stats");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"),
            R"(Basic realm="cairn")");
  client.set_basic_auth("carol", "wrong");
  auto wrong = client.Get("/stats");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  client.set_basic_auth("carol", "pw");
  auto right = client.Get("/stats");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  // The other pages stay anonymous, as KurrentDB's.
  httplib::Client plain("127.0.0.1", endpoint.port());
  auto metrics = plain.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  auto info = plain.Get("/info");
  ASSERT_TRUE(info);
  EXPECT_NE(info->body.find(R"("userManagement":true)"), std::string::npos)
      << info->body;
  EXPECT_NE(info->body.find(R"("type":"internal")"), std::string::npos)
      << info->body;
  endpoint.Detach();
  endpoint.Stop();
}

}  // namespace
}  // namespace cairn::server
