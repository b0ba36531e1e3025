// Copyright (c) Cairn authors.
#include "server/users_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/server/credentials_test_util.h"
#include "tests/server/server_test_util.h"
#include "users.grpc.pb.h"

namespace cairn::server {
namespace {

namespace users = event_store::client::users;
namespace streams = event_store::client::streams;

using testing::Basic;

class UsersServiceTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    authenticate_ = true;
    ServerOptions options;
    options.password_cost = MinimumPasswordHashCost();
    StartServer(options);
    users_stub_ = users::Users::NewStub(channel_);
    UserStore store(store_.get());
    for (auto [login, group] :
         {std::pair{"root", "$admins"}, std::pair{"bob", "readers"}}) {
      UserRecord record;
      record.login = login;
      record.full_name = std::string("Full ") + login;
      record.groups = {group};
      record.password_hash =
          HashPassword("pw-" + record.login, MinimumPasswordHashCost()).value();
      ASSERT_TRUE(store.Create(record).ok());
    }
  }

  // A context with credentials (empty: none).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& login) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!login.empty()) {
      context->AddMetadata("authorization", Basic(login + ":pw-" + login));
    }
    return context;
  }

  grpc::Status Create(const std::string& as, const std::string& login,
                      const std::string& password,
                      const std::vector<std::string>& groups = {}) {
    users::CreateReq request;
    request.mutable_options()->set_login_name(login);
    request.mutable_options()->set_password(password);
    request.mutable_options()->set_full_name("Full " + login);
    for (const std::string& group : groups) {
      request.mutable_options()->add_groups(group);
    }
    users::CreateResp response;
    return users_stub_->Create(As(as).get(), request, &response);
  }

  grpc::Status Details(const std::string& as, const std::string& login,
                       std::vector<users::DetailsResp::UserDetails>* out) {
    users::DetailsReq request;
    request.mutable_options()->set_login_name(login);
    auto context = As(as);
    auto reader = users_stub_->Details(context.get(), request);
    users::DetailsResp response;
    while (reader->Read(&response)) out->push_back(response.user_details());
    return reader->Finish();
  }

  // Appends one event to "s" as `credentials` ("" for none).
  grpc::Status AppendAs(const std::string& credentials) {
    grpc::ClientContext context;
    if (!credentials.empty()) {
      context.AddMetadata("authorization", Basic(credentials));
    }
    streams::AppendResp response;
    return Append(AnyOptions("s"), {Proposed("E")}, &response, &context);
  }

  std::unique_ptr<users::Users::Stub> users_stub_;
};

TEST_F(UsersServiceTest, StreamsCallsAreAuthenticated) {
  // Anonymous calls are authenticated as such, and denied streams.
  EXPECT_EQ(AppendAs("").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(AppendAs("bob:pw-bob").ok());
  grpc::Status wrong = AppendAs("bob:nope");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message(), "Unauthenticated");
  EXPECT_EQ(AppendAs("nobody:x").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Reads too: the refusal ends the call before any event.
  grpc::ClientContext context;
  context.AddMetadata("authorization", Basic("root:wrong"));
  auto reader = stub_->Read(&context, ReadRequest("s"));
  streams::ReadResp response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(UsersServiceTest, AdminManagesUsers) {
  ASSERT_TRUE(Create("root", "carol", "pw-carol", {"readers"}).ok());
  grpc::ClientContext conflict;
  users::CreateReq again;
  again.mutable_options()->set_login_name("carol");
  again.mutable_options()->set_password("x");
  users::CreateResp created;
  grpc::Status status = users_stub_->Create(As("root").get(), again, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  std::vector<users::DetailsResp::UserDetails> details;
  ASSERT_TRUE(Details("root", "carol", &details).ok());
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].full_name(), "Full carol");
  EXPECT_EQ(details[0].groups_size(), 1);
  EXPECT_FALSE(details[0].disabled());
  EXPECT_GT(details[0].last_updated().ticks_since_epoch(), 0);
  // The new user can log in.
  EXPECT_TRUE(AppendAs("carol:pw-carol").ok());

  users::UpdateReq update;
  update.mutable_options()->set_login_name("carol");
  update.mutable_options()->set_full_name("Carol C");
  update.mutable_options()->add_groups("$ops");
  users::UpdateResp updated;
  ASSERT_TRUE(users_stub_->Update(As("root").get(), update, &updated).ok());

  users::DisableReq disable;
  disable.mutable_options()->set_login_name("carol");
  users::DisableResp disabled;
  ASSERT_TRUE(users_stub_->Disable(As("root").get(), disable, &disabled).ok());
  EXPECT_EQ(AppendAs("carol:pw-carol").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  details.clear();
  ASSERT_TRUE(Details("root", "", &details).ok());
  ASSERT_EQ(details.size(), 3u);
  EXPECT_EQ(details[2].login_name(), "carol");
  EXPECT_EQ(details[2].full_name(), "Carol C");
  EXPECT_EQ(details[2].groups(0), "$ops");
  EXPECT_TRUE(details[2].disabled());

  users::EnableReq enable;
  enable.mutable_options()->set_login_name("carol");
  users::EnableResp enabled;
  ASSERT_TRUE(users_stub_->Enable(As("root").get(), enable, &enabled).ok());
  EXPECT_TRUE(AppendAs("carol:pw-carol").ok());

  users::ResetPasswordReq reset;
  reset.mutable_options()->set_login_name("carol");
  reset.mutable_options()->set_new_password("fresh");
  users::ResetPasswordResp was_reset;
  ASSERT_TRUE(
      users_stub_->ResetPassword(As("root").get(), reset, &was_reset).ok());
  EXPECT_EQ(AppendAs("carol:pw-carol").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(AppendAs("carol:fresh").ok());

  users::DeleteReq remove;
  remove.mutable_options()->set_login_name("carol");
  users::DeleteResp removed;
  ASSERT_TRUE(users_stub_->Delete(As("root").get(), remove, &removed).ok());
  EXPECT_EQ(AppendAs("carol:fresh").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext missing_context;
  missing_context.AddMetadata("authorization", Basic("root:pw-root"));
  status = users_stub_->Delete(&missing_context, remove, &removed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Trailer(missing_context, "exception"), "user-not-found");
  EXPECT_EQ(Trailer(missing_context, "login-name"), "carol");
  details.clear();
  ASSERT_TRUE(Details("root", "", &details).ok());
  EXPECT_EQ(details.size(), 2u);
}

TEST_F(UsersServiceTest, OthersAreDeniedWhatIsForAdmins) {
  for (const std::string& as : {std::string(), std::string("bob")}) {
    auto context = As(as);
    users::CreateReq request;
    request.mutable_options()->set_login_name("eve");
    request.mutable_options()->set_password("x");
    users::CreateResp response;
    grpc::Status status =
        users_stub_->Create(context.get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << as;
    EXPECT_EQ(Trailer(*context, "exception"), "access-denied");
    std::vector<users::DetailsResp::UserDetails> details;
    EXPECT_EQ(Details(as, "", &details).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Details(as, "root", &details).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // A user reads its own details.
  std::vector<users::DetailsResp::UserDetails> own;
  ASSERT_TRUE(Details("bob", "bob", &own).ok());
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].login_name(), "bob");
  // Wrong credentials are UNAUTHENTICATED, not denied.
  grpc::ClientContext wrong;
  wrong.AddMetadata("authorization", Basic("root:bad"));
  users::DeleteReq remove;
  remove.mutable_options()->set_login_name("bob");
  users::DeleteResp removed;
  EXPECT_EQ(users_stub_->Delete(&wrong, remove, &removed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(UsersServiceTest, ChangePasswordNeedsTheCurrentOne) {
  users::ChangePasswordReq request;
  request.mutable_options()->set_login_name("bob");
  request.mutable_options()->set_current_password("wrong");
  request.mutable_options()->set_new_password("next");
  users::ChangePasswordResp response;
  EXPECT_EQ(users_stub_->ChangePassword(As("bob").get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Not someone else's password, even with the right current one.
  ASSERT_TRUE(Create("root", "carol", "pw-carol").ok());
  request.mutable_options()->set_current_password("pw-bob");
  EXPECT_EQ(users_stub_->ChangePassword(As("carol").get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      users_stub_->ChangePassword(As("bob").get(), request, &response).ok());
  EXPECT_EQ(AppendAs("bob:pw-bob").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(AppendAs("bob:next").ok());
}

TEST_F(UsersServiceTest, EveryFieldIsValidated) {
  const std::string long_name(129, 'a');
  for (const std::string& login : {std::string(), long_name, std::string("a:b"),
                                   std::string("tab\there")}) {
    EXPECT_EQ(Create("root", login, "pw").error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << login;
  }
  // Strings that are not UTF-8 fail protobuf's parse before the handler
  // runs (which checks them too).
  for (const std::string& login :
       {std::string("bad\xff"), std::string("\xc0\xaf")}) {
    EXPECT_FALSE(Create("root", login, "pw").ok()) << login;
  }
  EXPECT_EQ(Create("root", "ann", "").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("root", "ann", std::string(1025, 'p')).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("root", "ann", "pw", {""}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("root", "ann", "pw", std::vector<std::string>(65, "g"))
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  users::CreateReq request;
  request.mutable_options()->set_login_name("ann");
  request.mutable_options()->set_password("pw");
  request.mutable_options()->set_full_name("bad\xed\xa0\x80");
  users::CreateResp response;
  EXPECT_FALSE(users_stub_->Create(As("root").get(), request, &response).ok());
  users::ResetPasswordReq reset;
  reset.mutable_options()->set_login_name("bob");
  users::ResetPasswordResp was_reset;
  EXPECT_EQ(users_stub_->ResetPassword(As("root").get(), reset, &was_reset)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing was written: only the two users of the fixture exist.
  std::vector<users::DetailsResp::UserDetails> details;
  ASSERT_TRUE(Details("root", "", &details).ok());
  EXPECT_EQ(details.size(), 2u);
  // A UTF-8 full name and login are fine.
  EXPECT_TRUE(Create("root", "zoë", "pw", {"équipe"}).ok());
}

// A login that is not printable ASCII comes back percent-encoded in the
// `login-name` trailer: gRPC aborts the process on such a metadata value.
TEST_F(UsersServiceTest, ALoginThatIsNotAsciiIsEncodedInTheTrailer) {
  ASSERT_TRUE(Create("root", "zo\xc3\xab", "pw").ok());
  grpc::ClientContext conflict_context;
  conflict_context.AddMetadata("authorization", Basic("root:pw-root"));
  users::CreateReq create;
  create.mutable_options()->set_login_name("zo\xc3\xab");
  create.mutable_options()->set_password("pw");
  create.mutable_options()->set_full_name("Zoe");
  users::CreateResp created;
  EXPECT_EQ(
      users_stub_->Create(&conflict_context, create, &created).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Trailer(conflict_context, "exception"), "user-conflict");
  EXPECT_EQ(Trailer(conflict_context, "login-name"), "zo%C3%AB");

  users::DetailsReq request;
  request.mutable_options()->set_login_name("u\xcf\x85z");
  auto context = As("root");
  auto reader = users_stub_->Details(context.get(), request);
  users::DetailsResp response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Trailer(*context, "exception"), "user-not-found");
  EXPECT_EQ(Trailer(*context, "login-name"), "u%CF%85z");
}

TEST_F(UsersServiceTest, WithoutAuthenticationEveryCallIsAllowed) {
  ServerOptions options;
  options.authentication = false;
  options.password_cost = MinimumPasswordHashCost();
  StartServer(options);
  users_stub_ = users::Users::NewStub(channel_);
  EXPECT_TRUE(Create("", "dan", "pw").ok());
  EXPECT_TRUE(AppendAs("root:wrong").ok());
}

}  // namespace
}  // namespace cairn::server
