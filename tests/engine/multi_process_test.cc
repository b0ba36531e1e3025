// Copyright (c) Cairn authors.
//
// The writer lock and the read-only opener that follows a live writer.
#include <gtest/gtest.h>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::Events;

TEST(MultiProcessTest, SecondWriterIsLocked) {
  testing::TempDir dir;
  auto first = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(first.ok());
  auto second = Store::Open(dir.Sub("s"), testing::SmallOptions());
  EXPECT_TRUE(second.status().IsLocked()) << second.status().ToString();
  CAIRN_ASSERT_OK((*first)->Close());
  auto third = Store::Open(dir.Sub("s"), testing::SmallOptions());
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST(MultiProcessTest, ReadOnlyOpenerFollowsWriter) {
  testing::TempDir dir;
  Options options = testing::SmallOptions();
  auto writer = Store::Open(dir.Sub("s"), options);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("a", ExpectedVersion::Any(), Events(5)).ok());

  Options ro = options;
  ro.read_only = true;
  auto reader = Store::Open(dir.Sub("s"), ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto stats = (*reader)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 5u);

  // Appends made after the reader opened show up on its next read,
  // across segment rolls too.
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE((*writer)
                    ->Append("b-" + std::to_string(i % 5),
                             ExpectedVersion::Any(),
                             {Event("Big", std::string(1500, 'z'))})
                    .ok());
  }
  auto all = (*reader)->ReadAll(testing::AllUpTo(10000));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->events.size(), 405u);
  auto stream = (*reader)->ReadStream("b-3", {});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->events.size(), 80u);

  auto refused = (*reader)->Append("a", ExpectedVersion::Any(), Events(1));
  EXPECT_TRUE(refused.status().IsReadOnly());
  EXPECT_TRUE((*reader)->Sync().ok());
}

TEST(MultiProcessTest, ReadOnlyOpenOfMissingStore) {
  testing::TempDir dir;
  Options ro;
  ro.read_only = true;
  EXPECT_TRUE(Store::Open(dir.Sub("none"), ro).status().IsNotFound());
}

TEST(MultiProcessTest, ReadOnlyOpenWithoutWriterSeesEverything) {
  testing::TempDir dir;
  {
    auto writer = Store::Open(dir.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("a", ExpectedVersion::Any(), Events(7)).ok());
  }
  Options ro = testing::SmallOptions();
  ro.read_only = true;
  auto reader = Store::Open(dir.Sub("s"), ro);
  ASSERT_TRUE(reader.ok());
  auto read = (*reader)->ReadStream("a", {});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events.size(), 7u);
}

}  // namespace
}  // namespace cairn
