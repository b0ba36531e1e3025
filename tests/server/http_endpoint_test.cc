// Copyright (c) Cairn authors.
#include "server/http_endpoint.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "cairn/version.h"

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

TEST(HttpEndpointTest, ABusyPortIsAnError) {
  HttpEndpoint first;
  ASSERT_TRUE(first.Start({"127.0.0.1", 0}).ok());
  HttpEndpoint second;
  auto port = static_cast<uint16_t>(first.port());
  EXPECT_TRUE(second.Start({"127.0.0.1", port}).IsIOError());
}

}  // namespace
}  // namespace cairn::server
