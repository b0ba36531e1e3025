// Copyright (c) Cairn authors.
//
// Limits and bad input: each is rejected with InvalidArgument before
// anything is written.
#include "engine/src/validation.h"

#include <gtest/gtest.h>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;

TEST(ValidationTest, Options) {
  Options o;
  EXPECT_TRUE(engine::ValidateOptions(o).ok());
  o.segment_size = 1000;
  EXPECT_TRUE(engine::ValidateOptions(o).IsInvalidArgument());
  o = Options();
  o.max_stream_name_length = 70000;
  EXPECT_TRUE(engine::ValidateOptions(o).IsInvalidArgument());
  o = Options();
  o.durability = Durability::kInterval;
  o.sync_interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(engine::ValidateOptions(o).IsInvalidArgument());
  o = Options();
  EXPECT_EQ(o.max_open_segments, 64u);
  o.max_open_segments = 0;
  EXPECT_TRUE(engine::ValidateOptions(o).IsInvalidArgument());
  o.max_open_segments = 32769;
  EXPECT_TRUE(engine::ValidateOptions(o).IsInvalidArgument());
  o.max_open_segments = 1;
  EXPECT_TRUE(engine::ValidateOptions(o).ok());
}

TEST(ValidationTest, StoreRejectsBadInputAndWritesNothing) {
  testing::TempDir dir;
  Options options = testing::SmallOptions();
  options.max_event_size = 1000;
  options.max_stream_name_length = 16;
  options.max_type_length = 8;
  auto opened = Store::Open(dir.Sub("s"), options);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;

  auto bad = [&](std::string_view stream, std::vector<EventData> events) {
    auto r = store.Append(stream, ExpectedVersion::Any(), events);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    return r.status().message();
  };
  bad("", {Event("T")});
  bad("much-too-long-stream-name", {Event("T")});
  bad("$all", {Event("T")});
  bad("$$s", {Event("T")});
  bad("$ce-s", {Event("T")});
  bad("$et-T", {Event("T")});
  bad("bad\nname", {Event("T")});
  bad("s", {});
  bad("s", {Event("")});
  bad("s", {Event("TooLongType")});
  bad("s", {Event("T\x01")});
  std::string msg = bad("s", {Event("T", std::string(2000, 'x'))});
  EXPECT_NE(msg.find("max_event_size"), std::string::npos) << msg;
  EventId id = EventId::Generate();
  bad("s", {Event("T", "{}", id), Event("T", "{}", id)});
  // An append larger than the per-append limit (half a segment here).
  std::vector<EventData> many;
  for (int i = 0; i < 200; ++i) {
    many.push_back(Event("T", std::string(900, 'y')));
  }
  bad("s", many);

  // The async form reports the same errors.
  auto f = store.AppendFuture("", ExpectedVersion::Any(), {Event("T")});
  EXPECT_TRUE(f.get().status().IsInvalidArgument());

  auto stats = store.GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 0u);
  EXPECT_EQ(stats->bytes, 0u);
}

// KurrentDB's rule: any caller may write a system ('$') stream that the
// store does not derive, and give it metadata.
TEST(ValidationTest, SystemStreamsAreWritable) {
  testing::TempDir dir;
  auto opened = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  auto appended = store.Append("$users", ExpectedVersion::NoStream(),
                               {Event("$User", "admin")});
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  auto metadata = store.SetStreamMetadataJson(
      "$user-admin", ExpectedVersion::NoStream(), R"({"$maxCount":2})");
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  auto read = store.ReadStream("$users", {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->events.size(), 1u);
  EXPECT_EQ(read->events[0].type, "$User");
  auto meta = store.ReadStream("$$$user-admin", {});
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  ASSERT_EQ(meta->events.size(), 1u);
  EXPECT_EQ(meta->events[0].data, R"({"$maxCount":2})");
  // Derived and metadata streams stay refused for every write.
  EXPECT_TRUE(store.Tombstone("$all", ExpectedVersion::Any())
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store.Delete("$$$users", ExpectedVersion::Any())
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store.SetStreamMetadataJson("$ce-x", ExpectedVersion::Any(), "{}")
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace cairn
