// Copyright (c) Cairn authors.
#include "server/stream_access.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/password_hash.h"
#include "server/user_store.h"
#include "tests/server/credentials_test_util.h"
#include "tests/server/server_test_util.h"

namespace cairn::server {
namespace {

using testing::Basic;
namespace streams = event_store::client::streams;

Principal User(std::string login, std::vector<std::string> groups = {}) {
  Principal principal;
  principal.login = std::move(login);
  principal.groups = std::move(groups);
  return principal;
}

class StreamAccessTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    authenticate_ = true;
    StartServer(ServerOptions());
    UserStore users(store_.get());
    for (auto [login, group] :
         {std::pair{"root", "$admins"}, std::pair{"bob", "readers"}}) {
      UserRecord record;
      record.login = login;
      record.groups = {group};
      record.password_hash =
          HashPassword("pw", MinimumPasswordHashCost()).value();
      ASSERT_TRUE(users.Create(record).ok());
    }
  }

  grpc::StatusCode Allowed(const Principal& principal,
                           const std::string& stream, StreamRight right) {
    return StreamAccess(store_.get()).Check(principal, stream, right).code;
  }

  void SetAcl(const std::string& stream, const std::string& acl) {
    ASSERT_TRUE(store_
                    ->SetStreamMetadataJson(stream, ExpectedVersion::Any(),
                                            R"({"$acl":)" + acl + "}")
                    .ok());
  }

  void SetSettings(const std::string& json) {
    EventData event;
    event.type = "$settings";
    event.data = json;
    ASSERT_TRUE(
        store_->Append("$settings", ExpectedVersion::Any(), {event}).ok());
  }

  grpc::Status AppendAs(const std::string& credentials,
                        const std::string& stream) {
    grpc::ClientContext context;
    if (!credentials.empty()) {
      context.AddMetadata("authorization", Basic(credentials));
    }
    streams::AppendResp response;
    return Append(AnyOptions(stream), {Proposed("E")}, &response, &context);
  }

  grpc::Status ReadAs(const std::string& credentials,
                      const std::string& stream) {
    grpc::ClientContext context;
    if (!credentials.empty()) {
      context.AddMetadata("authorization", Basic(credentials));
    }
    auto reader = stub_->Read(&context, ReadRequest(stream));
    streams::ReadResp response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  }
};

TEST_F(StreamAccessTest, DefaultsAllowUsersTheirStreamsAndAdminsEverything) {
  const Principal bob = User("bob", {"readers"});
  const Principal root = User("root", {"$admins"});
  for (StreamRight right :
       {StreamRight::kRead, StreamRight::kWrite, StreamRight::kDelete,
        StreamRight::kMetaRead, StreamRight::kMetaWrite}) {
    EXPECT_EQ(Allowed(bob, "orders", right), grpc::StatusCode::OK);
    EXPECT_EQ(Allowed(bob, "$secret", right),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Allowed(root, "$secret", right), grpc::StatusCode::OK);
    EXPECT_EQ(Allowed(Principal(), "orders", right),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(Allowed(bob, "$all", StreamRight::kRead),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Allowed(bob, "$all", StreamRight::kWrite),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Allowed(root, "$all", StreamRight::kRead), grpc::StatusCode::OK);
  Principal unrestricted;
  unrestricted.unrestricted = true;
  EXPECT_EQ(Allowed(unrestricted, "$secret", StreamRight::kWrite),
            grpc::StatusCode::OK);
}

TEST_F(StreamAccessTest, StreamAclNamesUsersGroupsOrEveryone) {
  SetAcl("ledger", R"({"$r":["readers"],"$w":"carol","$d":[],"$mr":"$all"})");
  const Principal bob = User("bob", {"readers"});
  const Principal carol = User("carol");
  EXPECT_EQ(Allowed(bob, "ledger", StreamRight::kRead), grpc::StatusCode::OK);
  EXPECT_EQ(Allowed(carol, "ledger", StreamRight::kRead),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Allowed(carol, "ledger", StreamRight::kWrite),
            grpc::StatusCode::OK);
  EXPECT_EQ(Allowed(bob, "ledger", StreamRight::kWrite),
            grpc::StatusCode::PERMISSION_DENIED);
  // An empty list allows no one (but admins).
  EXPECT_EQ(Allowed(carol, "ledger", StreamRight::kDelete),
            grpc::StatusCode::PERMISSION_DENIED);
  // $$ledger is ledger's metadata: $mr for reads, $mw (the default) for
  // writes.
  EXPECT_EQ(Allowed(carol, "$$ledger", StreamRight::kRead),
            grpc::StatusCode::OK);
  EXPECT_EQ(Allowed(carol, "$$ledger", StreamRight::kWrite),
            grpc::StatusCode::OK);
  // A changed ACL applies at once.
  SetAcl("ledger", R"({"$r":"carol"})");
  EXPECT_EQ(Allowed(bob, "ledger", StreamRight::kRead),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Allowed(carol, "ledger", StreamRight::kRead), grpc::StatusCode::OK);
}

TEST_F(StreamAccessTest, SettingsReplaceTheDefaultsAndFailClosed) {
  const Principal bob = User("bob", {"readers"});
  SetSettings(R"({"$userStreamAcl":{"$r":"$all","$w":"writers"},)"
              R"("$systemStreamAcl":{"$r":["readers"]}})");
  EXPECT_EQ(Allowed(bob, "orders", StreamRight::kRead), grpc::StatusCode::OK);
  EXPECT_EQ(Allowed(bob, "orders", StreamRight::kWrite),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Allowed(bob, "$stats", StreamRight::kRead), grpc::StatusCode::OK);
  // A right the settings leave out keeps the built-in default.
  EXPECT_EQ(Allowed(bob, "orders", StreamRight::kDelete), grpc::StatusCode::OK);
  EXPECT_EQ(Allowed(bob, "$stats", StreamRight::kWrite),
            grpc::StatusCode::PERMISSION_DENIED);
  // Settings that are not settings allow nothing.
  SetSettings(R"({"$userStreamAcl":{"$r":7}})");
  EXPECT_EQ(Allowed(bob, "orders", StreamRight::kRead),
            grpc::StatusCode::PERMISSION_DENIED);
  SetSettings(R"(not json)");
  EXPECT_EQ(Allowed(bob, "orders", StreamRight::kWrite),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StreamAccessTest, AclChangeEndsALiveSubscription) {
  Seed("ledger", 1);
  auto request = ReadRequest("ledger");
  request.mutable_options()->mutable_subscription();
  grpc::ClientContext context;
  context.AddMetadata("authorization", Basic("bob:pw"));
  auto reader = stub_->Read(&context, request);
  streams::ReadResp response;
  ASSERT_TRUE(reader->Read(&response));  // confirmation
  ASSERT_TRUE(reader->Read(&response));  // the event
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_caught_up());
  Seed("ledger", 1);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.event().event().stream_revision(), 1u);
  SetAcl("ledger", R"({"$r":"root"})");
  Seed("ledger", 1);
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Trailer(context, "exception"), "access-denied");
}

TEST_F(StreamAccessTest, EveryStreamsCallIsChecked) {
  SetAcl("ledger", R"({"$r":"root","$w":"root","$d":"root"})");
  EXPECT_EQ(AppendAs("", "orders").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(AppendAs("bob:pw", "orders").ok());
  grpc::ClientContext denied;
  denied.AddMetadata("authorization", Basic("bob:pw"));
  streams::AppendResp response;
  grpc::Status status =
      Append(AnyOptions("ledger"), {Proposed("E")}, &response, &denied);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Trailer(denied, "exception"), "access-denied");
  EXPECT_TRUE(AppendAs("root:pw", "ledger").ok());

  EXPECT_TRUE(ReadAs("bob:pw", "orders").ok());
  EXPECT_EQ(ReadAs("bob:pw", "ledger").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReadAs("bob:pw", "$all").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReadAs("", "orders").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(ReadAs("root:pw", "$all").ok());
  // User records are system streams: admins only.
  EXPECT_EQ(ReadAs("bob:pw", "$user-root").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  streams::DeleteReq remove;
  remove.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "ledger");
  remove.mutable_options()->mutable_any();
  streams::DeleteResp removed;
  grpc::ClientContext as_bob;
  as_bob.AddMetadata("authorization", Basic("bob:pw"));
  EXPECT_EQ(stub_->Delete(&as_bob, remove, &removed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext as_root;
  as_root.AddMetadata("authorization", Basic("root:pw"));
  EXPECT_TRUE(stub_->Delete(&as_root, remove, &removed).ok());

  // BatchAppend answers in the response, with the AccessDenied detail.
  grpc::ClientContext batch;
  batch.AddMetadata("authorization", Basic("bob:pw"));
  auto stream = stub_->BatchAppend(&batch);
  ASSERT_TRUE(stream->Write(
      testing::Chunk(EventId::Generate().ToString(), "$secret", 1, true)));
  streams::BatchAppendResp reply;
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(),
            static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_TRUE(reply.error().details().Is<event_store::client::AccessDenied>());
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace cairn::server
