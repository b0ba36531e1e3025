// Copyright (c) Cairn authors.
#include "server/info_services.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using InfoServicesTest = ServerTest;

TEST_F(InfoServicesTest, ServerFeaturesListsExactlyTheWorkingMethods) {
  auto stub =
      event_store::client::server_features::ServerFeatures::NewStub(channel_);
  grpc::ClientContext context;
  event_store::client::server_features::SupportedMethods methods;
  ASSERT_TRUE(stub->GetSupportedMethods(&context, {}, &methods).ok());
  std::set<std::string> names;
  for (const auto& method : methods.methods()) {
    names.insert(method.service_name() + "/" + method.method_name());
  }
  EXPECT_TRUE(names.count("event_store.client.streams.streams/batchappend"));
  EXPECT_TRUE(names.count("event_store.client.streams.streams/read"));
  EXPECT_TRUE(names.count("event_store.client.streams.streams/delete"));
  EXPECT_TRUE(names.count("event_store.client.streams.streams/tombstone"));
  EXPECT_TRUE(names.count("event_store.client.users.users/create"));
  EXPECT_TRUE(names.count("event_store.client.users.users/details"));
  EXPECT_TRUE(names.count("event_store.client.users.users/resetpassword"));
  for (const char* method :
       {"startscavenge", "stopscavenge", "shutdown", "mergeindexes",
        "restartpersistentsubscriptions"}) {
    EXPECT_TRUE(names.count(
        std::string("event_store.client.operations.operations/") + method))
        << method;
  }
  EXPECT_FALSE(
      names.count("event_store.client.operations.operations/resignnode"));
  // Every PersistentSubscriptions method, with the features "stream" and
  // "all" the Node clients look for.
  for (const auto& method : methods.methods()) {
    if (method.service_name().find("persistent") == std::string::npos) {
      continue;
    }
    EXPECT_EQ(std::set<std::string>(method.features().begin(),
                                    method.features().end()),
              (std::set<std::string>{"stream", "all"}))
        << method.method_name();
  }
  for (const char* method : {"create", "update", "delete", "read", "getinfo",
                             "replayparked", "list", "restartsubsystem"}) {
    EXPECT_TRUE(
        names.count(std::string("event_store.client.persistent_subscriptions."
                                "persistentsubscriptions/") +
                    method))
        << method;
  }
  // Services the server does not register are not listed.
  for (const std::string& name : names) {
    EXPECT_EQ(name.find("projections"), std::string::npos) << name;
  }
  // Numeric X.Y.Z: clients parse it.
  EXPECT_EQ(methods.event_store_server_version(), "24.10.0");
}

TEST_F(InfoServicesTest, GossipDescribesOneLeader) {
  auto stub = event_store::client::gossip::Gossip::NewStub(channel_);
  grpc::ClientContext context;
  event_store::client::gossip::ClusterInfo info;
  ASSERT_TRUE(stub->Read(&context, {}, &info).ok());
  ASSERT_EQ(info.members_size(), 1);
  EXPECT_EQ(info.members(0).state(),
            event_store::client::gossip::MemberInfo::Leader);
  EXPECT_TRUE(info.members(0).is_alive());
  EXPECT_EQ(info.members(0).http_end_point().port(),
            static_cast<uint32_t>(server_->port()));
}

}  // namespace
}  // namespace cairn::server::testing
