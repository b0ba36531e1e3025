// Copyright (c) Cairn authors.
#include "server/user_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path(), Options());
    ASSERT_TRUE(store.ok());
    store_ = std::move(store.value());
  }
  void TearDown() override { EXPECT_TRUE(store_->Close().ok()); }

  static UserRecord Record(const std::string& login) {
    UserRecord record;
    record.login = login;
    record.full_name = "Full " + login;
    record.groups = {"readers", "$ops"};
    record.password_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
    return record;
  }

  cairn::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(UserStoreTest, RecordRoundTripsThroughJson) {
  UserRecord record = Record("ann");
  record.disabled = true;
  auto parsed = UserRecordFromJson(UserRecordToJson(record));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->login, "ann");
  EXPECT_EQ(parsed->full_name, "Full ann");
  EXPECT_EQ(parsed->groups, record.groups);
  EXPECT_TRUE(parsed->disabled);
  EXPECT_EQ(parsed->password_hash, record.password_hash);
  EXPECT_TRUE(parsed->InGroup("$ops"));
  EXPECT_FALSE(parsed->InGroup("$admins"));
}

TEST_F(UserStoreTest, MalformedRecordIsCorruption) {
  for (const char* json :
       {"", "[]", "{", R"({"FullName":"x"})", R"({"LoginName":1})",
        R"({"LoginName":"a","Groups":"g"})",
        R"({"LoginName":"a","Groups":[1]})",
        R"({"LoginName":"a","Disabled":"no"})",
        R"({"LoginName":"a","PasswordHash":7})"}) {
    auto parsed = UserRecordFromJson(json);
    ASSERT_FALSE(parsed.ok()) << json;
    EXPECT_TRUE(parsed.status().IsCorruption()) << json;
  }
}

TEST_F(UserStoreTest, CreateFindUpdateDelete) {
  UserStore users(store_.get());
  auto missing = users.Find("ann");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing.value());

  ASSERT_TRUE(users.Create(Record("ann")).ok());
  EXPECT_TRUE(users.Create(Record("ann")).IsWrongExpectedVersion());
  auto found = users.Find("ann");
  ASSERT_TRUE(found.ok() && found.value());
  EXPECT_EQ(found.value()->record.full_name, "Full ann");
  EXPECT_EQ(found.value()->revision, StreamRevision(0));
  auto events = store_->ReadStream("$user-ann", {});
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->events[0].type, "$UserCreated");

  UserRecord changed = found.value()->record;
  changed.disabled = true;
  ASSERT_TRUE(users.Update(changed, found.value()->revision).ok());
  // A change based on the old revision loses: never a silent overwrite.
  EXPECT_TRUE(users.Update(found.value()->record, found.value()->revision)
                  .IsWrongExpectedVersion());
  found = users.Find("ann");
  ASSERT_TRUE(found.ok() && found.value());
  EXPECT_TRUE(found.value()->record.disabled);
  EXPECT_EQ(found.value()->revision, StreamRevision(1));

  ASSERT_TRUE(users.Delete("ann", found.value()->revision).ok());
  found = users.Find("ann");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found.value());
  // A new user of the same login starts afresh.
  ASSERT_TRUE(users.Create(Record("ann")).ok());
  found = users.Find("ann");
  ASSERT_TRUE(found.ok() && found.value());
  EXPECT_FALSE(found.value()->record.disabled);
}

TEST_F(UserStoreTest, LoginsListsEachCreatedLoginOnce) {
  UserStore users(store_.get());
  auto none = users.Logins();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(users.Create(Record("bob")).ok());
  ASSERT_TRUE(users.Create(Record("ann")).ok());
  auto found = users.Find("bob");
  ASSERT_TRUE(found.ok() && found.value());
  ASSERT_TRUE(users.Delete("bob", found.value()->revision).ok());
  ASSERT_TRUE(users.Create(Record("bob")).ok());
  auto logins = users.Logins();
  ASSERT_TRUE(logins.ok());
  EXPECT_EQ(logins.value(), (std::vector<std::string>{"bob", "ann"}));
}

TEST_F(UserStoreTest, RecordNamingAnotherUserIsCorruption) {
  EventData event;
  event.type = "$UserCreated";
  event.data = UserRecordToJson(Record("mallory"));
  ASSERT_TRUE(
      store_->Append("$user-ann", ExpectedVersion::NoStream(), {event}).ok());
  UserStore users(store_.get());
  auto found = users.Find("ann");
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(found.status().IsCorruption());
}

}  // namespace
}  // namespace cairn::server
