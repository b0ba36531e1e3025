// Copyright (c) Cairn authors.
#include "server/bootstrap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "server/password_hash.h"
#include "server/user_store.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

std::vector<std::string> StreamsOfAll(Store* store) {
  auto all = store->ReadAll({});
  EXPECT_TRUE(all.ok());
  std::vector<std::string> streams;
  for (const RecordedEvent& event : all->events) {
    streams.push_back(event.stream);
  }
  return streams;
}

TEST(BootstrapTest, WritesTheSystemEventsOnceWhateverTheRestarts) {
  cairn::testing::TempDir dir;
  auto store = Store::Open(dir.path(), Options());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WriteBootstrapEvents(store->get()).ok());
  const std::vector<std::string> first = StreamsOfAll(store->get());
  EXPECT_EQ(first, (std::vector<std::string>{"$$$user-admin", "$user-admin",
                                             "$$$user-ops", "$user-ops",
                                             "$users", "$users", "$settings"}));
  auto users = (*store)->ReadStream("$users", {});
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->events.size(), 2u);
  EXPECT_EQ(users->events[0].type, "$User");
  EXPECT_EQ(users->events[0].data, "admin");
  auto admin = (*store)->ReadStream("$user-admin", {});
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->events[0].type, "$UserCreated");
  EXPECT_NE(admin->events[0].data.find(R"("LoginName":"admin")"),
            std::string::npos);

  // Again, and after a reopen: nothing more is written.
  ASSERT_TRUE(WriteBootstrapEvents(store->get()).ok());
  ASSERT_TRUE((*store)->Close().ok());
  store = Store::Open(dir.path(), Options());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WriteBootstrapEvents(store->get()).ok());
  EXPECT_EQ(StreamsOfAll(store->get()), first);
}

TEST(BootstrapTest, CompletesAnInterruptedBootstrapWithoutDuplicates) {
  cairn::testing::TempDir dir;
  auto store = Store::Open(dir.path(), Options());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WriteBootstrapEvents(store->get()).ok());
  const std::vector<std::string> complete = StreamsOfAll(store->get());
  auto events = (*store)->ReadAll({});
  ASSERT_TRUE(events.ok());

  // Each prefix of the bootstrap's appends, as a crash after it leaves it
  // (in a fresh store each), completed by the next start.
  for (size_t written = 0; written < complete.size(); ++written) {
    // `$users` is one atomic append.
    if (written > 0 && complete[written] == "$users" &&
        complete[written - 1] == "$users") {
      continue;
    }
    cairn::testing::TempDir other;
    auto copy = Store::Open(other.path(), Options());
    ASSERT_TRUE(copy.ok());
    for (size_t i = 0; i < written; ++i) {
      const RecordedEvent& e = events->events[i];
      if (e.stream.starts_with("$$")) {
        ASSERT_TRUE((*copy)
                        ->SetStreamMetadataJson(e.stream.substr(2),
                                                ExpectedVersion::NoStream(),
                                                e.data)
                        .ok());
        continue;
      }
      EventData data;
      data.id = e.id;
      data.type = e.type;
      data.data = e.data;
      data.content_type = e.content_type;
      ASSERT_TRUE(
          (*copy)->Append(e.stream, ExpectedVersion::Any(), {data}).ok());
    }
    ASSERT_TRUE(WriteBootstrapEvents(copy->get()).ok());
    EXPECT_EQ(StreamsOfAll(copy->get()).size(), complete.size()) << written;
    std::vector<std::string> sorted_got = StreamsOfAll(copy->get());
    std::vector<std::string> sorted_want = complete;
    std::sort(sorted_got.begin(), sorted_got.end());
    std::sort(sorted_want.begin(), sorted_want.end());
    EXPECT_EQ(sorted_got, sorted_want) << written;
  }
}

TEST(BootstrapTest, DefaultPasswordsAreHashedAndReported) {
  cairn::testing::TempDir dir;
  auto store = Store::Open(dir.path(), Options());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WriteBootstrapEvents(store->get()).ok());
  auto admin = (*store)->ReadStream("$user-admin", {});
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->events[0].data.find("changeit"), std::string::npos);
  EXPECT_NE(admin->events[0].data.find("$argon2id$"), std::string::npos);
  auto defaults = UsersWithDefaultPassword(store->get());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.value(), (std::vector<std::string>{"admin", "ops"}));

  UserStore users(store->get());
  auto found = users.Find("admin");
  ASSERT_TRUE(found.ok() && found.value());
  UserRecord record = found.value()->record;
  EXPECT_TRUE(record.InGroup("$admins"));
  record.password_hash =
      HashPassword("other", MinimumPasswordHashCost()).value();
  ASSERT_TRUE(users.Update(record, found.value()->revision).ok());
  defaults = UsersWithDefaultPassword(store->get());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.value(), (std::vector<std::string>{"ops"}));
  EXPECT_TRUE((*store)->Close().ok());
}

}  // namespace
}  // namespace cairn::server
