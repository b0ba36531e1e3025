// Copyright (c) Cairn authors.
#include "server/authenticator.h"

#include <gtest/gtest.h>

#include <string>

#include "cairn/cairn.h"
#include "server/password_hash.h"
#include "tests/server/credentials_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

using testing::Basic;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path(), Options());
    ASSERT_TRUE(store.ok());
    store_ = std::move(store.value());
    users_ = std::make_unique<UserStore>(store_.get());
    AddUser("ann", "secret", {"$admins"});
    AddUser("bob", "hunter2", {"readers"});
  }
  void TearDown() override { EXPECT_TRUE(store_->Close().ok()); }

  void AddUser(const std::string& login, const std::string& password,
               std::vector<std::string> groups) {
    UserRecord record;
    record.login = login;
    record.groups = std::move(groups);
    record.password_hash =
        HashPassword(password, MinimumPasswordHashCost()).value();
    ASSERT_TRUE(users_->Create(record).ok());
  }

  void Change(const std::string& login,
              const std::function<void(UserRecord*)>& edit) {
    auto found = users_->Find(login);
    ASSERT_TRUE(found.ok() && found.value());
    UserRecord record = found.value()->record;
    edit(&record);
    ASSERT_TRUE(users_->Update(record, found.value()->revision).ok());
  }

  cairn::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<UserStore> users_;
};

TEST_F(AuthenticatorTest, NoCredentialsIsAnonymous) {
  Authenticator auth(store_.get(), true, {});
  Principal principal;
  principal.login = "stale";
  ASSERT_EQ(auth.Authenticate(std::nullopt, &principal).code,
            grpc::StatusCode::OK);
  EXPECT_TRUE(principal.anonymous());
  EXPECT_FALSE(principal.IsAdmin());
}

TEST_F(AuthenticatorTest, RightCredentialsNameTheUserAndGroups) {
  Authenticator auth(store_.get(), true, {});
  Principal principal;
  ASSERT_EQ(auth.Authenticate(Basic("ann:secret"), &principal).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(principal.login, "ann");
  EXPECT_TRUE(principal.IsAdmin());
  // The scheme is case-insensitive; a password may hold ':'.
  AddUser("cy", "a:b", {});
  std::string lower = Basic("cy:a:b");
  lower[0] = 'b';
  ASSERT_EQ(auth.Authenticate(lower, &principal).code, grpc::StatusCode::OK);
  EXPECT_EQ(principal.login, "cy");
  EXPECT_FALSE(principal.IsAdmin());
}

TEST_F(AuthenticatorTest, WrongOrMalformedCredentialsAreUnauthenticated) {
  Authenticator auth(store_.get(), true, {});
  for (const std::string& header :
       {Basic("ann:Secret"), Basic("ann:"), Basic("nobody:secret"),
        Basic(std::string(5000, 'x') + ":secret"), Basic("a\nb:secret"),
        Basic("annsecret"), Basic(":secret"), std::string("Basic !!!"),
        std::string("Bearer abc"), std::string("Basic"), std::string("")}) {
    Principal principal;
    RpcError outcome = auth.Authenticate(header, &principal);
    EXPECT_EQ(outcome.code, grpc::StatusCode::UNAUTHENTICATED) << header;
    EXPECT_EQ(outcome.message, "Unauthenticated");
    EXPECT_TRUE(outcome.trailers.empty());
  }
}

TEST_F(AuthenticatorTest, DisabledOrDeletedUserIsUnauthenticated) {
  Authenticator auth(store_.get(), true, {});
  Principal principal;
  ASSERT_EQ(auth.Authenticate(Basic("bob:hunter2"), &principal).code,
            grpc::StatusCode::OK);
  Change("bob", [](UserRecord* record) { record->disabled = true; });
  // Cached, yet refused: the disabled state is read on every call.
  EXPECT_EQ(auth.Authenticate(Basic("bob:hunter2"), &principal).code,
            grpc::StatusCode::UNAUTHENTICATED);
  Change("bob", [](UserRecord* record) { record->disabled = false; });
  EXPECT_EQ(auth.Authenticate(Basic("bob:hunter2"), &principal).code,
            grpc::StatusCode::OK);
  auto found = users_->Find("bob");
  ASSERT_TRUE(users_->Delete("bob", found.value()->revision).ok());
  EXPECT_EQ(auth.Authenticate(Basic("bob:hunter2"), &principal).code,
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthenticatorTest, VerifiedPairsSkipTheHashUntilThePasswordChanges) {
  Authenticator auth(store_.get(), true, {});
  Principal principal;
  ASSERT_EQ(auth.Authenticate(Basic("ann:secret"), &principal).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(auth.hashes_verified(), 1u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(auth.Authenticate(Basic("ann:secret"), &principal).code,
              grpc::StatusCode::OK);
  }
  EXPECT_EQ(auth.hashes_verified(), 1u);
  EXPECT_EQ(auth.cached_pairs(), 1u);
  // Wrong passwords are never cached as right.
  EXPECT_EQ(auth.Authenticate(Basic("ann:wrong"), &principal).code,
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.hashes_verified(), 2u);

  Change("ann", [](UserRecord* record) {
    record->password_hash =
        HashPassword("new", MinimumPasswordHashCost()).value();
  });
  EXPECT_EQ(auth.Authenticate(Basic("ann:secret"), &principal).code,
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_EQ(auth.Authenticate(Basic("ann:new"), &principal).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(principal.login, "ann");
}

TEST_F(AuthenticatorTest, CacheStaysWithinItsBound) {
  Authenticator auth(store_.get(), true, {.cached_pairs = 2});
  AddUser("cy", "pw", {});
  Principal principal;
  for (const char* credentials : {"ann:secret", "bob:hunter2", "cy:pw"}) {
    ASSERT_EQ(auth.Authenticate(Basic(credentials), &principal).code,
              grpc::StatusCode::OK);
  }
  EXPECT_EQ(auth.cached_pairs(), 2u);
  EXPECT_EQ(auth.hashes_verified(), 3u);
  // The least recently used pair went: ann verifies again.
  ASSERT_EQ(auth.Authenticate(Basic("cy:pw"), &principal).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(auth.hashes_verified(), 3u);
  ASSERT_EQ(auth.Authenticate(Basic("ann:secret"), &principal).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(auth.hashes_verified(), 4u);
}

TEST_F(AuthenticatorTest, DamagedHashIsDataLossNotAccess) {
  Change("bob", [](UserRecord* record) {
    record->password_hash = "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdA$aGFzaA";
  });
  Authenticator auth(store_.get(), true, {});
  Principal principal;
  EXPECT_EQ(auth.Authenticate(Basic("bob:hunter2"), &principal).code,
            grpc::StatusCode::DATA_LOSS);
  EXPECT_TRUE(principal.anonymous());
}

TEST_F(AuthenticatorTest, OffMeansUnrestrictedWhateverTheCredentials) {
  Authenticator auth(store_.get(), false, {});
  Principal principal;
  ASSERT_EQ(auth.Authenticate(Basic("ann:wrong"), &principal).code,
            grpc::StatusCode::OK);
  EXPECT_TRUE(principal.unrestricted);
  EXPECT_TRUE(principal.IsAdmin());
  EXPECT_FALSE(principal.anonymous());
  EXPECT_EQ(auth.hashes_verified(), 0u);
}

}  // namespace
}  // namespace cairn::server
